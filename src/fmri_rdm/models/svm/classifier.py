"""Similar/dissimilar pair classification with a kernel SVM.

Two methods for the same kernel on the same pair features:
- `nystroem` (default): Nyström features of the kernel and a linear L2-SVM on every training
  pair (models/svm/nystroem.py), seconds per fold;
- `exact`: scikit-learn `SVC` (libsvm), the original student project's model. Kernel SVMs
  scale quadratically or worse in the number of training pairs, hence `max_train_pairs`:
  above it, a stratified random sample is used (and logged).
Pair features are built here per call, in chunks for scoring.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.svm import nystroem as ny

log = logging.getLogger(__name__)

FEATURES = ("concat", "symmetric")
METHODS = ("nystroem", "exact")
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
        method: str = "exact",
        n_components: int = 500,
    ) -> None:
        if features not in FEATURES:
            raise ConfigError(f"unknown SVM features {features!r}: choose one of {FEATURES}")
        if method not in METHODS:
            raise ConfigError(f"model.method={method!r}: choose one of {', '.join(METHODS)}")
        if max_train_pairs < 2:
            raise ConfigError(f"model.max_train_pairs must be >= 2, got {max_train_pairs}")
        if n_components < 1:
            raise ConfigError(f"model.nystroem_components must be >= 1, got {n_components}")
        if method == "nystroem":
            ny.PairKernel(kernel, 1.0, degree)  # rejects kernels without a map here
        self.features = features
        self.max_train_pairs = max_train_pairs
        self.seed = seed
        self.method, self.n_components = method, int(n_components)
        self.kernel, self.degree, self.C, self.gamma = kernel, int(degree), float(C), gamma
        # probability stays at its default False (scikit-learn 1.9 deprecates passing it):
        # decision_function gives the scores for ROC-AUC without Platt scaling's extra CV fits.
        self.svc = SVC(kernel=kernel, degree=degree, C=C, gamma=gamma)
        self.n_train_pairs: int | None = None
        self.facts: dict[str, Any] = {}
        self._nystroem: tuple[ny.LandmarkMap, np.ndarray, float] | None = None  # map, v, b

    def __setstate__(self, state: dict[str, Any]) -> None:
        # classifiers saved before the Nyström method were exact SVCs
        defaults = {"method": "exact", "n_components": 500, "facts": {}, "_nystroem": None}
        self.__dict__.update({**defaults, **state})

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
        table, i, j, y = np.asarray(table), np.asarray(i)[keep], np.asarray(j)[keep], y[keep]
        self.facts = {
            "svm_method": self.method,
            "n_pairs_trained_on": len(keep),
            "n_pair_features": 2 * table.shape[1],
        }
        start = time.perf_counter()
        if self.method == "nystroem":
            self._fit_nystroem(table, i, j, y)
        else:
            self._fit_exact(table, i, j, y)
        self.facts["svm_fit_seconds"] = time.perf_counter() - start
        return self

    def _fit_exact(self, table: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> None:
        pilot = min(len(i), 1000)
        if len(i) > 4 * pilot:  # a timed fit on 1,000 pairs; libsvm grows ~ quadratically
            start = time.perf_counter()
            sub = np.random.default_rng(self.seed).choice(len(i), pilot, replace=False)
            if len(np.unique(y[sub])) == 2:
                SVC(**self.svc.get_params()).fit(
                    pair_features(table, i[sub], j[sub], self.features), y[sub]
                )
                expect = (time.perf_counter() - start) * (len(i) / pilot) ** 2
                self._announce(
                    len(i),
                    table.shape[1],
                    f"about {expect:.0f} s (from a fit on {pilot} pairs, x pairs²)",
                )
        self.svc.fit(pair_features(table, i, j, self.features), y)
        self.facts["svm_support_vectors"] = int(self.svc.n_support_.sum())

    def _announce(self, n: int, d: int, expect: str) -> None:
        what = f"{self.kernel} kernel" + (f" degree {self.degree}" if self.kernel == "poly" else "")
        extra = f", {self.n_components} landmark pairs" if self.method == "nystroem" else ""
        log.info("SVM (%s, %s%s): %d training pairs of %d features: fit takes %s",
                 self.method, what, extra, n, 2 * d, expect)  # fmt: skip

    def _fit_nystroem(self, table: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> None:
        start = time.perf_counter()
        gamma = self._gamma(table, i, j)
        rng = np.random.default_rng(self.seed)
        marks = np.sort(rng.choice(len(i), min(self.n_components, len(i)), replace=False))
        kernel = ny.PairKernel(self.kernel, gamma, self.degree)
        landmarks = ny.LandmarkMap(table, i[marks], j[marks], kernel, self.features)
        whiten = ny.whitening(next(landmarks.blocks(table, i[marks], j[marks])))
        blocks = landmarks.blocks(table, i, j)
        z = np.empty((len(i), whiten.shape[1]), np.float32)
        setup, start = time.perf_counter() - start, time.perf_counter()
        first = next(blocks)
        z[: len(first)] = first @ whiten
        # the rest scales with the pairs: features (1×) and ~2 Newton Gram passes (2×)
        per_pair = (time.perf_counter() - start) / len(first)
        self._announce(
            len(i),
            table.shape[1],
            f"about {setup + 3 * per_pair * len(i):.0f} s (timed on the first {len(first)} pairs)",
        )
        row = len(first)
        for block in blocks:
            z[row : row + len(block)] = block @ whiten
            row += len(block)
        w, b, iterations = ny.l2svm_newton(z, np.where(y, 1.0, -1.0), self.C)
        del z
        landmarks.drop_table()
        self._nystroem = (landmarks, (whiten @ w.astype(np.float32)).astype(np.float32), float(b))
        self.facts.update(
            {"svm_nystroem_rank": int(whiten.shape[1]), "svm_newton_iterations": iterations}
        )

    def _gamma(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> float:
        """SVC's gamma: "scale", "auto" (1 / n_features) or a number."""
        if self.gamma == "scale":
            return ny.scale_gamma(table, i, j, self.features)
        if self.gamma == "auto":
            return 1.0 / (2 * table.shape[1])
        return float(self.gamma)

    def decision_function(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Signed distance to the boundary, (P,) float64; > 0 means True. Use it for ROC-AUC."""
        table, i, j = np.asarray(table), np.asarray(i), np.asarray(j)
        if self.method == "nystroem":
            if self._nystroem is None:
                raise ConfigError("the SVM is not fitted: call fit() or load() first")
            landmarks, v, b = self._nystroem
            scores = [block @ v for block in landmarks.blocks(table, i, j)]
            landmarks.drop_table()
            return (np.concatenate(scores).astype(np.float64) if scores else np.zeros(0)) + b
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
        from fmri_rdm.models.legacy import old_module_names

        with old_module_names(
            within="fmri_rdm.models.svm"
        ):  # files of older runs name the modules they were written from
            obj: Any = joblib.load(Path(path))
        if not isinstance(obj, cls):
            raise ConfigError(f"{path} does not hold an SVMPairClassifier")
        return obj
