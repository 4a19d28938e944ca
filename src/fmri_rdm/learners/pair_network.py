"""Lightning pair networks (mlp, siamese, siamese_cnn) as learners.

The net (`model._target_` and its keys) is trained by `PairRegressionModule` on index batches
from `PairDataModule`; the best epoch by validation loss is kept (the last epoch when the fold
has no validation images, as in the seed).
"""

from __future__ import annotations

import logging
import math
import shutil
import signal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.learners.base import FitReport, FoldData, Task, saved_file, saved_fold_numbers
from fmri_rdm.learners.callbacks import EpochHistory, EpochSeed, FoldCheckpoint, RunInterrupted
from fmri_rdm.models.datamodule import PairDataModule, PairSplit
from fmri_rdm.models.readout import relative_weight

log = logging.getLogger(__name__)

# Keys of a model config that configure the run rather than the network's constructor.
RUN_KEYS = ("name", "learner", "input", "save_path", "load_path", "response_weight")


def auto_batch_size(n_pairs: int, steps_per_epoch: int, largest: int) -> int:
    """The batch size that gives an epoch about `steps_per_epoch` optimizer steps, capped at
    `largest` (full-scale data keeps the large, fast batches) and at least 64 pairs."""
    return int(min(largest, max(64, math.ceil(n_pairs / max(1, steps_per_epoch)))))


def resolve_batch_size(training: DictConfig, n_pairs: int) -> int:
    """`training.batch_size`: an int, or `auto` (see `auto_batch_size`)."""
    value = training.batch_size
    if str(value) == "auto":
        return auto_batch_size(
            n_pairs, int(training.steps_per_epoch), int(training.max_auto_batch_size)
        )
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise ConfigError(f"training.batch_size={value!r}: give a positive integer or auto")
    return size


def target_scaling(net: torch.nn.Module, fit_y: np.ndarray, bounded: bool) -> tuple[float, float]:
    """(mean, std) the module maps the net's output with (pred = out · std + mean).

    A sigmoid head already spans the metric's range: (0, 1). A head whose output is a
    distance on the targets' own form (the correlation head, `target_scaling = "mean"`):
    (0, mean target), so that it starts at its natural scale. Other heads: z-scored targets.
    """
    if bounded:
        return 0.0, 1.0
    if getattr(net, "target_scaling", "standardise") == "mean":
        return 0.0, float(np.mean(fit_y)) or 1.0
    return float(np.mean(fit_y)), float(np.std(fit_y)) or 1.0


def net_kwargs(model_cfg: DictConfig) -> dict[str, Any]:
    """The net's `_target_` and constructor arguments from the model config."""
    container = OmegaConf.to_container(model_cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items() if k not in RUN_KEYS}


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


