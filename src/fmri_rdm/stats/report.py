"""Per-fold and run-level intervals and p-values, as the dicts metrics.json holds.

Layout (every existing key stays; these are additions):

    folds[k]["test_ci"]      = {score: {"ci_low": x, "ci_high": y}}     95 % stimulus bootstrap
    folds[k]["test_p_value"] = {"pearson": p, "spearman": p}           permutation test
    folds[k]["statistics"]   = {"n_bootstrap": B, "n_permutations": R, "level": 0.95}
    test[score] gains "ci_low"/"ci_high" (interval of the fold-mean score) and, for pearson and
    spearman, "p_value" (combined over folds), beside the existing mean/std/n.

Run level: fold k's resample b and permutation r are independent draws, so the fold-mean score
of resample index b is a bootstrap draw of the fold-mean (its percentile interval), and the
fold-mean statistic of permutation index r is a draw from its null (the folds are disjoint
image sets relabelled independently): p = (1 + #{mean null >= mean observed}) / (1 + R).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fmri_rdm.rsa.scores import regression_scores
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats import permutation as perm


@dataclass
class FoldStatistics:
    """Bootstrap samples {score: (B,)}, permutation null {statistic: (R,)} and observed values
    of one fold, with the interval level."""

    observed: dict[str, float]
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    null: dict[str, np.ndarray] = field(default_factory=dict)
    level: float = 0.95

    def intervals(self) -> dict[str, dict[str, float | None]]:
        out = {}
        for name, s in self.samples.items():
            lo, hi = boot.percentile_interval(s, self.level)
            out[name] = {"ci_low": _finite(lo), "ci_high": _finite(hi)}
        return out

    def p_values(self) -> dict[str, float | None]:
        return {
            name: _finite(perm.p_value(self.observed.get(name, math.nan), null))
            for name, null in self.null.items()
        }

    def as_metrics(self) -> dict[str, Any]:
        """The keys to add to this fold's metrics.json dict."""
        n_boot = len(next(iter(self.samples.values()))) if self.samples else 0
        n_perm = len(next(iter(self.null.values()))) if self.null else 0
        return {
            "test_ci": self.intervals(),
            "test_p_value": self.p_values(),
            "statistics": {"n_bootstrap": n_boot, "n_permutations": n_perm, "level": self.level},
        }


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def fold_statistics(
    rdm: np.ndarray,
    n_images: int,
    i: np.ndarray,
    j: np.ndarray,
    target: np.ndarray,
    prediction: np.ndarray,
    test_images: np.ndarray,
    *,
    seed: int,
    n_boot: int = 1000,
    n_perm: int = 1000,
    level: float = 0.95,
    scores: tuple[str, ...] = boot.SCORES,
    device: str = "cpu",
    raw: np.ndarray | None = None,
) -> FoldStatistics:
    """Bootstrap intervals and permutation p-values of one regression fold.

    rdm: condensed brain RDM over all `n_images`; i, j: (P,) test pairs (image indices of the
    run); target, prediction: (P,); test_images: the fold's test images (every image the
    bootstrap resamples, also those without a test pair). n_boot / n_perm = 0 skip a part.
    device: `cpu` (numpy) or `cuda` (torch): where the resample blocks run (`stats/backend.py`).
    raw: (P,) the uncalibrated predictions (None: `prediction` is them): the correlations,
    their intervals and their permutation tests use them; R² and MSE use `prediction`.
    """
    a, b, n = boot.local_pairs(i, j, test_images)
    images = np.unique(np.asarray(test_images, dtype=np.int64))
    t = np.asarray(target, dtype=np.float64)
    p = np.asarray(prediction, dtype=np.float64)
    r = p if raw is None else np.asarray(raw, dtype=np.float64)
    rng = np.random.default_rng([int(seed), 12])
    ones = np.ones((1, n), dtype=np.int64)
    observed = {
        k: float(v[0, 0]) for k, v in boot.bootstrap_scores(t, p, a, b, ones, scores, raw=r).items()
    }
    stats = FoldStatistics(observed, level=level)
    if n_boot > 0:
        counts = boot.resample_counts(rng, n, n_boot)
        stats.samples = {
            k: v[0] for k, v in boot.bootstrap_scores(t, p, a, b, counts, scores, device, r).items()
        }
    if n_perm > 0:
        square = perm.square_rdm_among(rdm, n_images, images)
        wanted = tuple(s for s in perm.STATISTICS if s in scores)
        perms = perm.permutations(rng, n, n_perm)
        null = perm.permutation_null(square, a, b, r, perms, wanted, device)
        stats.observed |= {k: float(v[0]) for k, v in null.items()}  # same code as the null
        stats.null = {k: v[1:] for k, v in null.items()}
    return stats


