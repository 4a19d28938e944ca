"""How the pair-network learner drives Lightning: the fold's callbacks, the trainer, and an
interruption (Ctrl-C, SIGTERM) turned into `RunInterrupted` with the checkpoint to resume."""

from __future__ import annotations

import logging
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fmri_rdm.errors import ConfigError, DataError, RunInterrupted
from fmri_rdm.models.pair_network.callbacks import (
    EpochHistory,
    EpochSeed,
    FoldCheckpoint,
)

log = logging.getLogger(__name__)


@dataclass
class FoldCallbacks:
    """The callbacks of one fold's fit: best and last checkpoints, curves, seeding."""

    best: FoldCheckpoint
    last: FoldCheckpoint
    history: EpochHistory
    extra: list[pl.Callback]

    @property
    def all(self) -> list[pl.Callback]:
        # `last` after `best` so that its state holds the best checkpoint's too
        return [self.best, self.last, self.history, *self.extra]


def fold_callbacks(
    ckpt_dir: Path, fold: int, seed: int, has_val: bool, patience: int | None
) -> FoldCallbacks:
    """Best epoch by validation loss (the last epoch without validation images, as in the
    original student project) and `fold<k>-last.ckpt` after every epoch, which `ckpt_path=`
    resumes (Lightning's save_last writes it only in epochs that improved the best)."""
    best = FoldCheckpoint(
        dirpath=ckpt_dir,
        filename=f"fold{fold}-best",
        monitor="val/loss" if has_val else None,
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    last = FoldCheckpoint(
        dirpath=ckpt_dir, filename=f"fold{fold}-last", save_top_k=1, enable_version_counter=False
    )
    extra: list[pl.Callback] = [EpochSeed(seed)]
    if has_val and patience:
        extra.append(pl.callbacks.EarlyStopping("val/loss", patience=int(patience), mode="min"))
    return FoldCallbacks(best, last, EpochHistory(), extra)


def check_resume(path: Path, module: pl.LightningModule) -> None:
    """A resume checkpoint must be readable and hold this model's weights."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as err:  # truncated file, not a Lightning checkpoint, ...
        msg = " ".join(str(err).split())[:200]
        raise DataError(
            f"cannot read checkpoint {path} ({msg}): it is truncated or not a "
            "Lightning checkpoint of this project"
        ) from err
    ours = module.state_dict()
    if set(state) != set(ours) or any(state[k].shape != ours[k].shape for k in ours):
        raise ConfigError(
            f"checkpoint {path} holds a different model: resume with the config of the "
            "interrupted run (its .hydra/overrides.yaml)"
        )


def _signal_of(stop: BaseException) -> int | None:
    """The signal behind Lightning's way of stopping (Ctrl-C becomes SystemExit(1), SIGTERM
    becomes SIGTERMException); None when the stop was something else."""
    if isinstance(stop, SIGTERMException):
        return int(signal.SIGTERM)
    if isinstance(stop, KeyboardInterrupt) or isinstance(stop.__context__, KeyboardInterrupt):
        return int(signal.SIGINT)
    return None


def run_trainer(
    trainer_config: Any,
    callbacks: FoldCallbacks,
    module: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    *,
    fold: int,
    logger: Any,
    output_dir: Path,
    resume_from: Path | None,
) -> pl.Trainer:
    """Fit `module` with a trainer built from `trainer_config`; an interruption raises
    `RunInterrupted` naming the fold's last checkpoint."""
    from fmri_rdm.runtime.console import progress_bar

    bar, quiet = progress_bar(trainer_config)  # the quiet console's bar (runtime.console)
    trainer = instantiate(
        trainer_config,
        callbacks=[*callbacks.all, *bar],
        logger=logger or False,
        default_root_dir=output_dir,
        **quiet,
    )
    device = getattr(getattr(trainer, "strategy", None), "root_device", None)
    if device is not None and device.type == "cuda":
        # TF32 for the float32 matmuls left outside bf16 autocast (read-out, losses): what
        # Lightning advises on tensor-core GPUs (H100/H200), at float32's range
        torch.set_float32_matmul_precision("high")
    if resume_from is not None:
        check_resume(resume_from, module)
        log.info("fold %d resumes from %s", fold, resume_from)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
    except (KeyboardInterrupt, SystemExit) as stop:
        signum = _signal_of(stop)
        if signum is None:
            raise
        last = Path(callbacks.last.dirpath or output_dir) / f"fold{fold}-last.ckpt"
        raise RunInterrupted(
            signum, fold, trainer.current_epoch, str(last) if last.is_file() else None
        ) from stop
    return trainer


def keep_best_weights(
    trainer: pl.Trainer, best: FoldCheckpoint, module: pl.LightningModule, ckpt_dir: Path, fold: int
) -> str | None:
    """Load the best epoch's weights into `module`; a best epoch from before an interruption
    (another run directory) is copied here so the run directory stays self-contained."""
    path = Path(best.best_model_path) if best.best_model_path else None
    if path is not None and path.parent != ckpt_dir and path.is_file() and trainer.is_global_zero:
        shutil.copy2(path, ckpt_dir / f"fold{fold}-best.ckpt")
        best.best_model_path = str(ckpt_dir / f"fold{fold}-best.ckpt")
    if best.best_model_path:
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
    return best.best_model_path or None
