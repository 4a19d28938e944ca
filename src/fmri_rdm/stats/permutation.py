"""Permutation test of a fold's score against chance (Mantel-style), vectorized over permutations.

Pairs share images, so they are not independent and a per-pair test is invalid. The null
relabels the fold's test images of the TARGET RDM: with a permutation pi of the test images,
target'(a, b) = RDM[pi(a), pi(b)], read from the brain RDM restricted to the test images (all
pairs among them, also when the fold's test pairs are a subset: extremes / balanced), while the
predictions stay where they are. Under H0 (the predictions carry no information about which
image is which) every relabelling is equally likely, so

    p = (1 + #{null >= observed}) / (1 + n_perm)        (one-sided: "better than chance")

The observed statistic goes through the same code as the null (the identity relabelling), so
rounding cannot separate them.

Cost per permutation is linear in the pairs, written once for numpy and torch
(`stats/backend.py`): a Pearson r is one permuted gather of the square target (and, for a
subset of pairs, of its square and the subset's mask) against the fixed prediction; with all
pairs, relabelling only reorders the target values, so their ranks are taken once and gathered
the same way for Spearman; with a subset, the relabelled subset is a 0/1 weight on all pairs in
the target's (fixed) sorted order, and its mid-ranks are the cumulative sums of
`stats/rank_resamples.py`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.stats import rank_resamples as rr
from fmri_rdm.stats.backend import Backend, backend_for

STATISTICS = ("pearson", "spearman")


def square_rdm_among(rdm: np.ndarray, n_images: int, images: np.ndarray) -> np.ndarray:
    """(n, n) float64 square RDM among the sorted test images (n,), from the condensed RDM over
    all `n_images`; the diagonal is 0 and never read by a pair."""
    images = np.unique(np.asarray(images, dtype=np.int64))
    n = images.size
    a, b = np.triu_indices(n, 1)
    square = np.zeros((n, n))
    values = rdm_lib.rdm_values(rdm, images[a], images[b], n_images)
    square[a, b] = values
    square[b, a] = values
    return square


def _upper(n: int, a: np.ndarray, b: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(n, n) float32 with values (P,) at (min, max) of each pair (a, b), zero elsewhere."""
    out = np.zeros((n, n), dtype=np.float32)
    out[np.minimum(a, b), np.maximum(a, b)] = values
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean()
    return centred / max(float(np.linalg.norm(centred)), 1e-300)


def _correlation(sxy: np.ndarray, s1: Any, s2: Any, count: int) -> np.ndarray:
    """r of the unit prediction with the relabelled targets from their sums; NaN where the
    relabelled target is constant."""
    var = s2 - s1 * s1 / count
    ok = var > 1e-9 * np.maximum(s2, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, sxy / np.sqrt(np.where(ok, var, 1.0)), np.nan)


def permutation_null(
    square: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    prediction: np.ndarray,
    perms: np.ndarray,
    statistics: tuple[str, ...] = STATISTICS,
    device: str = "cpu",
) -> dict[str, np.ndarray]:
    """{statistic: (R,)} of the prediction (P,) against the relabelled target in each
    permutation row of `perms` (R, n) (a row of arange(n) gives the observed statistic).

    square: (n, n) target RDM among the test images (`square_rdm_among`); a, b: (P,) pair
    positions; device: `cpu` (numpy) or a torch device (`stats/backend.py`).
    """
    n = square.shape[0]
    xb = backend_for(device, exact=n * n < 1 << 24)  # 0/1 weights: integer ranks
    a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
    x = np.asarray(prediction, dtype=np.float64)
    iu = np.triu_indices(n, 1)
    all_pairs = len(a) == iu[0].size
    centred = square - square[iu].mean()
    tables, weights, names = [], [], []
    if "pearson" in statistics:
        tables.append(centred)
        weights.append(_upper(n, a, b, _unit(x)))
        if not all_pairs:  # the relabelled subset's sum and sum of squares
            mask = _upper(n, a, b, np.ones(len(a)))
            tables += [centred, centred * centred]
            weights += [mask, mask]
    if "spearman" in statistics and all_pairs:
        ranks = np.zeros_like(square)
        with ThreadPoolExecutor(2) as pool:  # both sorts at once: numpy sorts without the GIL
            ranks[iu], rank_x = pool.map(rankdata, [square[iu], x])
        ranks += ranks.T
        tables.append(ranks - ranks[iu].mean())
        weights.append(_upper(n, a, b, _unit(rank_x)))
        names.append("spearman")
    out: dict[str, np.ndarray] = {}
    if tables:
        sums = xb.permuted_sums(np.stack(tables).astype(np.float32), np.stack(weights), perms)
    if "pearson" in statistics:
        if all_pairs:  # relabelling reorders the same values: their spread is fixed
            y = centred[iu]
            s1, s2 = float(y.sum()), float(y @ y)
        else:
            s1, s2 = sums[:, 1], sums[:, 2]
        out["pearson"] = _correlation(sums[:, 0], s1, s2, len(a))
    if "spearman" in statistics:
        if all_pairs:
            y = tables[-1][iu]
            out["spearman"] = _correlation(sums[:, -1], float(y.sum()), float(y @ y), len(a))
        else:
            out["spearman"] = _subset_spearman(xb, square, a, b, x, np.asarray(perms))
    return {name: out[name] for name in statistics}


