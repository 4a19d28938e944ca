"""Classical RSA as a learner: the embedding RDM itself, nothing fitted.

It is the zero-training baseline promoted to a model, so that `compare` lists it as a row
beside the fitted models, scored on the same test pairs. Its predictions are read from the RDM of
the whole table, computed as the zero-training baseline's (`pipeline.inputs`), so the two agree
to the last bit (a pair's float32 distance can differ by one unit in the last place between an
RDM of all images and one of a fold's test images).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.models.base import FitReport, FoldData, ModelConfig, TaskName
from fmri_rdm.models.registry import model_settings
from fmri_rdm.rsa.rdm import compute_rdm, rdm_values


class RSALearner:
    """Predicts the metric's dissimilarity between the two images' model inputs."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = True  # the embedding RDM itself, whatever the fold
    config_schema: ClassVar[type] = ModelConfig  # nothing to configure

    def __init__(self, metric: str = "correlation") -> None:
        self.metric = metric
        self._rdm: tuple[np.ndarray, str, np.ndarray] | None = None  # (table, metric, RDM)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> RSALearner:
        model_settings(cls, cfg.model)
        return cls(str(cfg.metric.name))

    def fit(self, data: FoldData) -> FitReport:
        self.metric = data.metric
        return FitReport()

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(P,) float32 dissimilarities of the pairs, from the table's RDM (module docstring)."""
        return rdm_values(self._table_rdm(table), i, j, len(table))

    def _table_rdm(self, table: np.ndarray) -> np.ndarray:
        """The condensed float32 RDM of all rows of `table` (computed once per table)."""
        cached = self._rdm
        if cached is None or cached[0] is not table or cached[1] != self.metric:
            features = table.reshape(len(table), -1).astype(np.float32)
            cached = (table, self.metric, compute_rdm(features, self.metric))
            self._rdm = cached
        return cached[2]

    def save(self, run_dir: Path, fold: int) -> None:
        return None  # nothing was fitted

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> RSALearner:
        return cls.from_config(cfg)

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return [0]  # every fold is the same model
