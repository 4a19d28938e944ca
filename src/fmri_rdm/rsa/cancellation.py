"""Squared Euclidean distances where the GEMM expansion cancels, recomputed exactly.

d² = |a|² + |b|² − 2a·b in float32 loses about eps32·(|a|² + |b|²)·(a few) to cancellation,
which is most of d² for near-duplicate rows far from the mean. Where d² is below
`CANCELLATION` of |a|² + |b|², it is recomputed as Σ(a − b)² in float64 from the input rows,
which keeps every distance within ~1e-5 relative (float32 rounding).
"""

from __future__ import annotations

import numpy as np

CANCELLATION = 0.03
PAIR_ELEMENTS = 1 << 22  # pair features gathered at once (32 MB of float64)


def exact_squared(
    x: np.ndarray, i: np.ndarray, j: np.ndarray, *, out: np.ndarray, at: np.ndarray | None = None
) -> None:
    """out[at] = Σ_k (x[i, k] − x[j, k])² in float64, in chunks of pairs (at: all of out).

    x: (N, F); i, j: (P,) row indices; out: float array written in place."""
    chunk = max(1, PAIR_ELEMENTS // max(x.shape[1], 1))
    for s in range(0, len(i), chunk):
        diff = np.asarray(x[i[s : s + chunk]], dtype=np.float64) - x[j[s : s + chunk]]
        where = slice(s, s + len(diff)) if at is None else at[s : s + chunk]
        out[where] = np.einsum("ij,ij->i", diff, diff)


def refine_close_pairs(
    d2: np.ndarray,
    n: int,
    responses: np.ndarray,
    sq_norm: np.ndarray,
    start: int,
    stop: int,
) -> None:
    """Recompute in place the squared distances of one block of a condensed RDM that
    cancellation makes imprecise.

    d2: the block's values, rows start..stop of n, each row r's pairs (r, r+1..n-1) in turn;
    responses: (n, F) the input rows; sq_norm: (n,) |row|² of the (centred) rows the GEMM used.
    A scalar bound over the block finds the candidates with one comparison per pair; only those
    are checked against their own pair's |a|² + |b|² and recomputed exactly.
    """
    bound = CANCELLATION * (float(sq_norm[start:stop].max()) + float(sq_norm[start:].max()))
    cand = np.flatnonzero(d2 < bound)
    if cand.size == 0:
        return
    rows = np.arange(start, stop)
    first = np.concatenate([[0], np.cumsum(n - 1 - rows)])  # each row's first position
    k = np.searchsorted(first, cand, side="right") - 1
    r = rows[k]
    c = r + 1 + (cand - first[k])
    close = d2[cand] < CANCELLATION * (sq_norm[r] + sq_norm[c])
    exact_squared(responses, r[close], c[close], out=d2, at=cand[close])
