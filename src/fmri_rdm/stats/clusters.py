"""Cluster-based sign-flip permutation test over subjects along a time axis (cluster mass,
family-wise corrected): the statistics of a score time course (issue 39).

Per time point a one-sample t over subjects; time points past the cluster-forming threshold
that touch form a cluster (the positive and negative ones apart when two-tailed); a cluster's
mass is the sum of its t values. Under H0 (each subject's time course is symmetric around 0)
flipping the sign of whole subjects is equally likely, so the null of the largest cluster mass
comes from sign patterns over subjects, and a cluster's family-wise corrected p-value is

    p = #{patterns whose largest mass >= the cluster's mass} / #patterns

with the observed pattern (no flip) among them. All 2^n patterns are used when they number at
most n_permutations + 1 (exact test), else n_permutations distinct random ones besides the
observed. This is MNE's `permutation_cluster_1samp_test` on a 1-D time axis (same t, same
clusters and masses, same p-values on the same patterns; tests/stats/test_clusters.py), computed
for all patterns at once: one matrix product gives every pattern's sums, and the clusters of all
patterns are labelled together with a cumulative sum over the flattened (pattern, time) mask.

A time point without variance over subjects has t = 0 (it carries no evidence either way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from fmri_rdm.errors import ConfigError, DataError

TAILS = (-1, 0, 1)
_BLOCK_ELEMENTS = 1 << 22  # (patterns x times) elements per block of the null
_TIE = 1e-12  # relative: a null mass this close to the observed one counts as reaching it


@dataclass(frozen=True)
class Cluster:
    """Samples start..stop-1 (positions on the time axis), their t mass and corrected p."""

    start: int
    stop: int
    mass: float
    p: float


@dataclass
class ClusterTest:
    """t: (T,) observed t per time; null: (R,) largest cluster extremeness per sign pattern
    (row 0: the observed pattern; mass for tail 1, -mass for tail -1, |mass| for tail 0)."""

    t: np.ndarray
    threshold: float
    tail: int
    clusters: list[Cluster]
    null: np.ndarray
    exact: bool
    alpha: float = 0.05
    significant: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def first_significant(self, alpha: float | None = None) -> Cluster | None:
        """The earliest cluster with p < alpha (None when there is none)."""
        level = self.alpha if alpha is None else alpha
        hits = [c for c in self.clusters if c.p < level]
        return min(hits, key=lambda c: c.start) if hits else None


def default_threshold(n_subjects: int, p_threshold: float = 0.05, tail: int = 1) -> float:
    """The cluster-forming |t| of a one-sample t test at `p_threshold` (halved when two-tailed),
    MNE's default."""
    if n_subjects < 2:
        raise DataError(f"a cluster test needs at least 2 subjects, got {n_subjects}")
    share = p_threshold / (2 if tail == 0 else 1)
    return float(stats.t.ppf(1.0 - share, n_subjects - 1))


