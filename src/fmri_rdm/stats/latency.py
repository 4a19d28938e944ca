"""Group statistics of score time courses: the mean with t intervals per time, the cluster test
(stats/clusters.py), and the onset and peak latencies with bootstrap intervals over subjects.

onset: the first time of the earliest significant cluster (cluster_test, p < alpha);
peak: the time of the largest group-mean score. Their intervals resample subjects with
replacement (n_boot times): the peak is the argmax of each resample's mean (all resamples in
one matrix product); the onset re-runs the cluster test on each resample (its own sign
patterns), and resamples without a significant cluster are counted, not dropped silently. A
resample's copies of one subject are flipped together (the sign-flip null of the resample's
subjects; flipping copies apart would make the null too narrow and the onsets too early).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from fmri_rdm.errors import DataError
from fmri_rdm.stats.bootstrap import percentile_interval
from fmri_rdm.stats.clusters import ClusterTest, cluster_test, sign_patterns


def t_band(x: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high), each (T,): the mean over subjects of x (n, T) and its t interval."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    mean = x.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


@dataclass
class Latency:
    """A latency in ms, its bootstrap interval and how many resamples defined it."""

    value: float | None
    low: float | None
    high: float | None
    defined: int
    n_boot: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ms": self.value,
            "low": self.low,
            "high": self.high,
            "resamples_defined": self.defined,
            "n_boot": self.n_boot,
        }


def _latency(value: float | None, samples: np.ndarray, level: float, n_boot: int) -> Latency:
    found = samples[np.isfinite(samples)]
    low, high = percentile_interval(found, level) if found.size else (np.nan, np.nan)
    return Latency(
        value,
        float(low) if np.isfinite(low) else None,
        float(high) if np.isfinite(high) else None,
        int(found.size),
        n_boot,
    )


def resamples(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) int64 subject indices drawn with replacement."""
    return rng.integers(0, n, size=(n_boot, n))


def peak_latency(
    x: np.ndarray, times_ms: np.ndarray, draws: np.ndarray, level: float = 0.95
) -> Latency:
    """The time of the largest mean of x (n, T) and its interval over `draws` (B, n)."""
    times_ms = np.asarray(times_ms, dtype=np.float64)
    value = float(times_ms[int(np.argmax(x.mean(axis=0)))])
    counts = np.zeros((len(draws), x.shape[0]))
    for b, d in enumerate(draws):
        counts[b] = np.bincount(d, minlength=x.shape[0])
    means = counts @ x / x.shape[0]  # (B, T): every resample's mean at once
    return _latency(value, times_ms[np.argmax(means, axis=1)], level, len(draws))


def onset_latency(
    x: np.ndarray,
    times_ms: np.ndarray,
    draws: np.ndarray,
    test: ClusterTest,
    *,
    n_permutations: int,
    seed: int,
    level: float = 0.95,
) -> Latency:
    """The first time of the earliest significant cluster of `test` (on x (n, T)) and its
    interval over `draws` (B, n), each resample tested with the same threshold and tail."""
    times_ms = np.asarray(times_ms, dtype=np.float64)
    first = test.first_significant()
    value = None if first is None else float(times_ms[first.start])
    samples = np.full(len(draws), np.nan)
    for b, rows in enumerate(draws):  # one vectorized cluster test per resample
        subjects, copies = np.unique(rows, return_inverse=True)
        patterns, _ = sign_patterns(subjects.size, n_permutations, np.random.default_rng(seed + b))
        again = cluster_test(
            x[rows],
            threshold=test.threshold,
            tail=test.tail,
            signs=patterns[1:, copies],
            alpha=test.alpha,
        ).first_significant()
        if again is not None:
            samples[b] = times_ms[again.start]
    return _latency(value, samples, level, len(draws))


def time_course_stats(
    x: np.ndarray,
    times_ms: np.ndarray,
    *,
    n_permutations: int = 1000,
    n_boot: int = 1000,
    n_boot_onset: int = 200,
    n_permutations_onset: int = 200,
    tail: int = 1,
    threshold: float | None = None,
    alpha: float = 0.05,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything `compare --across subject` reports for one score's time course.

    x: (n_subjects, T) scores per window; times_ms: (T,). n_boot_onset: resamples for the onset
    interval, each one a cluster test with n_permutations_onset sign patterns. Returns a
    JSON-ready dict: times_ms, mean / low / high (t interval), t, threshold, clusters
    (start_ms, stop_ms, mass, p), significant (T,) bool, onset and peak (ms, low, high,
    resamples_defined, n_boot).
    """
    x = np.asarray(x, dtype=np.float64)
    times_ms = np.asarray(times_ms, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != times_ms.size:
        raise DataError(f"scores {x.shape} do not match the {times_ms.size} times")
    test = cluster_test(
        x, threshold=threshold, tail=tail, n_permutations=n_permutations, seed=seed, alpha=alpha
    )
    rng = np.random.default_rng(seed)
    draws = resamples(x.shape[0], n_boot, rng)
    onset_draws = draws[:n_boot_onset]
    mean, low, high = t_band(x, level)
    step = float(np.median(np.diff(times_ms))) if times_ms.size > 1 else 0.0
    return {
        "times_ms": times_ms.tolist(),
        "n_subjects": int(x.shape[0]),
        "mean": mean.tolist(),
        "low": low.tolist(),
        "high": high.tolist(),
        "t": test.t.tolist(),
        "threshold": test.threshold,
        "tail": tail,
        "n_permutations": len(test.null) - 1,
        "exact": test.exact,
        "clusters": [
            {
                "start_ms": float(times_ms[c.start]),
                "stop_ms": float(times_ms[c.stop - 1] + step),
                "mass": c.mass,
                "p": c.p,
            }
            for c in test.clusters
        ],
        "significant": test.significant.tolist(),
        "onset": onset_latency(
            x,
            times_ms,
            onset_draws,
            test,
            n_permutations=n_permutations_onset,
            seed=seed,
            level=level,
        ).as_dict(),
        "peak": peak_latency(x, times_ms, draws, level).as_dict(),
    }