def summarize_statistics(folds: Sequence[FoldStatistics]) -> dict[str, dict[str, float | None]]:
    """{score: {"ci_low", "ci_high"[, "p_value"]}} of the fold-mean score (module docstring).

    Folds must share n_boot / n_perm (they do when one config made them).
    """
    if not folds:
        return {}
    level = folds[0].level
    out: dict[str, dict[str, float | None]] = {}
    for name in folds[0].samples:
        stacked = np.stack([f.samples[name] for f in folds])
        lo, hi = boot.percentile_interval(np.nanmean(stacked, axis=0), level)
        out[name] = {"ci_low": _finite(lo), "ci_high": _finite(hi)}
    for name in folds[0].null:
        null = np.mean(np.stack([f.null[name] for f in folds]), axis=0)
        observed = float(np.mean([f.observed[name] for f in folds]))
        out.setdefault(name, {})["p_value"] = _finite(perm.p_value(observed, null))
    return out


def add_statistics(metrics: dict[str, Any], folds: Sequence[FoldStatistics]) -> dict[str, Any]:
    """Add intervals and p-values to a metrics.json dict in place (and return it).

    metrics["folds"][k] (in the order of `folds`) gets `FoldStatistics.as_metrics()`;
    metrics["test"][score] gains ci_low / ci_high / p_value. No existing key is replaced.
    """
    for fold_dict, stats in zip(metrics["folds"], folds, strict=True):
        for key, value in stats.as_metrics().items():
            fold_dict.setdefault(key, value)
    for name, extra in summarize_statistics(folds).items():
        entry = metrics.setdefault("test", {}).setdefault(name, {})
        for key, value in extra.items():
            entry.setdefault(key, value)
    return metrics


ALL_PAIRS_SCORES = ("pearson", "spearman")  # scale-free: no calibration fitted on held-out pairs


def all_pairs_metrics(
    rdm: np.ndarray,
    n_images: int,
    i: np.ndarray,
    j: np.ndarray,
    target: np.ndarray,
    prediction: np.ndarray,
    *,
    seed: int,
    n_boot: int = 1000,
    n_perm: int = 1000,
    level: float = 0.95,
    device: str = "cpu",
) -> dict[str, Any]:
    """metrics.json's `all_pairs` of a fixed model (nothing fitted, so every pair is a test
    pair): {n_pairs, n_images, test: {score: {mean, ci_low, ci_high, p_value}}} of the
    correlations of `prediction` (P,) (raw, uncalibrated) with `target` (P,) on the run's
    pairs i, j (P,), with a stimulus bootstrap over all the run's images and a permutation
    test (`fold_statistics` on one fold holding every image). `mean` is the score itself
    (one value, no folds)."""
    images = np.unique(np.concatenate([np.asarray(i), np.asarray(j)]))
    scores = regression_scores(target, prediction)
    if n_boot == 0 and n_perm == 0:  # the scores alone (their resampled form would repeat them)
        test = {name: {"mean": scores[name]} for name in ALL_PAIRS_SCORES}
        return {"n_pairs": len(i), "n_images": int(images.size), "test": test}
    stats = fold_statistics(
        rdm,
        n_images,
        i,
        j,
        target,
        prediction,
        images,
        seed=seed,
        n_boot=n_boot,
        n_perm=n_perm,
        level=level,
        scores=ALL_PAIRS_SCORES,
        device=device,
    )
    intervals, p_values = stats.intervals(), stats.p_values()
    test = {
        name: {"mean": scores[name], **intervals.get(name, {})}
        | ({"p_value": p_values[name]} if name in p_values else {})
        for name in ALL_PAIRS_SCORES
    }
    return {"n_pairs": len(i), "n_images": int(images.size), "test": test}


def summary_line(entry: Mapping[str, Any] | None) -> str:
    """`[lo, hi] p=…` of a top-level test entry, '' when it has neither."""
    if not entry:
        return ""
    parts = []
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        parts.append(f"[{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]")
    if entry.get("p_value") is not None:
        parts.append(f"p={entry['p_value']:.3g}")
    return " ".join(parts)
