"""Stimulus bootstrap of a fold's test scores, vectorized over resamples.

Convention (as rsatoolbox's `bootstrap_sample_pattern`): resample the fold's test images with
replacement and keep the pairs among the drawn images; a pair of two copies of one image has no
RDM entry and is dropped. A resample with image counts c therefore holds pair (a, b) exactly
c[a] * c[b] times, so its score is a *weighted* score over the fold's test pairs with weights
w_p = c[i_p] * c[j_p]. That holds for any subset of the pairs among the test images
(distribution = extremes / balanced) too.

Weighted moment sums need no (resamples x pairs) array: with X the (n, n) matrix holding a
per-pair value at [a, b], sum_p w_p x_p = c^T X c, so a (B, n) block of counts gives all B sums
with one matrix product (dense X) or one sparse product (few pairs per image). Spearman needs the
resample's own mid-ranks (duplicated pairs are ties), computed per resample with one cumsum in a
fixed sort order (`weighted_spearman`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from fmri_rdm.errors import DataError

SCORES = ("pearson", "spearman", "r2", "mse")
LOWER_IS_BETTER = frozenset({"mse"})
_DENSE_FRACTION = 1 / 16  # pairs / n^2 above which a dense GEMM beats the sparse product


def local_pairs(
    i: np.ndarray, j: np.ndarray, images: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """(a, b, n): positions of the pair images i, j (P,) in the sorted unique `images` (n,).

    Raises DataError when a pair uses an image that is not in `images`.
    """
    images = np.unique(np.asarray(images, dtype=np.int64))
    i64, j64 = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    a, b = np.searchsorted(images, i64), np.searchsorted(images, j64)
    n = images.size
    ok = (a < n) & (b < n)
    ok[ok] &= (images[a[ok]] == i64[ok]) & (images[b[ok]] == j64[ok])
    if not ok.all():
        raise DataError(f"{int((~ok).sum())} test pairs use images outside the fold's test images")
    return a, b, n


def resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) int64: how often each of n images is drawn in each bootstrap resample."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)


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


def _pearson_from_sums(w, sx, sy, sxx, syy, sxy) -> np.ndarray:
    """Weighted Pearson r from weighted sums (all (B,) arrays); NaN where undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = sx / w, sy / w
        vx, vy = sxx / w - mx * mx, syy / w - my * my
        r = (sxy / w - mx * my) / np.sqrt(vx * vy)
        tiny = 1e-12 * np.maximum(np.abs(sxx / w), np.abs(syy / w))
    return np.where((w > 0) & (vx > tiny) & (vy > tiny), np.clip(r, -1.0, 1.0), np.nan)


