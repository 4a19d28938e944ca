"""The original student project's SVM as a learner: similar / dissimilar classification of pairs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from omegaconf import MISSING, DictConfig

from fmri_rdm.models.base import (
    FitReport,
    FoldData,
    ModelConfig,
    TaskName,
    saved_file,
    saved_fold_numbers,
)
from fmri_rdm.models.registry import model_settings

log = logging.getLogger(__name__)


@dataclass
class SVMConfig(ModelConfig):
    kernel: str = MISSING
    degree: int = MISSING
    C: float = MISSING
    gamma: Any = MISSING  # "scale" | "auto" | a float
    features: str = MISSING
    method: str = MISSING
    max_train_pairs: int = MISSING
    nystroem_components: int = MISSING
    nystroem_max_train_pairs: int = MISSING
    save_path: str | None = MISSING
    load_path: str | None = MISSING


class SVMLearner:
    """`SVMPairClassifier` on the pairs of all training images of a fold (the original student
    project had no validation set); `predict` returns the decision value (> 0 = dissimilar).
    `model.method`: nystroem (every pair, an approximation of the kernel) or exact (SVC on at
    most `max_train_pairs`); metrics.json records the method and `n_pairs_trained_on`."""

    task: ClassVar[TaskName] = "classification"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False
    config_schema: ClassVar[type] = SVMConfig
    FILE = "svm_fold{fold}.joblib"

    def __init__(self, settings: SVMConfig | None = None, classifier: object | None = None):
        self.settings = settings
        self.classifier = classifier

    @classmethod
    def from_config(cls, cfg: DictConfig) -> SVMLearner:
        return cls(model_settings(cls, cfg.model))

    def fit(self, data: FoldData) -> FitReport:
        from fmri_rdm.models.svm.classifier import SVMPairClassifier

        s = self.settings
        assert s is not None
        if s.load_path:
            self.classifier = SVMPairClassifier.load(Path(s.load_path))
            log.info("loaded a fitted SVM from %s (no training)", s.load_path)
        else:
            clf = SVMPairClassifier(
                kernel=s.kernel,
                degree=s.degree,
                C=s.C,
                gamma=s.gamma,
                features=s.features,
                max_train_pairs=(
                    s.nystroem_max_train_pairs if s.method == "nystroem" else s.max_train_pairs
                ),
                seed=data.seed,
                method=s.method,
                n_components=s.nystroem_components,
            )
            table = data.table.reshape(len(data.table), -1)
            self.classifier = clf.fit(table, data.train.i, data.train.j, data.train.y)
        if s.save_path:
            self.classifier.save(Path(s.save_path))
        # a loaded classifier reports what it was trained on, not this run's settings
        return FitReport(facts=dict(getattr(self.classifier, "facts", {})))

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        from fmri_rdm.models.svm.classifier import SVMPairClassifier

        assert isinstance(self.classifier, SVMPairClassifier), "fit() or load() first"
        flat = table.reshape(len(table), -1)
        return self.classifier.decision_function(flat, i, j).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        from fmri_rdm.models.svm.classifier import SVMPairClassifier

        assert isinstance(self.classifier, SVMPairClassifier)
        path = Path(run_dir) / self.FILE.format(fold=fold)
        self.classifier.save(path)
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> SVMLearner:
        from fmri_rdm.models.svm.classifier import SVMPairClassifier

        path = saved_file(run_dir, cls.FILE, fold)
        return cls(None, SVMPairClassifier.load(path))

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
