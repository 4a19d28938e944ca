"""The per-resample numpy reference of the fold statistics, kept for `bench.statistics_device`
and the tests (issue 40): the code `stats/bootstrap.py` and `stats/permutation.py` ran before
the resample loops became linear blocks over an array backend.

Bootstrap Spearman: each resample gathers its pair weights in the target's and each
prediction's sort order (sorted once), cumulative sums give the mid-ranks, float32 dot products
the sums. Permutation null: one (P,) gather of the relabelled target per permutation; with a
subset of the pairs the relabelled targets are re-ranked (scipy's rankdata).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.stats.bootstrap import _pearson_from_sums


class RankOrder:
    """Sort order and tie groups of one value vector (P,), computed once for all resamples."""

    def __init__(self, values: np.ndarray) -> None:
        self.order = np.argsort(values, kind="stable").astype(np.intp)
        v = np.asarray(values)[self.order]
        new = np.concatenate([[True], v[1:] != v[:-1]])
        self.ties = not new.all()
        if self.ties:
            group = np.cumsum(new) - 1
            starts = np.flatnonzero(new)
            ends = np.append(starts[1:], v.size) - 1
            self.first, self.last = starts[group], ends[group]

    def centred_ranks(self, w_sorted: np.ndarray) -> tuple[np.ndarray, int]:
        """(2 * (mid-rank - mean rank), total weight) in sorted order, float32 (P,)."""
        cs = np.cumsum(w_sorted, dtype=w_sorted.dtype)
        total = int(cs[-1])
        if self.ties:
            before = cs[self.first] - w_sorted[self.first]
            twice = 2 * before + (cs[self.last] - before) - total
        else:
            twice = 2 * cs - w_sorted - total
        return twice.astype(np.float32), total


class SpearmanSetup:
    """The sorts of `weighted_spearman`, done once (timed apart from the resample loop)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, target: np.ndarray, preds: np.ndarray):
        self.t_order = RankOrder(np.asarray(target))
        self.at, self.bt = np.asarray(a)[self.t_order.order], np.asarray(b)[self.t_order.order]
        self.p_orders = []
        for p in np.atleast_2d(preds):
            o = RankOrder(np.asarray(p)[self.t_order.order])
            self.p_orders.append((o, self.at[o.order], self.bt[o.order]))


def spearman_resample(setup: SpearmanSetup, c: np.ndarray) -> np.ndarray:
    """(K,) Spearman rho of each prediction in the resample with image counts c (n,)."""
    wt = np.take(c, setup.at) * np.take(c, setup.bt)
    rt, total = setup.t_order.centred_ranks(wt)
    wrt = wt.astype(np.float32) * rt
    stt = float(np.dot(wrt, rt))
    out = np.empty(len(setup.p_orders))
    for k, (o, ap, bp) in enumerate(setup.p_orders):
        wp = np.take(c, ap) * np.take(c, bp)
        rp, _ = o.centred_ranks(wp)
        wrp = wp.astype(np.float32) * rp
        spp, stp = float(np.dot(wrp, rp)), float(np.dot(wrp, np.take(rt, o.order)))
        out[k] = _pearson_from_sums(np.float64(total), 0.0, 0.0, stt, spp, stp)
    return out


def weighted_spearman(counts, a, b, target, predictions) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(K, B) as `stats.rank_resamples.weighted_spearman`, one resample at a time."""
    counts = np.asarray(counts, dtype=np.int32 if counts.shape[1] < 40_000 else np.int64)
    setup = SpearmanSetup(a, b, target, predictions)
    return np.stack([spearman_resample(setup, c) for c in counts], axis=1)


def pearson_null(square, a, b, x, perms) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(R,) Pearson r of x (P,) with square[perm[a], perm[b]] per permutation row."""
    n = square.shape[0]
    iu = np.triu_indices(n, 1)
    flat = (square - square[iu].mean()).astype(np.float32).ravel()
    centred = x - x.mean()
    xc = (centred / max(float(np.linalg.norm(centred)), 1e-300)).astype(np.float32)
    out = np.empty(len(perms))
    for r, p in enumerate(perms):
        y = np.take(flat, np.take(p * n, a) + np.take(p, b))
        s1, s2, sxy = float(y.sum(dtype=np.float64)), float(y @ y), float(y @ xc)
        var = s2 - s1 * s1 / len(a)
        out[r] = sxy / np.sqrt(var) if var > 1e-9 * max(s2, 1e-300) else np.nan
    return out


def rank_table(square: np.ndarray) -> np.ndarray:
    """(n, n) mid-ranks of the upper-triangle values, symmetric (all-pairs Spearman null)."""
    iu = np.triu_indices(square.shape[0], 1)
    ranks = np.zeros_like(square)
    ranks[iu] = rankdata(square[iu])
    return ranks + ranks.T


def permutation_null(square, a, b, prediction, perms, statistics=("pearson", "spearman")):  # type: ignore[no-untyped-def]
    """{statistic: (R,)} as `stats.permutation.permutation_null`, one permutation at a time."""
    a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
    x = np.asarray(prediction, dtype=np.float64)
    n = square.shape[0]
    out = {}
    if "pearson" in statistics:
        out["pearson"] = pearson_null(square, a, b, x, perms)
    if "spearman" in statistics:
        if len(a) == n * (n - 1) // 2:
            out["spearman"] = pearson_null(rank_table(square), a, b, rankdata(x), perms)
        else:
            rx = rankdata(x)
            rx = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean())
            ry = rankdata(square[perms[:, a], perms[:, b]], axis=1)
            ry -= ry.mean(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["spearman"] = (ry @ rx) / np.linalg.norm(ry, axis=1)
    return out
