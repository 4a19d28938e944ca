"""Lightning callbacks of the pair-network learner: curves, resume-safe seeding, checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_warn


class EpochHistory(pl.Callback):
    """Per-epoch train/val scores of one fit, for the training-curve plot (any logger, or none)."""

    KEYS = ("train/loss", "val/loss", "val/pearson")

    def __init__(self) -> None:
        self.history: dict[str, list[float | None]] = {k: [] for k in self.KEYS}

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for key in self.KEYS:
            value = trainer.callback_metrics.get(key)
            self.history[key].append(None if value is None else float(value))

    def recorded(self) -> dict[str, list[float | None]]:
        """The curves that were logged at least once."""
        return {k: v for k, v in self.history.items() if any(x is not None for x in v)}


class EpochSeed(pl.Callback):
    """Reseeds every RNG before the first step of each epoch from (seed, epoch), so that a run
    resumed from a checkpoint draws the same dropout masks as an uninterrupted one (on resume
    Lightning creates the loader, which draws from the RNG, at another moment)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx != 0:
            return
        state = np.random.SeedSequence([self.seed, trainer.current_epoch]).generate_state(1)
        pl.seed_everything(int(state[0]), workers=True, verbose=False)


class FoldCheckpoint(pl.callbacks.ModelCheckpoint):
    """ModelCheckpoint that keeps the best-so-far score when a fold resumes into a new run
    directory (Lightning restores it only when the folder is unchanged). Lightning deletes
    files in its own folder only, so the interrupted run's files stay as they are."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict({**state_dict, "dirpath": self.dirpath})

    def _ModelCheckpoint__warn_if_dir_not_empty(self, dirpath: Any) -> None:
        """Lightning warns `Checkpoint directory ... exists and is not empty` whenever the
        folder holds any file; every fold of a run shares `checkpoints/` (`fold<k>-best.ckpt`,
        `fold<k>-last.ckpt`), so from fold 2 on it warned about the other folds' files. Only a
        file this callback would overwrite (its own name) is worth the warning."""
        own = Path(str(dirpath)) / f"{self.filename}{self.FILE_EXTENSION}"
        if self.save_top_k != 0 and self.filename and own.is_file():
            rank_zero_warn(f"Checkpoint {own} exists and will be overwritten.")

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        # a full disk fails in write(), whose error names no file: name the checkpoint
        from fmri_rdm.runtime.artifacts import writing

        with writing(filepath):
            super()._save_checkpoint(trainer, filepath)

    @property
    def state_key(self) -> str:
        # Without a monitored metric (no validation images) the best and the last checkpoint
        # would share Lightning's key, which Lightning refuses; their file names tell them apart.
        key = super().state_key
        return key if self.monitor is not None else f"{key}[{self.filename}]"
