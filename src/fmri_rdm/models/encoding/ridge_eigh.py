"""Ridge with one penalty per target, chosen by K-fold CV: one eigendecomposition per split.

The same estimator as himalaya's `RidgeCV` with `fit_intercept=True`, `local_alpha=True` and
an R² score (what the encoding model asks of it), computed as a direct solve: per split, the
centred training inputs' covariance X'X (D, D) is diagonalised once, the targets are projected
once (B = V' X' Y, (D, V)), and then every alpha costs one (n_test, D) @ (D, V) product, not a
fresh solve. The refit on all images groups the targets by their alpha.

Runs on numpy (float32 by default: the speed of the direct solve; float64 for the tests) or on
torch (CPU or CUDA) with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass
class RidgeCVResult:
    """best_alphas (V,), coef (D, V), intercept (V,), cv_scores (V,) mean R² at the best alpha."""

    best_alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    cv_scores: np.ndarray


def _eigh_cov(xtr: Any, xp: Any) -> tuple[Any, Any]:
    """Eigenvalues (clipped at 0: float32 round-off) and vectors of X'X."""
    cov = xtr.T @ xtr
    if xp is not np:
        s, v = xp.linalg.eigh(cov)
        return s.clamp(min=0), v
    # one LAPACK thread: a (D, D) eigh with D ~ 500 takes 0.1 s on one core, and 1-3 s with two
    # OpenBLAS threads on a loaded 2-core machine (measured; the threads wait on each other)
    with threadpool_limits(1, user_api="blas"):
        s, v = np.linalg.eigh(cov)
    return np.clip(s, 0, None), v


def _r2(y: Any, pred: Any) -> Any:
    """R² per column as himalaya's r2_score: 1 − SSE / SST (SST about the test mean)."""
    sse = ((y - pred) ** 2).sum(0)
    sst = ((y - y.mean(0)) ** 2).sum(0)
    return 1 - sse / sst


def ridge_cv_eigh(
    x: np.ndarray,
    y: np.ndarray,
    alphas: Sequence[float] | np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    dtype: Any = np.float32,
    device: str | None = None,
    n_targets_batch: int = 8192,
) -> RidgeCVResult:
    """x (N, D), y (N, V), splits [(train rows, test rows)] -> per-target alphas and the refit.
    device: None for numpy, else a torch device ("cpu", "cuda")."""
    xp: Any
    xa: Any
    ya: Any
    al: Any
    if device is None:
        xp = np
        xa, ya = np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
        al = np.asarray(alphas, dtype=dtype)
    else:
        import torch

        xp = torch
        tdtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
        xa = torch.as_tensor(np.asarray(x), dtype=tdtype, device=device)
        ya = torch.as_tensor(np.asarray(y), dtype=tdtype, device=device)
        al = torch.as_tensor(np.asarray(alphas), dtype=tdtype, device=device)
    n_alphas, n_targets = len(al), ya.shape[1]
    scores = np.zeros((n_alphas, n_targets))  # summed over splits, float64 as himalaya's mean
    for train, test in splits:
        xtr, xte = xa[train], xa[test]
        mean = xtr.mean(0)
        xtr, xte = xtr - mean, xte - mean
        s, v = _eigh_cov(xtr, xp)
        a = xte @ v  # (n_test, D)
        xtv = xtr @ v  # (n_train, D)
        for start in range(0, n_targets, n_targets_batch):
            cols = slice(start, start + n_targets_batch)
            ytr, yte = ya[train][:, cols], ya[test][:, cols]
            ymean = ytr.mean(0)
            b = xtv.T @ (ytr - ymean)  # (D, V_batch)
            yte = yte - ymean
            for k in range(n_alphas):
                pred = (a / (s + al[k])) @ b
                scores[k, cols] += _to_numpy(_r2(yte, pred))
    mean_scores = scores / len(splits)
    # himalaya's tie rule: an epsilon slope towards the larger alpha
    alphas64 = np.asarray(alphas, dtype=np.float64)  # the caller's values, not float32's
    chosen = np.argmax(mean_scores + 1e-10 * np.log(alphas64)[:, None], axis=0)
    cv_scores = mean_scores[chosen, np.arange(n_targets)]
    coef, intercept = _refit(xa, ya, al, chosen, xp)
    return RidgeCVResult(alphas64[chosen], coef, intercept, cv_scores)


def _refit(xa: Any, ya: Any, al: Any, chosen: np.ndarray, xp: Any) -> tuple[np.ndarray, ...]:
    """Coefficients on all rows, each target with its chosen alpha (grouped by alpha)."""
    mean, ymean = xa.mean(0), ya.mean(0)
    xc = xa - mean
    s, v = _eigh_cov(xc, xp)
    coef = np.zeros((xa.shape[1], ya.shape[1]), dtype=_to_numpy(ya[:1, :1]).dtype)
    for k in np.unique(chosen):
        cols = np.flatnonzero(chosen == k)
        idx = cols if xp is np else xp.as_tensor(cols, device=ya.device)
        b = (xc @ v).T @ (ya[:, idx] - ymean[idx])
        coef[:, cols] = _to_numpy(v @ (b / (s + al[int(k)])[:, None]))
    intercept = _to_numpy(ymean) - _to_numpy(mean) @ coef
    return coef, intercept


def _to_numpy(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()