def moment_scores(
    counts: np.ndarray, a: np.ndarray, b: np.ndarray, target: np.ndarray, predictions: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted Pearson, R² and MSE of each prediction row in every resample.

    counts: (B, n); a, b: (P,); target: (P,); predictions: (K, P). Returns {name: (K, B)}.
    Values are centred first (their unweighted mean) so the moment sums do not cancel.
    """
    t = np.asarray(target, dtype=np.float64)
    preds = np.atleast_2d(np.asarray(predictions, dtype=np.float64))
    shift = t.mean()
    t = t - shift
    cols = [np.ones_like(t), t, t * t]
    for p in preds - shift:
        cols += [p, p * p, t * p, (t - p) ** 2]
    s = weighted_sums(counts, a, b, np.stack(cols, axis=1))
    w, st, stt = s[:, 0], s[:, 1], s[:, 2]
    out: dict[str, list[np.ndarray]] = {"pearson": [], "r2": [], "mse": []}
    for k in range(preds.shape[0]):
        sp, spp, stp, sres = s[:, 3 + 4 * k : 7 + 4 * k].T
        out["pearson"].append(_pearson_from_sums(w, st, sp, stt, spp, stp))
        with np.errstate(invalid="ignore", divide="ignore"):
            tot = stt - st * st / w
            out["mse"].append(np.where(w > 0, sres / w, np.nan))
            out["r2"].append(np.where((w > 0) & (tot > 0), 1.0 - sres / tot, np.nan))
    return {name: np.stack(rows) for name, rows in out.items()}


class _RankOrder:
    """Sort order and tie groups of one value vector (P,), computed once for all resamples."""

    def __init__(self, values: np.ndarray) -> None:
        self.order = np.argsort(values, kind="stable").astype(np.intp)
        v = np.asarray(values)[self.order]
        new = np.concatenate([[True], v[1:] != v[:-1]])
        self.ties = not new.all()
        if self.ties:  # first and last sorted position of each value's tie group
            group = np.cumsum(new) - 1
            starts = np.flatnonzero(new)
            ends = np.append(starts[1:], v.size) - 1
            self.first, self.last = starts[group], ends[group]

    def centred_ranks(self, w_sorted: np.ndarray) -> tuple[np.ndarray, int]:
        """(2 * (mid-rank - mean rank), total weight) in sorted order, float32 (P,).

        w_sorted: (P,) integer weights in sorted order. The mid-ranks are those the duplicated
        data would get (an entry of weight w is w tied copies); their weighted mean is
        (W + 1) / 2. Integer cumsum keeps the ranks exact.
        """
        cs = np.cumsum(w_sorted, dtype=w_sorted.dtype)
        total = int(cs[-1])
        if self.ties:
            before = cs[self.first] - w_sorted[self.first]
            twice = 2 * before + (cs[self.last] - before) - total
        else:
            twice = 2 * cs - w_sorted - total
        return twice.astype(np.float32), total


def weighted_spearman(
    counts: np.ndarray, a: np.ndarray, b: np.ndarray, target: np.ndarray, predictions: np.ndarray
) -> np.ndarray:
    """(K, B) Spearman rho of each prediction row in every resample (ranks of the resample).

    counts: (B, n); a, b: (P,); target: (P,); predictions: (K, P). O(B * P): per resample one
    cumsum per vector in a sort order computed once; arrays are 1-D so every gather from the
    small counts row stays in cache, and only one (P,) gather per prediction is random.
    """
    preds = np.atleast_2d(np.asarray(predictions))
    # 2 * total weight <= n^2 fits int32 (half the memory traffic) below ~46k images
    counts = np.asarray(counts, dtype=np.int32 if counts.shape[1] < 40_000 else np.int64)
    t_order = _RankOrder(np.asarray(target))
    at, bt = np.asarray(a)[t_order.order], np.asarray(b)[t_order.order]  # target order
    p_orders = []
    for p in preds:
        o = _RankOrder(np.asarray(p)[t_order.order])
        p_orders.append((o, at[o.order], bt[o.order]))  # pair images in prediction order
    out = np.empty((preds.shape[0], counts.shape[0]))
    for r, c in enumerate(counts):
        wt = np.take(c, at) * np.take(c, bt)
        rt, total = t_order.centred_ranks(wt)
        wrt = wt.astype(np.float32) * rt
        stt = float(np.dot(wrt, rt))
        for k, (o, ap, bp) in enumerate(p_orders):
            wp = np.take(c, ap) * np.take(c, bp)
            rp, _ = o.centred_ranks(wp)
            wrp = wp.astype(np.float32) * rp
            spp = float(np.dot(wrp, rp))
            stp = float(np.dot(wrp, np.take(rt, o.order)))  # target ranks in prediction order
            # float64: a resample without pairs (total 0) gives NaN, not ZeroDivisionError
            out[k, r] = _pearson_from_sums(np.float64(total), 0.0, 0.0, stt, spp, stp)
    return out


def bootstrap_scores(
    target: np.ndarray,
    predictions: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    counts: np.ndarray,
    scores: tuple[str, ...] = SCORES,
    spearman: Callable[..., np.ndarray] | None = None,
    raw: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """{score: (K, B)} of K predictions (K, P) (or one (P,)) against target (P,) in B resamples.

    a, b: (P,) positions of the pair images among the fold's n test images; counts: (B, n)
    from `resample_counts`. The same counts for every prediction make differences paired.
    spearman: the Spearman resample loop, `weighted_spearman` by default
    (`stats.accelerated.bootstrap_scores` passes its torch one). raw: the uncalibrated
    predictions, shaped as `predictions` (None: `predictions` are them): Pearson and Spearman
    are scored on them, R² and MSE on `predictions` (`rsa.scores.regression_scores`).
    """
    unknown = set(scores) - set(SCORES)
    if unknown:
        raise ValueError(f"unknown scores {sorted(unknown)}; choose among {SCORES}")
    correlated = predictions if raw is None else raw
    wanted = set(scores)
    out: dict[str, np.ndarray] = {}
    if raw is None and wanted & {"pearson", "r2", "mse"}:
        out |= moment_scores(counts, a, b, target, predictions)
    else:
        if "pearson" in wanted:
            out["pearson"] = moment_scores(counts, a, b, target, correlated)["pearson"]
        if wanted & {"r2", "mse"}:
            moments = moment_scores(counts, a, b, target, predictions)
            out |= {k: moments[k] for k in ("r2", "mse")}
    if "spearman" in wanted:
        out["spearman"] = (spearman or weighted_spearman)(counts, a, b, target, correlated)
    return {name: out[name] for name in scores}


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap samples (undefined resamples, NaN, ignored)."""
    finite = np.asarray(samples, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
