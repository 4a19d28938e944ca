"""Similar/dissimilar pair classification with a kernel SVM (scikit-learn SVC).

The SVM needs explicit pair features, so they are built here per call, in chunks for scoring.
Kernel SVMs scale quadratically or worse in the number of training pairs, hence
`max_train_pairs`: above it, a stratified random sample is used (and logged).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from fmri_rdm.errors import ConfigError

log = logging.getLogger(__name__)

FEATURES = ("concat", "symmetric")
_CHUNK = 50_000  # pairs per feature block when scoring: 50k × 2 × 512 float32 ≈ 200 MB


def pair_features(table: np.ndarray, i: np.ndarray, j: np.ndarray, kind: str) -> np.ndarray:
    """(N, D) table, (P,) pairs -> (P, 2D): [e_i, e_j] or [|e_i − e_j|, e_i ⊙ e_j]."""
    ei, ej = table[i], table[j]
    if kind == "concat":
        return np.concatenate([ei, ej], axis=1)
    return np.concatenate([np.abs(ei - ej), ei * ej], axis=1)


class SVMPairClassifier:
    """SVC on pair features; y is True for "similar" (or whichever class the caller chose)."""

    def __init__(
        self,
        kernel: str = "poly",
        degree: int = 2,
        C: float = 1.0,
        gamma: str | float = "scale",
        features: str = "concat",
        max_train_pairs: int = 20_000,
        seed: int = 0,
    ) -> None:
        if features not in FEATURES:
            raise ConfigError(f"unknown SVM features {features!r}: choose one of {FEATURES}")
        if max_train_pairs < 2:
            raise ConfigError(f"model.max_train_pairs must be >= 2, got {max_train_pairs}")
        self.features = features
        self.max_train_pairs = max_train_pairs
        self.seed = seed
        # probability stays at its default False (scikit-learn 1.9 deprecates passing it):
        # decision_function gives the scores for ROC-AUC without Platt scaling's extra CV fits.
        self.svc = SVC(kernel=kernel, degree=degree, C=C, gamma=gamma)
        self.n_train_pairs: int | None = None

    def _sample(self, y: np.ndarray) -> np.ndarray:
        """Indices of the training pairs to use: all, or a stratified sample of max_train_pairs."""
        n = len(y)
        if n <= self.max_train_pairs:
            return np.arange(n)
        log.warning(
            "SVM: training on a stratified random sample of %d of %d pairs (max_train_pairs)",
            self.max_train_pairs,
            n,
        )
        keep, _ = train_test_split(
            np.arange(n), train_size=self.max_train_pairs, stratify=y, random_state=self.seed
        )
        return np.sort(keep)

    def fit(
        self, table: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray
    ) -> SVMPairClassifier:
        """table (N, D), i/j (P,) ints, y (P,) bool -> self."""
        y = np.asarray(y)
        if y.dtype != np.bool_:
            raise ConfigError(f"SVM targets must be bool (similar/dissimilar), got {y.dtype}")
        if len(np.unique(y)) < 2:
            raise ConfigError("SVM training pairs contain one class only: both are needed")
        keep = self._sample(y)
        self.n_train_pairs = len(keep)
        x = pair_features(
            np.asarray(table), np.asarray(i)[keep], np.asarray(j)[keep], self.features
        )
        self.svc.fit(x, y[keep])
        return self

    def decision_function(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Signed distance to the boundary, (P,) float64; > 0 means True. Use it for ROC-AUC."""
        table, i, j = np.asarray(table), np.asarray(i), np.asarray(j)
        out = [
            self.svc.decision_function(
                pair_features(table, i[s : s + _CHUNK], j[s : s + _CHUNK], self.features)
            )
            for s in range(0, len(i), _CHUNK)
        ]
        return np.concatenate(out) if out else np.zeros(0)

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Predicted classes, (P,) bool."""
        return self.decision_function(table, i, j) > 0

    def save(self, path: str | Path) -> None:
        """Write the fitted classifier with joblib."""
        joblib.dump(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> SVMPairClassifier:
        """Read a classifier written by `save` (joblib/pickle: only load files you trust)."""
        obj: Any = joblib.load(Path(path))
        if not isinstance(obj, cls):
            raise ConfigError(f"{path} does not hold an SVMPairClassifier")
        return obj
