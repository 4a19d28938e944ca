"""Compiled (numba) CPU kernels of the fold statistics: one pass over the pairs per sort order
and block of resamples, with every step fused (issue 40).

The array form in `stats/rank_resamples.py` (numpy or torch) spends a fold's Spearman
bootstrap in a dozen full passes over (pairs x resamples) buffers per order: gathers of the
counts, products, a cumulative sum as a matrix product, offsets, a store, a gather and a sum.
Here one loop walks each sorted order once, keeps the running weight of each resample in a
small array and writes only what the two orders must share: the target's v per pair, and the
prediction's w v, which a second loop joins with them bucket by bucket (a block of resamples
is the inner, contiguous axis). The
permutation null is one loop per permutation over the upper triangle, gathering the relabelled
target from one row of the table at a time (a row stays in the core's cache).

numba was already installed for thingsvision. Kernels compile on first use in a process
(about 2 s, once: not cached on disk, which would write next to the installed package). They
release the GIL, so blocks of resamples run on this process's share of the cores as threads
(`stats/backend.py`).

Definitions are those of `stats/rank_resamples.py`: with pair weights w = c[a] * c[b] in a
resample, a pair's v = 2 * (weight before its tie group) + (weight of its tie group) is twice
its mid-rank plus a constant, and with W = sum w the centred sums are sum w v v' - W^3.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=False, fastmath=False)
def _group_weight(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, s: int, e: int, group: np.ndarray
) -> None:  # pragma: no cover - compiled
    """group[j] = sum of the weights c[a, j] * c[b, j] of sorted positions s..e-1 (a tie
    group: its pairs share one mid-rank, so their total weight comes first)."""
    group[:] = 0.0
    for p in range(s, e):
        ca, cb = c[a[p]], c[b[p]]
        for j in range(group.size):
            group[j] += ca[j] * cb[j]


@numba.njit(nogil=True, cache=False, fastmath=False)
def target_pass(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, starts: np.ndarray, stored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Walk the target's sorted pairs once for a block of resamples.

    c: (n, r) float64 counts; a, b: (P,) pair images in sorted order; starts: (G + 1,)
    first sorted position of each tie group, then P; stored: (P, r) out, v of each sorted
    position. Returns (W (r,), sum w v^2 (r,)), float64.
    """
    r = c.shape[1]
    carry = np.zeros(r)
    square = np.zeros(r)
    group = np.zeros(r)
    for g in range(starts.size - 1):
        s, e = starts[g], starts[g + 1]
        if e - s == 1:
            ca, cb = c[a[s]], c[b[s]]
            for j in range(r):
                w = ca[j] * cb[j]
                v = 2.0 * carry[j] + w
                stored[s, j] = v
                square[j] += w * v * v
                carry[j] += w
            continue
        _group_weight(c, a, b, s, e, group)
        for p in range(s, e):
            ca, cb = c[a[p]], c[b[p]]
            for j in range(r):
                v = 2.0 * carry[j] + group[j]
                stored[p, j] = v
                square[j] += ca[j] * cb[j] * v * v
        for j in range(r):
            carry[j] += group[j]
    return carry, square


@numba.njit(nogil=True, cache=False, fastmath=False)
def prediction_pass(
    c: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    starts: np.ndarray,
    slot: np.ndarray,
    slot_target: np.ndarray,
    stored: np.ndarray,
    products: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Walk one prediction's sorted pairs once for a block of resamples, then join their
    w v with the target's v (`stored`, from `target_pass`).

    As `target_pass`, with slot: (P,) where each of these sorted pairs writes its w v in
    `products` (P, r) float64, and slot_target: (P,) the row of `stored` of the pair in each
    slot (`join_layout`). The join is a loop of its own: its reads of `stored` are
    independent of each other (many in flight), where inside the walk they queued behind it.
    Returns (sum w v^2, sum w v v_target), each (r,) float64.
    """
    r = c.shape[1]
    carry = np.zeros(r)
    square = np.zeros(r)
    cross = np.zeros(r)
    group = np.zeros(r)
    for g in range(starts.size - 1):
        s, e = starts[g], starts[g + 1]
        if e - s == 1:
            ca, cb, u = c[a[s]], c[b[s]], products[slot[s]]
            for j in range(r):
                w = ca[j] * cb[j]
                v = 2.0 * carry[j] + w
                u[j] = w * v
                square[j] += w * v * v
                carry[j] += w
            continue
        _group_weight(c, a, b, s, e, group)
        for p in range(s, e):
            ca, cb, u = c[a[p]], c[b[p]], products[slot[p]]
            for j in range(r):
                v = 2.0 * carry[j] + group[j]
                u[j] = ca[j] * cb[j] * v
                square[j] += u[j] * v
        for j in range(r):
            carry[j] += group[j]
    for m in range(slot_target.size):
        u, t = products[m], stored[slot_target[m]]
        for j in range(r):
            cross[j] += u[j] * t[j]
    return square, cross


@numba.njit(nogil=True, cache=False, fastmath=False)
def permuted_block(
    tables: np.ndarray, weights: np.ndarray, perms: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """out[r, k] += sum over x < y of weights[k, x, y] * tables[k, p[x], p[y]] for each row p
    of perms (R, n); tables, weights: (q, n, n) float32 (weights zero on and below the
    diagonal); out: (R, q) float64. A row's products add in float32 (four accumulators: the
    additions overlap), rows in float64; rows outermost, so a row of weights serves all the
    block's permutations."""
    q, n = tables.shape[0], tables.shape[1]
    for k in range(q):
        for x in range(n - 1):
            wrow = weights[k, x]  # read once for the block's permutations (it stays in cache)
            for r in range(perms.shape[0]):
                p = perms[r]
                row = tables[k, p[x]]
                a0 = a1 = a2 = a3 = np.float32(0.0)
                y = x + 1
                while y + 3 < n:
                    a0 += wrow[y] * row[p[y]]
                    a1 += wrow[y + 1] * row[p[y + 1]]
                    a2 += wrow[y + 2] * row[p[y + 2]]
                    a3 += wrow[y + 3] * row[p[y + 3]]
                    y += 4
                while y < n:
                    a0 += wrow[y] * row[p[y]]
                    y += 1
                out[r, k] += (a0 + a1) + (a2 + a3)


def join_layout(at_target: np.ndarray, bucket_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(slot, slot_target) of `prediction_pass` for at_target (P,), the target-sorted
    position of each of a prediction's sorted pairs, and the target positions where the
    buckets after the first start: slots grouped by bucket (the join reads one bucket's rows
    of `stored` at a time), in the prediction's order within a bucket."""
    bucket = np.searchsorted(bucket_starts, at_target, side="right")
    order = np.argsort(bucket, kind="stable")
    slot = np.empty(at_target.size, dtype=at_target.dtype)
    slot[order] = np.arange(at_target.size, dtype=at_target.dtype)
    return slot, np.ascontiguousarray(at_target[order])


def group_starts(sorted_values: np.ndarray) -> np.ndarray:
    """(G + 1,) intp first position of each run of equal values in sorted_values (P,), then P."""
    new = np.empty(sorted_values.size, dtype=bool)
    new[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.append(np.flatnonzero(new), sorted_values.size).astype(np.intp)
