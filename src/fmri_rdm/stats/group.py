"""Inference over subjects: one score per subject (a run's test score), n = 2..~20 subjects.

- `t_interval`: mean ± t_{n-1} · sd / √n, the interval reported as the across-subject CI. It
  generalises to new subjects (not to new images: see `stats.two_factor`) and is exact when
  the subject scores are normal.
- `subject_bootstrap`: the percentile bootstrap of the mean over subjects, computed EXACTLY for
  n <= 10 (every multiset of n subjects with its multinomial probability, no Monte-Carlo
  error). With n = 4-8 it under-covers: its spread is the plug-in sd · √((n-1)/n) and it uses
  normal rather than t quantiles, so a nominal 95 % interval holds the mean in roughly 75-90 %
  of studies. It is reported beside the t-interval, never instead of it.
- `sign_flip_p`: exact two-sided sign-flip (randomisation) test of mean difference = 0 over
  subjects: all 2^n sign patterns. Its smallest possible p is 2 / 2^n (0.125 for n = 4).
- `holm`: Holm's step-down correction of a family of p-values (controls the family-wise error;
  an undefined p-value still counts in the family).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

MAX_EXACT_BOOTSTRAP = 10  # C(19, 10) = 92378 multisets; beyond, Monte-Carlo resamples
MAX_EXACT_SIGN_FLIP = 16  # 2^16 sign patterns; beyond, Monte-Carlo sign flips


def _finite(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval over subjects; NaN bounds when n < 2.

    values: (n,) one score per subject (NaN entries are dropped).
    """
    x = _finite(values)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return mean, mean - float(half), mean + float(half)


def _multisets(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts (M, n) int64, integer weights (M,)) of every bootstrap resample of n items:
    the multisets of size n, each weighted by its multinomial coefficient (sum = n^n)."""
    draws = np.array(list(itertools.combinations_with_replacement(range(n), n)), dtype=np.int64)
    counts = np.zeros((draws.shape[0], n), dtype=np.int64)
    np.add.at(counts, (np.arange(draws.shape[0])[:, None], draws), 1)
    fact = np.array([math.factorial(k) for k in range(n + 1)], dtype=np.int64)
    weights = math.factorial(n) // np.prod(fact[counts], axis=1)
    return counts, weights


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Inverted-CDF quantile: the smallest value whose cumulative weight reaches q (exact with
    integer weights; the same as numpy's method='inverted_cdf' on the expanded data)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(k, values.size - 1)])


def subject_bootstrap(
    values: np.ndarray,
    level: float = 0.95,
    *,
    n_boot: int = 10_000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """(low, high) percentile bootstrap interval of the mean over subjects (NaN when n < 2).

    values: (n,) one score per subject. Exact for n <= MAX_EXACT_BOOTSTRAP (inverted-CDF
    percentiles of the full bootstrap distribution); above, `n_boot` resamples from `rng`.
    Under-covers for small n (module docstring): report it beside `t_interval`.
    """
    x = _finite(values)
    if x.size < 2:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    if x.size <= MAX_EXACT_BOOTSTRAP:
        counts, weights = _multisets(x.size)
        means = counts @ x / x.size
        return _weighted_quantile(means, weights, alpha), _weighted_quantile(
            means, weights, 1.0 - alpha
        )
    rng = rng or np.random.default_rng(0)
    counts = rng.multinomial(x.size, np.full(x.size, 1.0 / x.size), size=n_boot)
    means = counts @ x / x.size
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha], method="inverted_cdf")
    return float(lo), float(hi)


def sign_flip_p(
    differences: np.ndarray, *, n_flips: int = 100_000, rng: np.random.Generator | None = None
) -> float:
    """Two-sided p of the mean difference over subjects under random sign flips (NaN if n < 1).

    differences: (n,) per-subject differences. Exact (all 2^n patterns, the observed one
    included) for n <= MAX_EXACT_SIGN_FLIP, else (1 + hits) / (1 + n_flips) Monte-Carlo.
    """
    d = _finite(differences)
    if d.size == 0:
        return math.nan
    observed = abs(d.mean())
    tol = 1e-12 * max(1.0, float(np.abs(d).max()))  # equal means count as extreme
    if d.size <= MAX_EXACT_SIGN_FLIP:
        codes = np.arange(2**d.size, dtype=np.int64)[:, None] >> np.arange(d.size) & 1
        null = np.abs((1 - 2 * codes) @ d) / d.size
        return float(np.mean(null >= observed - tol))
    rng = rng or np.random.default_rng(0)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_flips, d.size))
    hits = int(np.sum(np.abs(signs @ d) / d.size >= observed - tol))
    return (1 + hits) / (1 + n_flips)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given).

    p_(k) adjusted = max over j <= k of min(1, (m - j + 1) p_(j)) for the sorted p-values,
    where m counts EVERY test of the family, an undefined one (NaN) too: a test that was run
    but gave no p-value is still a test, read as p = 1 (last in the order), so it cannot make
    the others' correction smaller. NaN entries stay NaN.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = p.size
    scaled = np.minimum(1.0, (m - np.arange(order.size)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
