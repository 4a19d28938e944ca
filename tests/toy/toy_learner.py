"""A model added from outside the package: a learner class and its YAML, nothing else.

It predicts an affine map of the embedding distance, fitted by least squares on the fold's
training pairs (the zero-training baseline, rescaled to the target).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from omegaconf import MISSING, DictConfig

from fmri_rdm.models import FitReport, FoldData, TaskName, model_settings
from fmri_rdm.models.base import ModelConfig, saved_file, saved_fold_numbers
from fmri_rdm.rsa.rdm import pair_distances


@dataclass
class ToyConfig(ModelConfig):
    ridge: float = MISSING


class AffineDistanceLearner:
    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False
    config_schema: ClassVar[type] = ToyConfig
    FILE = "toy_fold{fold}.npy"

    def __init__(self, metric: str = "correlation", ridge: float = 0.0) -> None:
        self.metric, self.ridge = metric, ridge
        self.coef = np.zeros(2)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> AffineDistanceLearner:
        return cls(str(cfg.metric.name), model_settings(cls, cfg.model).ridge)

    def fit(self, data: FoldData) -> FitReport:
        d = pair_distances(data.table, data.fit.i, data.fit.j, self.metric).astype(np.float64)
        x = np.stack([np.ones_like(d), d], axis=1)
        gram = x.T @ x + self.ridge * np.diag([0.0, 1.0])
        self.coef = np.linalg.solve(gram, x.T @ data.fit.y.astype(np.float64))
        return FitReport(facts={"toy_slope": float(self.coef[1])})

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        d = pair_distances(table, i, j, self.metric)
        return (self.coef[0] + self.coef[1] * d).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        path = Path(run_dir) / self.FILE.format(fold=fold)
        np.save(path, self.coef)
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> AffineDistanceLearner:
        learner = cls.from_config(cfg)
        learner.coef = np.load(saved_file(run_dir, cls.FILE, fold))
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
