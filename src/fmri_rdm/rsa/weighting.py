"""Linear combinations of candidate RDMs, fitted from Gram matrices of the pair columns.

A fit over P pairs of K candidate RDMs needs only the (K+2, K+2) Gram matrix of the columns
[1, x_1 .. x_K, y] over those pairs, so tens of millions of pairs reduce to a few numbers in one
pass (`pair_gram`, `block_grams`) and every fit or score after that is O(K^3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize

from fmri_rdm.errors import DataError

# Pairs per pass when forming Gram matrices: bounds the float64 temporaries (~2 MB a column).
_CHUNK = 1 << 18


def _columns(candidates: Sequence[np.ndarray], y: np.ndarray) -> list[np.ndarray]:
    """[x_1 .. x_K, y] as 1-D arrays of one length (any float dtype; converted per chunk)."""
    cols = [np.asarray(c) for c in candidates] + [np.asarray(y)]
    if any(c.ndim != 1 or c.shape != cols[-1].shape for c in cols):
        raise DataError(
            f"candidate and target vectors must be 1-D of one length, got {[c.shape for c in cols]}"
        )
    return cols


def block_grams(
    candidates: Sequence[np.ndarray], y: np.ndarray, block: np.ndarray, n_blocks: int
) -> np.ndarray:
    """(n_blocks, K+2, K+2) Gram matrices of [1, x_1..x_K, y] over the pairs of each block.

    candidates: K (P,) vectors; y: (P,); block: (P,) int in [0, n_blocks), or -1 for pairs to
    leave out. Each product of two columns is summed per block with one bincount per chunk.
    """
    cols = _columns(candidates, y)
    block = np.asarray(block)
    if block.shape != cols[-1].shape:
        raise DataError(f"block labels must be ({cols[-1].size},), got {block.shape}")
    c = len(cols) + 1
    grams = np.zeros((n_blocks, c, c), dtype=np.float64)
    upper = [(a, b) for a in range(c) for b in range(a, c)]
    for start in range(0, block.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        labels = block[part].astype(np.int64)
        keep = labels >= 0
        labels = labels[keep]
        z = [np.ones(labels.size)] + [col[part][keep].astype(np.float64) for col in cols]
        for a, b in upper:
            sums = np.bincount(labels, weights=z[a] * z[b], minlength=n_blocks)
            grams[:, a, b] += sums
    for a, b in upper:
        grams[:, b, a] = grams[:, a, b]
    return grams


def pair_gram(candidates: Sequence[np.ndarray], y: np.ndarray) -> np.ndarray:
    """(K+2, K+2) Gram matrix of [1, x_1..x_K, y] over all P pairs."""
    size = np.asarray(y).shape[0]
    return block_grams(candidates, y, np.zeros(size, dtype=np.int8), 1)[0]


def _centred(gram: np.ndarray, subset: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred (S, S) covariance-sums of the chosen candidates, (S,) with y, and (S+1,) means.

    subset: 0-based candidate indices (column 1 + k of the Gram). Returns (cxx, cxy, means)
    where means[:-1] are the candidates' means and means[-1] is y's.
    """
    n = gram[0, 0]
    if n < 2:
        raise DataError(f"a fit needs at least 2 pairs, got {int(n)}")
    cols = [1 + k for k in subset] + [gram.shape[0] - 1]
    sums = gram[0, cols]
    cross = gram[np.ix_(cols, cols)] - np.outer(sums, sums) / n
    return cross[:-1, :-1], cross[:-1, -1], sums / n


def least_squares(gram: np.ndarray, subset: Sequence[int]) -> tuple[float, np.ndarray]:
    """Ordinary least squares y ~ b0 + X_S w from a Gram: (b0, (S,) w); collinear -> min-norm."""
    cxx, cxy, means = _centred(gram, subset)
    w = np.linalg.lstsq(cxx, cxy, rcond=None)[0] if len(subset) else np.zeros(0)
    return float(means[-1] - means[:-1] @ w), w


def nonnegative_least_squares(gram: np.ndarray) -> tuple[float, np.ndarray]:
    """y ~ b0 + X w with every w_k >= 0 and a free intercept b0, from a Gram: (b0, (K,) w).

    The centred problem min w'Cw - 2c'w (C = centred X'X) is rewritten as min |R w - t|^2 with
    R = sqrt(L) V' from C's eigendecomposition (zero eigenvalues dropped) and solved by scipy's
    Lawson-Hanson NNLS.
    """
    k = gram.shape[0] - 2
    cxx, cxy, means = _centred(gram, list(range(k)))
    values, vectors = np.linalg.eigh(cxx)
    keep = values > values.max(initial=0.0) * 1e-12
    if not np.any(keep):
        return float(means[-1]), np.zeros(k)
    root = np.sqrt(values[keep])
    r = root[:, None] * vectors[:, keep].T
    t = (vectors[:, keep].T @ cxy) / root
    w = optimize.nnls(r, t)[0]
    return float(means[-1] - means[:-1] @ w), w


def sse(gram: np.ndarray, intercept: float, weights: np.ndarray, subset: Sequence[int]) -> float:
    """Sum of squared residuals of y - b0 - X_S w over the pairs of a Gram."""
    u = np.zeros(gram.shape[0])
    u[0] = -intercept
    u[[1 + k for k in subset]] = -np.asarray(weights)
    u[-1] = 1.0
    return float(max(u @ gram @ u, 0.0))


def r_squared(
    gram: np.ndarray, intercept: float, weights: np.ndarray, subset: Sequence[int]
) -> float:
    """1 - SSE / SST of a fitted combination on the pairs of a Gram (SST about their own mean);
    NaN when y is constant there."""
    n = gram[0, 0]
    sst = gram[-1, -1] - gram[0, -1] ** 2 / n if n else 0.0
    if sst <= 0.0:
        return float("nan")
    return 1.0 - sse(gram, intercept, weights, subset) / sst