class PairNetworkLearner:
    """A pair network trained with Lightning; predicts RDM values of any pairs."""

    task: ClassVar[Task] = "regression"
    resumable: ClassVar[bool] = True
    uses_validation: ClassVar[bool] = True
    CHECKPOINT = "checkpoints/fold{fold}-best.ckpt"

    def __init__(self, cfg: DictConfig | None = None) -> None:
        self.cfg = cfg
        self.module: Any = None  # PairRegressionModule once fitted or loaded

    @classmethod
    def from_config(cls, cfg: DictConfig) -> PairNetworkLearner:
        return cls(cfg)

    def _build_net(self, data: FoldData) -> tuple[torch.nn.Module, dict[str, Any], bool]:
        """The net, its config (kept in the checkpoint) and whether its output is bounded."""
        assert self.cfg is not None
        kwargs = net_kwargs(self.cfg.model)
        if data.table.ndim == 2:  # embeddings; a CNN reads image shapes itself
            kwargs["in_dim"] = int(data.table.shape[1])
        bounded = str(self.cfg.model.get("head")) == "sigmoid"
        if bounded:
            # a sigmoid head covers the metric's range: [0, 2] for correlation distances
            top = 2.0 if data.metric == "correlation" else float(data.fit_y.max()) * 1.1
            kwargs["output_scale"] = top
        return instantiate(kwargs), kwargs, bounded

    def fit(self, data: FoldData) -> FitReport:
        from fmri_rdm.models.module import PairRegressionModule

        assert self.cfg is not None
        cfg, fold, seed = self.cfg, data.fold, data.seed
        has_val = len(data.val_i) > 0
        pl.seed_everything(seed, workers=True, verbose=False)
        table = torch.from_numpy(data.table)
        batch_size = resolve_batch_size(cfg.training, len(data.fit_i))
        datamodule = PairDataModule(
            table,
            PairSplit(data.fit_i, data.fit_j, data.fit_y),
            val=PairSplit(data.val_i, data.val_j, data.val_y) if has_val else None,
            batch_size=batch_size,
            seed=seed,
        )
        net, kwargs, bounded = self._build_net(data)
        response_weight = float(cfg.model.get("response_weight") or 0.0)
        target_mean, target_std = target_scaling(net, data.fit_y, bounded)
        module = PairRegressionModule(
            net,
            loss=str(cfg.training.loss),
            alpha=float(cfg.training.alpha),
            optimizer=instantiate(cfg.training.optimizer),
            scheduler=instantiate(cfg.training.scheduler) if cfg.training.scheduler else None,
            target_mean=target_mean,
            target_std=target_std,
            net_config=kwargs,
            response_weight=relative_weight(response_weight, str(cfg.training.loss), data.fit_y),
            n_voxels=int(data.responses.shape[1]),
        )
        if response_weight:  # only the fit images' responses: never test or validation rows
            fit = np.asarray(data.fit_images)
            module.set_responses(len(data.table), fit, data.responses[fit], data.metric)
        ckpt_dir = data.output_dir / "checkpoints"
        # best epoch by validation loss; without validation images, the last epoch (the seed's)
        checkpoint = FoldCheckpoint(
            dirpath=ckpt_dir,
            filename=f"fold{fold}-best",
            monitor="val/loss" if has_val else None,
            mode="min",
            save_top_k=1,
            enable_version_counter=False,
        )
        # fold<k>-last.ckpt after every epoch, what `ckpt_path=` resumes (Lightning's save_last
        # only writes it in epochs that improved the best); after `checkpoint` to hold its state
        latest = FoldCheckpoint(
            dirpath=ckpt_dir,
            filename=f"fold{fold}-last",
            save_top_k=1,
            enable_version_counter=False,
        )
        history = EpochHistory()
        callbacks: list[pl.Callback] = [checkpoint, latest, history, EpochSeed(seed)]
        patience = cfg.training.get("early_stopping_patience")
        if has_val and patience:
            callbacks.append(
                pl.callbacks.EarlyStopping("val/loss", patience=int(patience), mode="min")
            )
        trainer = instantiate(
            cfg.trainer,
            callbacks=callbacks,
            logger=data.logger or False,
            default_root_dir=data.output_dir,
        )
        if data.resume_from is not None:
            check_resume(data.resume_from, module)
            log.info("fold %d resumes from %s", fold, data.resume_from)
        log.info(
            "fold %d: %d training pairs, batch size %d (%d steps per epoch)",
            fold,
            len(data.fit_i),
            batch_size,
            math.ceil(len(data.fit_i) / batch_size),
        )
        try:
            trainer.fit(module, datamodule=datamodule, ckpt_path=data.resume_from)
        except (KeyboardInterrupt, SystemExit) as stop:
            # Lightning turns Ctrl-C into SystemExit(1) and SIGTERM into SIGTERMException
            if isinstance(stop, SIGTERMException):
                signum = signal.SIGTERM
            elif isinstance(stop, KeyboardInterrupt) or isinstance(
                stop.__context__, KeyboardInterrupt
            ):
                signum = signal.SIGINT
            else:
                raise
            last = ckpt_dir / f"fold{fold}-last.ckpt"
            raise RunInterrupted(
                signum, fold, trainer.current_epoch, str(last) if last.is_file() else None
            ) from stop
        best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else None
        if (
            best is not None
            and best.parent != ckpt_dir
            and best.is_file()
            and trainer.is_global_zero
        ):
            # the best epoch came before the interruption: keep this run directory self-contained
            shutil.copy2(best, ckpt_dir / f"fold{fold}-best.ckpt")
            checkpoint.best_model_path = str(ckpt_dir / f"fold{fold}-best.ckpt")
        if checkpoint.best_model_path:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            module.load_state_dict(state["state_dict"])
        self.module = module
        facts = {
            "epochs": int(trainer.current_epoch),
            "batch_size": batch_size,
            "best_checkpoint": checkpoint.best_model_path or None,
        }
        return FitReport(facts=facts, history=history.recorded())

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise ConfigError("the pair network is not fitted: call fit() or load() first")
        self.module.set_table(torch.from_numpy(np.ascontiguousarray(table)))
        return self.module.predict_pairs(i, j)

    def save(self, run_dir: Path, fold: int) -> Path:
        # Lightning's checkpoint callback already wrote it during fit
        return Path(run_dir) / self.CHECKPOINT.format(fold=fold)

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> PairNetworkLearner:
        from fmri_rdm.models.module import PairRegressionModule

        path = saved_file(run_dir, cls.CHECKPOINT, fold)
        # trusted file: written by this project's own training run
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        hparams = dict(ckpt["hyper_parameters"])
        module = PairRegressionModule(instantiate(hparams["net_config"]), **hparams)
        module.load_state_dict(ckpt["state_dict"])
        learner = cls(cfg)
        learner.module = module
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.CHECKPOINT)
