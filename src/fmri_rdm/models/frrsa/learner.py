"""Feature-reweighted RSA (Kaniuth & Hebart 2022) as a learner.

`model.variant`:
- `fractional` (default) / `positive`: the published method (`frrsa_ridge.py`): per-dimension
  pair features of the (optionally normalised, `model.normalize`) patterns, z-scored over the
  training pairs, fractional ridge or ridge with non-negative weights, its hyperparameter
  chosen by image-disjoint inner cross-validation on the fold's training images
  (`model.inner_folds` x `model.inner_repeats`), predictions clipped to the metric's range.
- `nnls`: the earlier variant, an unpenalised non-negative least squares on the raw squared
  differences with a free intercept and no cross-validation,

    d(a, b) = b0 + Σ_k w_k (x_ak − x_bk)²,   w_k >= 0.

In every variant the pair features of P pairs are never stored: their Gram matrix (D × D) and
moments are accumulated in chunks of pairs, so a fit costs P·D² per pass and the solves do not
depend on P.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from omegaconf import MISSING, DictConfig
from scipy.optimize import nnls

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import (
    FitReport,
    FoldData,
    ModelConfig,
    TaskName,
    saved_file,
    saved_fold_numbers,
)
from fmri_rdm.models.frrsa import ridge
from fmri_rdm.models.registry import model_settings
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


VARIANTS = ("fractional", "positive", "nnls")


@dataclass
class FrrsaConfig(ModelConfig):
    max_train_pairs: int = MISSING
    variant: str = MISSING
    normalize: bool = MISSING
    hyperparams: list[float] | None = MISSING
    inner_folds: int = MISSING
    inner_repeats: int = MISSING


class FeatureReweightedRSA:
    """Reweighted embedding dimensions, fitted on a fold's training pairs (`model.variant`)."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False
    # fitted on the targets by least squares: a training-pair map is the identity (nnls) or
    # undoes the shrinkage the inner CV chose (measured: holdout R² -0.002 -> -0.009)
    calibration_default: ClassVar[str] = "none"
    config_schema: ClassVar[type] = FrrsaConfig
    FILE = "frrsa_fold{fold}.npz"

    def __init__(
        self,
        max_train_pairs: int = 1_000_000,
        variant: str = "nnls",
        *,
        normalize: bool = True,
        hyperparams: Sequence[float] | None = None,
        inner_folds: int = 5,
        inner_repeats: int = 5,
    ) -> None:
        if max_train_pairs < 2:
            raise ConfigError(f"model.max_train_pairs must be >= 2, got {max_train_pairs}")
        if variant not in VARIANTS:
            raise ConfigError(f"model.variant={variant!r}: choose one of {', '.join(VARIANTS)}")
        if inner_folds < 2 or inner_repeats < 1:
            raise ConfigError(
                f"model.inner_folds must be >= 2 and model.inner_repeats >= 1, got "
                f"{inner_folds} and {inner_repeats}"
            )
        self.max_train_pairs, self.variant = int(max_train_pairs), variant
        self.normalize = bool(normalize)
        default = ridge.DEFAULT_FRACTIONS if variant == "fractional" else ridge.DEFAULT_ALPHAS
        self.hyperparams = np.sort(np.asarray(hyperparams or default, dtype=np.float64))
        self.inner_folds, self.inner_repeats = int(inner_folds), int(inner_repeats)
        self.metric = "euclidean"  # the nnls variant's features are squared differences
        self.weights: np.ndarray | None = None
        self.intercept = 0.0

    @classmethod
    def from_config(cls, cfg: DictConfig) -> FeatureReweightedRSA:
        m = model_settings(cls, cfg.model)  # older runs: nnls (learners.legacy)
        return cls(
            m.max_train_pairs,
            m.variant,
            normalize=m.normalize,
            hyperparams=m.hyperparams,
            inner_folds=m.inner_folds,
            inner_repeats=m.inner_repeats,
        )

    def _patterns(self, table: np.ndarray) -> np.ndarray:
        x = np.asarray(table, dtype=np.float32).reshape(len(table), -1)
        if self.variant == "nnls":
            return x
        return ridge.normalize_patterns(x, self.metric) if self.normalize else x.astype(np.float64)

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
        facts: dict[str, Any] = {"frrsa_variant": self.variant}
        if self.variant == "nnls":
            x = self._patterns(data.table)
            moments = squared_difference_moments(x, i, j, y)
            self.weights, self.intercept = nnls_from_moments(*moments, n=len(i))
        else:
            self.metric = data.metric
            facts |= self._fit_ridge(data, i, j, y)
        assert self.weights is not None
        active = int(np.count_nonzero(self.weights))
        return FitReport(facts={**facts, "n_active_dimensions": active, "n_fit_pairs": len(i)})

    def _fit_ridge(
        self, data: FoldData, i: np.ndarray, j: np.ndarray, y: np.ndarray
    ) -> dict[str, Any]:
        """Hyperparameter by inner cross-validation, then the fit on all training pairs."""
        x = self._patterns(data.table)
        images = np.unique(np.concatenate([i, j]))
        folds = self.inner_folds
        while folds > 2 and len(images) / folds <= 2:  # as the reference: > 2 images per fold
            folds -= 1
        if folds != self.inner_folds:
            log.warning(
                "frrsa: %d training images, inner cross-validation uses %d folds "
                "instead of model.inner_folds=%d",
                len(images),
                folds,
                self.inner_folds,
            )
        scores, total = ridge.inner_cv_scores(
            x,
            i,
            j,
            np.asarray(y, dtype=np.float64),
            images,
            metric=self.metric,
            variant=self.variant,
            hyperparams=self.hyperparams,
            n_folds=folds,
            n_repeats=self.inner_repeats,
            seed=data.seed,
        )
        best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else len(scores) - 1
        weights, intercept = ridge.ridge_weights(
            total, self.hyperparams[best : best + 1], self.variant
        )
        self.weights, self.intercept = weights[:, 0], float(intercept[0])
        if best in (0, len(scores) - 1) and self.variant == "positive":
            log.warning(
                "frrsa: the inner cross-validation chose the grid's edge alpha %g: "
                "widen model.hyperparams",
                self.hyperparams[best],
            )
        return {
            "frrsa_hyperparam": float(self.hyperparams[best]),
            "frrsa_inner_pearson": float(scores[best]),
            "frrsa_inner_folds": folds,
        }

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise ConfigError("frrsa is not fitted: call fit() or load() first")
        x = self._patterns(table)
        if self.variant != "nnls":
            w, b0 = self.weights[:, None], np.asarray([self.intercept])
            return ridge.predict(x, i, j, w, b0, self.metric)[:, 0].astype(np.float32)
        scaled = x * np.sqrt(self.weights).astype(np.float32)
        dist = pair_distances(scaled, i, j, "euclidean").astype(np.float64)
        return (dist * dist + self.intercept).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        assert self.weights is not None
        path = Path(run_dir) / self.FILE.format(fold=fold)
        meta = {"variant": self.variant, "metric": self.metric, "normalize": self.normalize}
        arrays = {"weights": self.weights, "intercept": np.asarray(self.intercept)}
        write_npz(path, arrays | {k: np.asarray(v) for k, v in meta.items()})
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> FeatureReweightedRSA:
        path = saved_file(run_dir, cls.FILE, fold)
        learner = cls.from_config(cfg)
        with np.load(path) as saved:
            learner.weights = saved["weights"]
            learner.intercept = float(saved["intercept"])
            # files written before the published variant existed hold an nnls fit
            learner.variant = str(saved["variant"]) if "variant" in saved else "nnls"
            learner.metric = str(saved["metric"]) if "metric" in saved else "euclidean"
            learner.normalize = bool(saved["normalize"]) if "normalize" in saved else False
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