def sign_patterns(n: int, n_permutations: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """((R, n) float64 of +-1, exact): the observed pattern (all +1) first, then every other
    pattern when 2^n <= n_permutations + 1, else n_permutations distinct random ones."""
    if n_permutations < 1:
        raise ConfigError(f"n_permutations must be >= 1, got {n_permutations}")
    if n <= 62 and 2**n <= n_permutations + 1:
        codes, exact = np.arange(2**n, dtype=np.int64), True
    elif n <= 62:
        codes = np.zeros(0, np.int64)
        while codes.size < n_permutations:  # distinct, the observed code 0 left out
            more = rng.integers(1, 2**n, size=n_permutations, dtype=np.int64)
            codes = np.unique(np.concatenate([codes, more]))
        codes = np.concatenate([[0], rng.permutation(codes)[:n_permutations]])
        exact = False
    else:  # repeats have probability ~ R^2 / 2^n: none in practice
        flips = rng.random((n_permutations, n)) < 0.5
        return np.vstack([np.ones(n), 1.0 - 2.0 * flips]), False
    bits = (codes[:, None] >> np.arange(n)[None, :]) & 1
    return 1.0 - 2.0 * bits.astype(np.float64), exact


def flipped_t(x: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """(R, T) one-sample t of each sign pattern (R, n) applied to the subjects of x (n, T).

    Flipping signs leaves the sum of squares unchanged, so each pattern needs only its sums.
    """
    n = x.shape[0]
    mean = (signs @ x) / n
    squares = np.einsum("st,st->t", x, x)
    var = np.maximum(squares[None, :] - n * mean * mean, 0.0) / (n - 1)
    spread = var > 1e-12 * np.maximum(squares, 1e-300)[None, :] / n
    out = np.zeros_like(mean)
    np.divide(mean, np.sqrt(var / n), out=out, where=spread)
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels (R, T) int64, starts (K,) flat positions): runs of True along each row get the
    labels 1..K in flat order (a run never crosses rows: each row starts a new one)."""
    before = np.zeros_like(mask)
    before[:, 1:] = mask[:, :-1]
    starts = mask & ~before
    labels = np.cumsum(starts.ravel()).reshape(mask.shape)
    return labels, np.flatnonzero(starts)


def _masses(t: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mass (K,), row (K,), start column (K,)) of the runs of `mask` (R, T) over t (R, T)."""
    labels, starts = _runs(mask)
    mass = np.bincount(labels[mask], weights=t[mask], minlength=starts.size + 1)[1:]
    return mass, starts // t.shape[1], starts % t.shape[1]


def _largest(t: np.ndarray, threshold: float, tail: int) -> np.ndarray:
    """(R,) the largest cluster extremeness of each row of t (0 for a row without clusters)."""
    out = np.zeros(t.shape[0])
    sides = (1, -1) if tail == 0 else (tail,)
    for side in sides:
        mass, row, _ = _masses(t, side * t > threshold)
        if mass.size:
            first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            best = np.maximum.reduceat(side * mass, first)
            out[row[first]] = np.maximum(out[row[first]], best)
    return out


def _observed(t: np.ndarray, threshold: float, tail: int) -> list[tuple[int, int, float]]:
    """(start, stop, mass) of each observed cluster of t (T,), in time order."""
    found = []
    for side in (1, -1) if tail == 0 else (tail,):
        mask = (side * t > threshold)[None, :]
        mass, _, start = _masses(t[None, :], mask)
        stop = start + np.bincount(_runs(mask)[0][mask], minlength=mass.size + 1)[1:]
        found += list(zip(start.tolist(), stop.tolist(), mass.tolist(), strict=True))
    return sorted(found)


def cluster_test(
    x: np.ndarray,
    *,
    threshold: float | None = None,
    tail: int = 1,
    n_permutations: int = 1000,
    seed: int = 0,
    signs: np.ndarray | None = None,
    alpha: float = 0.05,
) -> ClusterTest:
    """The cluster test (module docstring) of x (n_subjects, T), e.g. each subject's score per
    time window. threshold: the cluster-forming |t| (default: p < 0.05, `default_threshold`);
    tail: 1 (scores above 0), -1 or 0 (both); signs: (R, n) +-1 patterns to use besides the
    observed one (default: drawn from `seed`, exact when all fit in n_permutations + 1)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise DataError(f"a cluster test needs (subjects >= 2, times) values, got {x.shape}")
    if not np.isfinite(x).all():
        raise DataError("a cluster test needs finite values: a subject's time course has NaN")
    if tail not in TAILS:
        raise ConfigError(f"tail must be one of {TAILS}, got {tail}")
    n = x.shape[0]
    level = default_threshold(n, tail=tail) if threshold is None else float(threshold)
    if level < 0:
        raise ConfigError(f"threshold is a |t|, >= 0 (the tail gives the side), got {level}")
    if signs is None:
        patterns, exact = sign_patterns(n, n_permutations, np.random.default_rng(seed))
    else:
        patterns, exact = np.vstack([np.ones(n), np.asarray(signs, np.float64)]), False
    step = max(1, _BLOCK_ELEMENTS // x.shape[1])
    null = np.concatenate(
        [
            _largest(flipped_t(x, patterns[s : s + step]), level, tail)
            for s in range(0, len(patterns), step)
        ]
    )
    t = flipped_t(x, patterns[:1])[0]
    clusters = []
    for start, stop, mass in _observed(t, level, tail):
        extreme = abs(mass) if tail == 0 else tail * mass
        p = float(np.mean(null >= extreme - _TIE * abs(extreme)))
        clusters.append(Cluster(int(start), int(stop), float(mass), p))
    significant = np.zeros(t.size, bool)
    for c in clusters:
        significant[c.start : c.stop] |= c.p < alpha
    return ClusterTest(t, level, tail, clusters, null, exact, alpha, significant)
