"""Compiled (numba) CPU kernels of the fold statistics: one pass over the pairs per sort order
and block of resamples, with every step fused (issue 40).

The array form in `stats/rank_resamples.py` (numpy or torch) spends a fold's Spearman
bootstrap in a dozen full passes over (pairs x resamples) buffers per order: gathers of the
counts, products, a cumulative sum as a matrix product, offsets, a store, a gather and a sum.
Here one loop walks each sorted order once and keeps the running weight of each resample in
a small array. A prediction's walk writes its w (v - W) per pair (float32: a rounding of
2^-24 relative, so at most 2^-24 on rho) into one sequential stream per join bucket; the
target's walk keeps its v - W for one bucket of consecutive sorted positions in cache and
joins every prediction's rows of that bucket at once, so only the predictions' rows travel
through memory. A block of 32 resamples is the inner, contiguous axis (a pair's row: two
cache lines): the walks cost about as much per pair at 32 lanes as at 16, where they are
bound by the per-pair work (indices, a running sum through memory), not by bandwidth. The
permutation null is one loop per permutation over the upper triangle, gathering the relabelled
target from one row of the table at a time, read in order once first so that the hardware
prefetcher brings the row in (the gathers alone wait on one cache miss after another).

numba was already installed for thingsvision. Kernels compile on first use (about 2 s) and
numba caches the machine code on disk (`runtime/compiled.py`: `__pycache__` beside this
module, as Python's bytecode, or `NUMBA_CACHE_DIR`), so later processes load them in about
0.3 s. They
release the GIL, so blocks of resamples run on this process's share of the cores as threads
(`stats/backend.py`).

Definitions are those of `stats/rank_resamples.py`: with pair weights w = c[a] * c[b] in a
resample, a pair's v = 2 * (weight before its tie group) + (weight of its tie group) is twice
its mid-rank plus a constant, and with W = sum w its weighted mean is W: the kernels centre
as they go, so no sum cancels.
"""

from __future__ import annotations

import numpy as np

from fmri_rdm.runtime.compiled import compiled


@compiled
def _walk(
    c: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    starts: np.ndarray,
    groups: tuple[int, int],
    total: np.ndarray,
    state: np.ndarray,
    slot: np.ndarray,
    out: np.ndarray,
    weighted: bool,
) -> None:  # pragma: no cover - compiled
    """Tie groups groups[0]..groups[1] - 1 of one sorted order, for a block of resamples.

    c: (n, r) counts; a, b: (P,) pair images in sorted order; starts: (G + 1,) first sorted
    position of each tie group, then P; total: (r,) W; state: (3, r) float64, the running
    weight, sum w (v - W)^2 and a tie group's weight, carried from the groups before. Each
    position p writes d = v - W (weighted: w d) to row slot[p] of out, or with an empty
    slot, row p - starts[groups[0]].
    """
    r = c.shape[1]
    first = starts[groups[0]]
    for g in range(groups[0], groups[1]):
        s, e = starts[g], starts[g + 1]
        if e - s > 1:  # a tie group's pairs share its mid-rank: its total weight first
            for j in range(r):
                state[2, j] = 0.0
            for p in range(s, e):
                ca, cb = c[a[p]], c[b[p]]
                for j in range(r):
                    state[2, j] += ca[j] * cb[j]
        for p in range(s, e):
            ca, cb = c[a[p]], c[b[p]]
            row = out[slot[p]] if slot.size else out[p - first]
            for j in range(r):
                w = ca[j] * cb[j]
                k = state[0, j]
                d = 2.0 * k + (w if e - s == 1 else state[2, j]) - total[j]
                row[j] = w * d if weighted else d
                state[1, j] += w * d * d
                if e - s == 1:
                    state[0, j] = k + w
        if e - s > 1:
            for j in range(r):
                state[0, j] += state[2, j]


