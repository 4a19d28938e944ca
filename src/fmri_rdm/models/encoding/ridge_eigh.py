"""Ridge with one penalty per target, chosen by K-fold CV: one eigendecomposition per split.

The same estimator as himalaya's `RidgeCV` with `fit_intercept=True`, `local_alpha=True` and
an R² score (what the encoding model asks of it), computed as a direct solve: per split, the
centred training inputs' covariance X'X (D, D) is diagonalised once, the targets are projected
once (B = V' X' Y, (D, V)), and then every alpha's test error costs one product, not a fresh
solve: (D, D) @ (D, V) with the test rows' Gram matrix where they outnumber the dimensions,
else the predictions (n_test, D) @ (D, V). The refit on all images groups the targets by
their alpha.

Targets go in batches (`n_targets_batch` columns, the outer loop): each batch of Y is read
once (only its rows of `rows`, never a copy of the whole Y), scored on every split and alpha
in place (one prediction buffer; the test sum of squares once per split), its alphas chosen
and refitted; the decompositions of the splits and of all rows are computed once before. Peak
memory is Y's owner plus a few batches.

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


@dataclass
class _Split:
    """One split's decomposition: train / test rows, eigenvalues s (D,), test inputs in the
    eigenbasis a (n_test, D), their Gram matrix a'a (D, D) where n_test > D (else None),
    training inputs in the eigenbasis xtv (n_train, D)."""

    train: Any
    test: Any
    s: Any
    a: Any
    gram: Any
    xtv: Any


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


def _split(xa: Any, train: np.ndarray, test: np.ndarray, xp: Any) -> _Split:
    xtr, xte = xa[train], xa[test]
    mean = xtr.mean(0)
    xtr, xte = xtr - mean, xte - mean
    s, v = _eigh_cov(xtr, xp)
    a = xte @ v
    # the test Gram matrix pays off when the test rows outnumber the dimensions
    gram = a.T @ a if a.shape[0] > a.shape[1] else None
    return _Split(train, test, s, a, gram, xtr @ v)


def _batch_scores(sp: _Split, yb: Any, al: Any, xp: Any, scores: np.ndarray) -> None:
    """Add each alpha's test R² (himalaya's r2_score: 1 - SSE / SST about the test mean) of the
    targets yb (N, Vb) on split sp to scores (n_alphas, Vb)."""
    ytr, yte = yb[sp.train], yb[sp.test]
    ymean = ytr.mean(0)
    ytr -= ymean
    yte -= ymean
    b = sp.xtv.T @ ytr  # (D, Vb)
    sst = _to_numpy(((yte - yte.mean(0)) ** 2).sum(0)).astype(np.float64)
    if sp.gram is None:
        sse = _errors_by_prediction(sp, yte, b, al, xp)
    else:
        sse = _errors_by_gram(sp, yte, b, al)
    for k in range(len(al)):
        scores[k] += 1 - sse[k] / sst


def _errors_by_prediction(sp: _Split, yte: Any, b: Any, al: Any, xp: Any) -> list[np.ndarray]:
    """Each alpha's SSE (Vb,) from its predictions a diag(g) b, g = 1 / (s + alpha)."""
    pred = xp.empty_like(yte)
    out = []
    for k in range(len(al)):
        xp.matmul(sp.a / (sp.s + al[k]), b, out=pred)
        pred -= yte
        pred *= pred
        out.append(_to_numpy(pred.sum(0)).astype(np.float64))
    return out


