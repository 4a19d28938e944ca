"""Stimulus bootstrap of a fold's test scores, vectorized over resamples.

Convention (as rsatoolbox's `bootstrap_sample_pattern`): resample the fold's test images with
replacement and keep the pairs among the drawn images; a pair of two copies of one image has no
RDM entry and is dropped. A resample with image counts c therefore holds pair (a, b) exactly
c[a] * c[b] times, so its score is a *weighted* score over the fold's test pairs with weights
w_p = c[i_p] * c[j_p]. That holds for any subset of the pairs among the test images
(distribution = extremes / balanced) too.

Weighted moment sums need no (resamples x pairs) array: with X the (n, n) matrix holding a
per-pair value at [a, b], sum_p w_p x_p = c^T X c, so a (B, n) block of counts gives all B sums
with one matrix product (dense X) or one sparse product (few pairs per image), `stats/pair_sums.py`.
Spearman needs the resample's own mid-ranks (duplicated pairs are ties): cumulative sums of the
weights in a sort order taken once, blocks of resamples at a time (`stats/rank_resamples.py`,
numpy or torch).
"""

from __future__ import annotations

import numpy as np

from fmri_rdm.errors import DataError
from fmri_rdm.stats.pair_sums import pair_totals, weighted_sums
from fmri_rdm.stats.rank_resamples import weighted_spearman

SCORES = ("pearson", "spearman", "r2", "mse")
LOWER_IS_BETTER = frozenset({"mse"})


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
    cols = [t, t * t]
    for p in preds - shift:
        cols += [p, p * p, t * p]
    # one matrix product per column: the total weight has a closed form for all pairs, and
    # the residual sum of squares is stt - 2 stp + spp (centred values: no cancellation)
    s = weighted_sums(counts, a, b, np.stack(cols, axis=1))
    w, st, stt = pair_totals(counts, a, b), s[:, 0], s[:, 1]
    out: dict[str, list[np.ndarray]] = {"pearson": [], "r2": [], "mse": []}
    for k in range(preds.shape[0]):
        sp, spp, stp = s[:, 2 + 3 * k : 5 + 3 * k].T
        sres = np.maximum(stt - 2.0 * stp + spp, 0.0)
        out["pearson"].append(_pearson_from_sums(w, st, sp, stt, spp, stp))
        with np.errstate(invalid="ignore", divide="ignore"):
            tot = stt - st * st / w
            out["mse"].append(np.where(w > 0, sres / w, np.nan))
            out["r2"].append(np.where((w > 0) & (tot > 0), 1.0 - sres / tot, np.nan))
    return {name: np.stack(rows) for name, rows in out.items()}


def bootstrap_scores(
    target: np.ndarray,
    predictions: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    counts: np.ndarray,
    scores: tuple[str, ...] = SCORES,
    device: str = "cpu",
    raw: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """{score: (K, B)} of K predictions (K, P) (or one (P,)) against target (P,) in B resamples.

    a, b: (P,) positions of the pair images among the fold's n test images; counts: (B, n)
    from `resample_counts`. The same counts for every prediction make differences paired.
    device: where the Spearman resamples run, `cpu` (numpy) or a torch device
    (`stats/backend.py`; the moment scores are one matrix product on the CPU either way).
    raw: the uncalibrated predictions, shaped as `predictions` (None: `predictions` are them):
    Pearson and Spearman are scored on them, R² and MSE on `predictions`
    (`rsa.scores.regression_scores`).
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
        out["spearman"] = weighted_spearman(counts, a, b, target, correlated, device)
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