@compiled
def prediction_walk(
    c: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    starts: np.ndarray,
    total: np.ndarray,
    slot: np.ndarray,
    products: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """Walk one prediction's sorted pairs once for a block of resamples (`_walk`).

    slot: (P,) the row of products (P, r) float32 where each sorted position writes its
    w (v - W) (a rounding of 2^-24 relative, so at most 2^-24 on rho): rows grouped by the
    target's join bucket (`join_layout`), so the writes go to one sequential stream per
    bucket and the join reads them in order. Returns sum w (v - W)^2, (r,) float64.
    """
    state = np.zeros((3, c.shape[1]))
    _walk(c, a, b, starts, (0, starts.size - 1), total, state, slot, products, True)
    return state[1].copy()


@compiled
def target_join(
    c: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    starts: np.ndarray,
    total: np.ndarray,
    bucket_groups: np.ndarray,
    products: np.ndarray,
    local: np.ndarray,
    bounds: np.ndarray,
    buffer: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Walk the target's sorted pairs once for a block of resamples (`_walk`), joining each
    bucket of them with every prediction's w (v - W) while the bucket's v - W are in cache.

    bucket_groups: (H + 1,) the first tie group of each bucket of consecutive sorted
    positions, then G; products: (K, P, r) of the predictions (`prediction_walk`); rows m in
    bounds[k, h]..bounds[k, h + 1] of prediction k join row local[k, m] (local: (K, P)) of
    bucket h; buffer: (rows, r), a bucket's v - W (float32 where exact). Returns (sum
    w (v - W)^2 (r,), sum w (v - W)(v_k - W) (K, r)), float64.
    """
    r = c.shape[1]
    state = np.zeros((3, r))
    none = np.empty(0, dtype=bounds.dtype)
    # two rows of sums per prediction: consecutive rows add into different ones (the
    # additions of one row do not wait for those of the row before)
    cross = np.zeros((products.shape[0], 2, r))
    for h in range(bucket_groups.size - 1):
        groups = (bucket_groups[h], bucket_groups[h + 1])
        _walk(c, a, b, starts, groups, total, state, none, buffer, False)
        for k in range(products.shape[0]):
            into = cross[k]
            m, end = bounds[k, h], bounds[k, h + 1]
            while m + 1 < end:
                u0, t0 = products[k, m], buffer[local[k, m]]
                u1, t1 = products[k, m + 1], buffer[local[k, m + 1]]
                for j in range(r):
                    into[0, j] += u0[j] * t0[j]
                    into[1, j] += u1[j] * t1[j]
                m += 2
            if m < end:
                u0, t0 = products[k, m], buffer[local[k, m]]
                for j in range(r):
                    into[0, j] += u0[j] * t0[j]
    return state[1].copy(), cross[:, 0] + cross[:, 1]


@compiled
def permuted_block(
    tables: np.ndarray, weights: np.ndarray, perms: np.ndarray, out: np.ndarray
) -> float:  # pragma: no cover - compiled
    """out[r, k] += sum over x < y of weights[k, x, y] * tables[k, p[x], p[y]] for each row p
    of perms (R, n) (unsigned); tables, weights: (q, n, n) float32 (weights zero on and below
    the diagonal); out: (R, q) float64. A row's products add in float32 (four accumulators:
    the additions overlap), rows in float64; rows outermost, so a row of weights serves all
    the block's permutations. Returns a sum of no meaning (of the touched lines, below)."""
    q, n = tables.shape[0], tables.shape[1]
    touched = np.float32(0.0)
    for k in range(q):
        for x in range(n - 1):
            wrow = weights[k, x]  # read once for the block's permutations (it stays in cache)
            for r in range(perms.shape[0]):
                p = perms[r]
                row = tables[k, p[x]]
                # one read per cache line of the row, in order: the prefetcher streams it in,
                # where the gathers below would each wait for their line (30 % of the time)
                for y in range(0, n, 16):
                    touched += row[y]
                a0 = a1 = a2 = a3 = np.float32(0.0)
                for i in range((n - x - 1) // 4):
                    y = x + 1 + 4 * i
                    a0 += wrow[y] * row[p[y]]
                    a1 += wrow[y + 1] * row[p[y + 1]]
                    a2 += wrow[y + 2] * row[p[y + 2]]
                    a3 += wrow[y + 3] * row[p[y + 3]]
                for y in range(x + 1 + 4 * ((n - x - 1) // 4), n):
                    a0 += wrow[y] * row[p[y]]
                out[r, k] += (a0 + a1) + (a2 + a3)
    return float(touched)


def bucket_layout(starts: np.ndarray, rows: int) -> np.ndarray:
    """(H + 1,) first tie group of each bucket of about `rows` consecutive sorted positions
    (a bucket ends where a tie group ends), then G; starts as in `prediction_walk`."""
    cuts = np.searchsorted(starts[:-1], np.arange(rows, int(starts[-1]), rows), side="left")
    return np.unique(np.concatenate([[0], cuts, [starts.size - 1]]))


@compiled
def join_layout(
    target_position: np.ndarray, bucket_first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """(slot, local, bounds) of one prediction in `prediction_walk` and `target_join`:
    target_position (P,) is the target-sorted position of each of its sorted pairs,
    bucket_first (H + 1,) the first sorted position of each bucket, then P. Rows are grouped
    by bucket, in the prediction's order within one (a counting sort: two passes)."""
    size, buckets = target_position.size, bucket_first.size - 1
    bucket_of = np.empty(bucket_first[-1], dtype=np.int32)
    for h in range(buckets):
        bucket_of[bucket_first[h] : bucket_first[h + 1]] = h
    bounds = np.zeros(buckets + 1, dtype=target_position.dtype)
    for m in range(size):
        bounds[bucket_of[target_position[m]] + 1] += 1
    for h in range(buckets):
        bounds[h + 1] += bounds[h]
    fill = bounds[:-1].copy()
    slot = np.empty(size, dtype=target_position.dtype)
    local = np.empty(size, dtype=target_position.dtype)
    for m in range(size):
        t = target_position[m]
        h = bucket_of[t]
        slot[m] = fill[h]
        local[fill[h]] = t - bucket_first[h]
        fill[h] += 1
    return slot, local, bounds


@compiled
def group_starts(sorted_values: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """(G + 1,) int64 first position of each run of equal values in sorted_values (P,),
    then P."""
    size = sorted_values.size
    groups = 1 if size else 0
    for p in range(1, size):
        groups += sorted_values[p] != sorted_values[p - 1]
    out = np.empty(groups + 1, dtype=np.int64)
    g = 0
    for p in range(size):
        if p == 0 or sorted_values[p] != sorted_values[p - 1]:
            out[g] = p
            g += 1
    out[groups] = size
    return out
