"""Weighted sums over a fold's test pairs for many bootstrap resamples at once.

A resample with image counts c weights pair p = (a, b) by c_a * c_b, so with X the (n, n)
matrix holding a per-pair value at [a, b], sum_p c_a c_b x_p = c^T X c: a (B, n) block of
counts gives all B sums with one matrix product (dense X) or one sparse product (few pairs per
image). Used by the bootstrap's moment scores and by the rank resamples' closed-form spreads.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_DENSE_FRACTION = 1 / 16  # pairs / n^2 above which a dense GEMM beats the sparse product


def weighted_sums(
    counts: np.ndarray, a: np.ndarray, b: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """(B, K) float64: sum_p counts[:, a_p] * counts[:, b_p] * values[p, k] for each resample.

    counts: (B, n); a, b: (P,) positions in [0, n); values: (P, K). Pairs are unordered and
    summed as listed (a repeated pair counts twice).
    """
    c = np.asarray(counts, dtype=np.float64)
    n = c.shape[1]
    values = np.asarray(values, dtype=np.float64).reshape(len(a), -1)
    out = np.empty((c.shape[0], values.shape[1]))
    dense = len(a) >= _DENSE_FRACTION * n * n
    flat = np.asarray(a, dtype=np.int64) * n + np.asarray(b, dtype=np.int64)
    for k in range(values.shape[1]):
        if dense:  # one GEMM (B, n) @ (n, n): BLAS speed, no (B, P) temporary
            x = np.bincount(flat, weights=values[:, k], minlength=n * n).reshape(n, n)
            out[:, k] = np.einsum("bn,bn->b", c @ x, c)
        else:
            xs = sparse.csr_matrix((values[:, k], (a, b)), shape=(n, n))
            out[:, k] = np.einsum("nb,bn->b", xs @ c.T, c)
    return out


def pair_totals(counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(B,) float64 total pair weight sum_p counts[:, a_p] * counts[:, b_p] of each resample.

    Where the pairs are every pair of the n images once (a fold's test pairs), it is
    ((sum c)^2 - sum c^2) / 2, exact for whole counts, without the matrix product.
    """
    c = np.asarray(counts, dtype=np.float64)
    n = c.shape[1]
    if len(a) == n * (n - 1) // 2 and _every_pair_once(np.asarray(a), np.asarray(b), n):
        s = c.sum(axis=1)
        return (s * s - np.einsum("bn,bn->b", c, c)) / 2
    return weighted_sums(c, a, b, np.ones(len(a)))[:, 0]


def _every_pair_once(a: np.ndarray, b: np.ndarray, n: int) -> bool:
    """Whether the unordered pairs (a, b) are n * (n - 1) / 2 distinct pairs of distinct
    images in [0, n) (given that many pairs, distinct means every one)."""
    if a.size == 0:
        return True
    if (a == b).any() or min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n:
        return False
    seen = np.zeros((n, n), dtype=bool)
    seen[a, b] = True
    seen[b, a] = True
    return int(np.count_nonzero(seen)) == 2 * a.size