def _subset_spearman(
    xb: Backend, square: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray, perms: Any
) -> np.ndarray:
    """(R,) Spearman rho when the pairs are a subset: relabelling pi moves the subset to the
    pairs (pi(a), pi(b)); over all pairs in the target's sorted order, the subset is a 0/1
    weight whose cumulative sums give the relabelled targets' mid-ranks."""
    n = square.shape[0]
    u, v = np.triu_indices(n, 1)
    values = square[u, v]
    order = np.argsort(values, kind="stable")
    chunks = [
        rr.to_chunk(xb, raw, slice(0)) for raw in rr.layout(order, values[order], u, v, n, xb)
    ]
    side = n + 1  # image n pads a chunk: its row and column are zero
    member, ranks_x = np.zeros((side, side)), np.zeros((side, side))
    rx = rankdata(x) - (len(x) + 1) / 2
    member[a, b] = member[b, a] = 1.0
    ranks_x[a, b] = ranks_x[b, a] = rx
    flat_m, flat_r = xb.asarray(member.ravel()), xb.asarray(ranks_x.ravel())
    total = float(len(a))
    cube, spp, mean_rx = total**3, float(rx @ rx), float(rx.sum())
    out = np.empty(len(perms))
    block = min(len(perms), xb.block_size(u.size))
    ws = rr.Workspace(xb, max(ch.a.shape[0] for ch in chunks), block)
    for s in range(0, len(perms), block):
        inverse = np.full((side, block), n)  # a last, short block repeats the padding image
        part = perms[s : s + block]
        inverse[:n, : len(part)] = np.argsort(part, axis=1).T
        inv = xb.index(inverse)
        carry = xb.zeros((block,))
        stt, stp = xb.zeros((block,), float64=True), xb.zeros((block,), float64=True)
        for ch in chunks:
            idx = xb.take(inv, ch.a) * side + xb.take(inv, ch.b)
            w = xb.gather(flat_m, idx)
            ranks_t, carry = rr.ranks(xb, w, ch, carry, ws)
            w *= ranks_t
            g = xb.gather(flat_r, idx)
            g *= w
            stp += xb.column_sums(g.reshape(xb.segment, -1, block))
            w *= ranks_t
            stt += xb.column_sums(w.reshape(xb.segment, -1, block))
        sxy = xb.to_numpy(stp) - total * mean_rx
        rho = rr.rho_from_sums(sxy, xb.to_numpy(stt) - cube, spp, cube)
        out[s : s + len(part)] = rho[: len(part)]
    return out


def permutations(rng: np.random.Generator, n: int, n_perm: int) -> np.ndarray:
    """(n_perm + 1, n) intp: the identity (observed) first, then n_perm random permutations."""
    rows = [np.arange(n)] + [rng.permutation(n) for _ in range(n_perm)]
    return np.stack(rows).astype(np.intp)


def p_value(observed: float, null: np.ndarray) -> float:
    """(1 + #{null >= observed}) / (1 + len(null)); NaN when the observed value is undefined.
    Undefined null values (a constant relabelled target) count as not exceeding."""
    if not np.isfinite(observed):
        return float("nan")
    null = np.asarray(null, dtype=np.float64)
    exceed = np.count_nonzero(np.isfinite(null) & (null >= observed - 1e-12 * abs(observed)))
    return float((1 + exceed) / (1 + null.size))
