"""Feature-reweighted RSA (Kaniuth & Hebart 2022) as a learner.

A pair's predicted dissimilarity is a non-negative weighted sum, over embedding dimensions,
of the per-dimension squared differences, plus an intercept:

    d(a, b) = b0 + Σ_k w_k (x_ak − x_bk)²,   w_k >= 0,

fitted by non-negative least squares on training pairs. The squared differences of P pairs
are never stored: their Gram matrix (D × D) and moments are accumulated in chunks of pairs,
and NNLS runs on the equivalent D-row problem (a Cholesky factor of the Gram matrix), so the
fit costs P·D² once and the solve does not depend on P.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from omegaconf import MISSING, DictConfig
from scipy.optimize import nnls

from fmri_rdm.errors import ConfigError
from fmri_rdm.learners.base import (
    FitReport,
    FoldData,
    ModelConfig,
    TaskName,
    saved_file,
    saved_fold_numbers,
)
from fmri_rdm.learners.registry import model_settings
from fmri_rdm.rsa.rdm import pair_distances
from fmri_rdm.runtime.artifacts import write_npz

log = logging.getLogger(__name__)

_CHUNK = 16_384  # pairs per block of squared differences (16k × 512 float64 = 64 MB)


def squared_difference_moments(
    x: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Moments of the pair features F[p] = (x[i_p] − x[j_p])² against targets y, in chunks.

    x: (N, D); i, j, y: (P,). Returns (F^T F (D, D), F^T y (D,), F.sum(0) (D,), y.sum()),
    all float64.
    """
    d = x.shape[1]
    gram, fy, fsum = np.zeros((d, d)), np.zeros(d), np.zeros(d)
    for s in range(0, len(i), _CHUNK):
        f = np.square(x[i[s : s + _CHUNK]] - x[j[s : s + _CHUNK]], dtype=np.float64)
        yc = np.asarray(y[s : s + _CHUNK], dtype=np.float64)
        gram += f.T @ f
        fy += f.T @ yc
        fsum += f.sum(axis=0)
    return gram, fy, fsum, float(np.sum(y, dtype=np.float64))


def nnls_from_moments(
    gram: np.ndarray, fy: np.ndarray, fsum: np.ndarray, ysum: float, n: int
) -> tuple[np.ndarray, float]:
    """Weights w >= 0 and free intercept b0 minimising Σ_p (b0 + F[p]·w − y_p)².

    The intercept is profiled out by centring (b0 = ȳ − F̄·w), which leaves
    min_w≥0 w'Gw − 2w'c with G = F_c'F_c and c = F_c'y_c; with G = LL', that equals
    NNLS on (L', L⁻¹c).
    """
    mean_f, mean_y = fsum / n, ysum / n
    g = gram - n * np.outer(mean_f, mean_f)
    c = fy - n * mean_f * mean_y
    # a constant dimension (zero variance) makes G singular: a tiny ridge keeps L defined
    jitter = 1e-10 * max(float(np.trace(g)) / len(g), 1e-30)
    lower = np.linalg.cholesky(g + jitter * np.eye(len(g)))
    w, _ = nnls(lower.T, np.linalg.solve(lower, c), maxiter=50 * len(g))
    return w, float(mean_y - mean_f @ w)


@dataclass
class FrrsaConfig(ModelConfig):
    max_train_pairs: int = MISSING


class FeatureReweightedRSA:
    """Non-negative reweighting of embedding dimensions, fitted on a fold's training pairs."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    config_schema: ClassVar[type] = FrrsaConfig
    FILE = "frrsa_fold{fold}.npz"

    def __init__(self, max_train_pairs: int = 1_000_000) -> None:
        if max_train_pairs < 2:
            raise ConfigError(f"model.max_train_pairs must be >= 2, got {max_train_pairs}")
        self.max_train_pairs = int(max_train_pairs)
        self.weights: np.ndarray | None = None
        self.intercept = 0.0

    @classmethod
    def from_config(cls, cfg: DictConfig) -> FeatureReweightedRSA:
        return cls(model_settings(cls, cfg.model).max_train_pairs)

    def fit(self, data: FoldData) -> FitReport:
        i, j, y = data.train.i, data.train.j, data.train.y
        if len(i) > self.max_train_pairs:
            keep = np.sort(
                np.random.default_rng(data.seed).choice(len(i), self.max_train_pairs, replace=False)
            )
            log.info(
                "frrsa: fitting on a random %d of %d training pairs (model.max_train_pairs)",
                len(keep),
                len(i),
            )
            i, j, y = i[keep], j[keep], y[keep]
        x = np.asarray(data.table, dtype=np.float32).reshape(len(data.table), -1)
        moments = squared_difference_moments(x, i, j, y)
        self.weights, self.intercept = nnls_from_moments(*moments, n=len(i))
        active = int(np.count_nonzero(self.weights))
        return FitReport(facts={"n_active_dimensions": active, "n_fit_pairs": len(i)})

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise ConfigError("frrsa is not fitted: call fit() or load() first")
        x = np.asarray(table, dtype=np.float32).reshape(len(table), -1)
        scaled = x * np.sqrt(self.weights).astype(np.float32)
        dist = pair_distances(scaled, i, j, "euclidean").astype(np.float64)
        return (dist * dist + self.intercept).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        assert self.weights is not None
        path = Path(run_dir) / self.FILE.format(fold=fold)
        write_npz(path, {"weights": self.weights, "intercept": np.asarray(self.intercept)})
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> FeatureReweightedRSA:
        path = saved_file(run_dir, cls.FILE, fold)
        learner = cls.from_config(cfg)
        with np.load(path) as saved:
            learner.weights = saved["weights"]
            learner.intercept = float(saved["intercept"])
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
