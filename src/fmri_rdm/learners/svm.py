"""The original student project's SVM as a learner: similar / dissimilar classification of pairs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.learners.base import FitReport, FoldData, Task, saved_file, saved_fold_numbers
from fmri_rdm.learners.pair_network import net_kwargs

log = logging.getLogger(__name__)


class SVMLearner:
    """`SVMPairClassifier` on the pairs of all training images of a fold (the original student
    project had no validation set); `predict` returns the decision value (> 0 = dissimilar)."""

    task: ClassVar[Task] = "classification"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    FILE = "svm_fold{fold}.joblib"

    def __init__(self, cfg: DictConfig | None = None, classifier: object | None = None) -> None:
        self.cfg = cfg
        self.classifier = classifier

    @classmethod
    def from_config(cls, cfg: DictConfig) -> SVMLearner:
        return cls(cfg)

    def fit(self, data: FoldData) -> FitReport:
        from fmri_rdm.models.svm import SVMPairClassifier

        assert self.cfg is not None
        load_path = self.cfg.model.get("load_path")
        if load_path:
            self.classifier = SVMPairClassifier.load(Path(load_path))
            log.info("loaded a fitted SVM from %s (no training)", load_path)
        else:
            kwargs = {k: v for k, v in net_kwargs(self.cfg.model).items() if k != "_target_"}
            clf = SVMPairClassifier(**kwargs, seed=data.seed)
            table = data.table.reshape(len(data.table), -1)
            self.classifier = clf.fit(table, data.train_i, data.train_j, data.train_y)
        if self.cfg.model.get("save_path"):
            self.classifier.save(Path(self.cfg.model.save_path))
        return FitReport()

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        from fmri_rdm.models.svm import SVMPairClassifier

        assert isinstance(self.classifier, SVMPairClassifier), "fit() or load() first"
        flat = table.reshape(len(table), -1)
        return self.classifier.decision_function(flat, i, j).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        from fmri_rdm.models.svm import SVMPairClassifier

        assert isinstance(self.classifier, SVMPairClassifier)
        path = Path(run_dir) / self.FILE.format(fold=fold)
        self.classifier.save(path)
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> SVMLearner:
        from fmri_rdm.models.svm import SVMPairClassifier

        path = saved_file(run_dir, cls.FILE, fold)
        return cls(cfg, SVMPairClassifier.load(path))

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
