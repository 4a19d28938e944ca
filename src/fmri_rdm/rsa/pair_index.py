"""Pairs (i, j), i < j, as positions in a condensed RDM, in one compiled pass (numba).

The numpy form of `N*i - i*(i+1)//2 + (j - i - 1)` with its checks makes about ten full
temporaries of the pairs (int64 copies, the checks, each product): at the 31 M training pairs
of a full subject's fold, about 0.6 s a call and a few calls a fold. One loop checks, indexes
and (for `condensed_values`) gathers each pair as it goes, about 20x faster; the pairs of a
fold are mostly in pdist order, so the gather reads the RDM nearly in order.
"""

from __future__ import annotations

import numpy as np

from fmri_rdm.errors import DataError
from fmri_rdm.runtime.compiled import compiled


@compiled
def _first_invalid(i: np.ndarray, j: np.ndarray, n: int) -> int:  # pragma: no cover - compiled
    """The first p without 0 <= i[p] < j[p] < n, or -1."""
    for p in range(i.size):
        if i[p] < 0 or i[p] >= j[p] or j[p] >= n:
            return p
    return -1


@compiled
def _positions(i: np.ndarray, j: np.ndarray, n: int, out: np.ndarray) -> int:  # pragma: no cover
    """out[p] = condensed position of (i[p], j[p]) (int64 arithmetic); the first invalid p
    (stopping there) or -1."""
    for p in range(i.size):
        a, b = np.int64(i[p]), np.int64(j[p])
        if a < 0 or a >= b or b >= n:
            return p
        out[p] = n * a - a * (a + 1) // 2 + (b - a - 1)
    return -1


@compiled
def _gather(
    rdm: np.ndarray, i: np.ndarray, j: np.ndarray, n: int, out: np.ndarray
) -> int:  # pragma: no cover
    """out[p] = rdm at the condensed position of (i[p], j[p]); as `_positions`."""
    for p in range(i.size):
        a, b = np.int64(i[p]), np.int64(j[p])
        if a < 0 or a >= b or b >= n:
            return p
        out[p] = rdm[n * a - a * (a + 1) // 2 + (b - a - 1)]
    return -1


def _integer_pairs(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.asarray(i), np.asarray(j)
    if i.shape != j.shape:
        raise DataError(f"pair index arrays differ in shape: i {i.shape} vs j {j.shape}")
    for x in (i, j):
        if x.size and not np.issubdtype(x.dtype, np.integer):
            raise DataError(f"pair indices must be integers, got {x.dtype}")
    return np.ascontiguousarray(i.ravel()), np.ascontiguousarray(j.ravel())


def _raise_at(p: int, i: np.ndarray, j: np.ndarray, n: int) -> None:
    if p >= 0:
        raise DataError(
            f"pair indices must satisfy 0 <= i < j < {n}; pair {p} is ({int(i[p])}, {int(j[p])})"
        )


def check_pairs(i: np.ndarray, j: np.ndarray, n: int) -> None:
    """Raise DataError unless i, j (same shape, integers) have 0 <= i < j < n everywhere."""
    fi, fj = _integer_pairs(i, j)
    if fi.size:
        _raise_at(_first_invalid(fi, fj, n), fi, fj, n)


def condensed_positions(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """(shape of i,) int64 condensed (pdist-order) positions of pairs (i, j), i < j, among n
    items. Raises DataError on invalid pairs."""
    fi, fj = _integer_pairs(i, j)
    out = np.empty(fi.size, dtype=np.int64)
    if fi.size:
        _raise_at(_positions(fi, fj, n, out), fi, fj, n)
    return out.reshape(np.shape(i))


def condensed_values(rdm: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """(shape of i,) rdm's values (its dtype) at the pairs (i, j), i < j, among n items."""
    fi, fj = _integer_pairs(i, j)
    out = np.empty(fi.size, dtype=rdm.dtype)
    if fi.size:
        _raise_at(_gather(np.ascontiguousarray(rdm), fi, fj, n, out), fi, fj, n)
    return out.reshape(np.shape(i))