def _errors_by_gram(sp: _Split, yte: Any, b: Any, al: Any) -> list[np.ndarray]:
    """Each alpha's SSE (Vb,) without its predictions: with c = a'y and G = a'a,
    SSE = |y|^2 - 2 g'(c * b) + b' diag(g) G diag(g) b per target, a (D, D) @ (D, Vb) product
    per alpha instead of (n_test, D) @ (D, Vb) and three passes over the predictions (2-3x
    fewer operations at a fold's n_test ~ 3 D; closer to a float64 solve's choice of alpha
    than the predictions' float32 sums, `bench/encoding_full_scale.py`)."""
    yy = _to_numpy((yte * yte).sum(0)).astype(np.float64)
    cb = (sp.a.T @ yte) * b  # (D, Vb)
    out = []
    for k in range(len(al)):
        g = 1 / (sp.s + al[k])
        quad = _to_numpy((b * ((sp.gram * (g[:, None] * g[None, :])) @ b)).sum(0))
        cross = _to_numpy(g @ cb).astype(np.float64)
        out.append(np.maximum(yy - 2 * cross + quad.astype(np.float64), 0.0))
    return out


def ridge_cv_eigh(
    x: np.ndarray,
    y: np.ndarray,
    alphas: Sequence[float] | np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    dtype: Any = np.float32,
    device: str | None = None,
    n_targets_batch: int = 8192,
    rows: np.ndarray | None = None,
) -> RidgeCVResult:
    """x (N, D), y (N, V) (or (M, V) with rows (N,): the rows of y that x describes), splits
    [(train rows, test rows)] of the N rows -> per-target alphas and the refit.
    device: None for numpy, else a torch device ("cpu", "cuda")."""
    xp: Any = np
    if device is not None:
        import torch

        xp = torch
    to = _converter(xp, dtype, device)
    xa, al = to(x), to(alphas)
    n_targets = y.shape[1]
    split_parts = [_split(xa, train, test, xp) for train, test in splits]
    mean = xa.mean(0)
    xc = xa - mean
    s, v = _eigh_cov(xc, xp)
    xcv = xc @ v
    alphas64 = np.asarray(alphas, dtype=np.float64)  # the caller's values, not float32's
    coef = np.zeros((xa.shape[1], n_targets), dtype=np.dtype(dtype))
    ymean = np.zeros(n_targets, dtype=np.dtype(dtype))
    chosen = np.zeros(n_targets, dtype=np.intp)
    cv_scores = np.zeros(n_targets)
    for start in range(0, n_targets, n_targets_batch):
        cols = slice(start, min(start + n_targets_batch, n_targets))
        yb = to(y[:, cols]) if rows is None else to(y[rows, cols], copy=False)
        scores = np.zeros((len(al), yb.shape[1]))  # summed over splits, float64 as himalaya
        for sp in split_parts:
            _batch_scores(sp, yb, al, xp, scores)
        mean_scores = scores / len(split_parts)
        # himalaya's tie rule: an epsilon slope towards the larger alpha
        best = np.argmax(mean_scores + 1e-10 * np.log(alphas64)[:, None], axis=0)
        chosen[cols], cv_scores[cols] = best, mean_scores[best, np.arange(len(best))]
        ybm = yb.mean(0)
        yb -= ybm
        ymean[cols] = _to_numpy(ybm)
        b = xcv.T @ yb  # (D, Vb)
        for k in np.unique(best):
            sel = np.flatnonzero(best == k)
            idx = sel if xp is np else xp.as_tensor(sel, device=yb.device)
            coef[:, start + sel] = _to_numpy(v @ (b[:, idx] / (s + al[int(k)])[:, None]))
    intercept = ymean - _to_numpy(mean) @ coef
    return RidgeCVResult(alphas64[chosen], coef, intercept, cv_scores)


def _converter(xp: Any, dtype: Any, device: str | None) -> Any:
    """numpy array -> an array of the backend in `dtype`: a copy (batches change in place),
    unless copy=False and the input is already a fresh array of that dtype (numpy)."""
    if xp is np:
        return lambda a, copy=True: np.array(a, dtype=dtype, copy=copy or None)
    tdtype = xp.float64 if np.dtype(dtype) == np.float64 else xp.float32
    return lambda a, copy=True: xp.tensor(np.asarray(a), dtype=tdtype, device=device)


def _to_numpy(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()
