"""Classical RSA as a learner: the embedding RDM itself, nothing fitted.

It is the zero-training baseline promoted to a model, so that `compare` lists it as a row
beside the fitted models, scored on the same test pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.models.base import FitReport, FoldData, ModelConfig, TaskName
from fmri_rdm.models.registry import model_settings
from fmri_rdm.rsa.rdm import pair_distances


class RSALearner:
    """Predicts the metric's dissimilarity between the two images' model inputs."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = True  # the embedding RDM itself, whatever the fold
    config_schema: ClassVar[type] = ModelConfig  # nothing to configure

    def __init__(self, metric: str = "correlation") -> None:
        self.metric = metric

    @classmethod
    def from_config(cls, cfg: DictConfig) -> RSALearner:
        model_settings(cls, cfg.model)
        return cls(str(cfg.metric.name))

    def fit(self, data: FoldData) -> FitReport:
        self.metric = data.metric
        return FitReport()

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return pair_distances(table.reshape(len(table), -1), i, j, self.metric)

    def save(self, run_dir: Path, fold: int) -> None:
        return None  # nothing was fitted

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> RSALearner:
        return cls.from_config(cfg)

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return [0]  # every fold is the same model
