"""Inference over subjects (`stats.group`) against direct computations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from fmri_rdm.stats import group as gs


def test_t_interval_matches_scipy() -> None:
    x = np.array([0.31, 0.22, 0.40, 0.35, 0.28])
    mean, lo, hi = gs.t_interval(x)
    ref = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)


def test_t_interval_one_subject_and_nan() -> None:
    mean, lo, hi = gs.t_interval(np.array([0.3, np.nan]))
    assert mean == pytest.approx(0.3) and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in gs.t_interval(np.array([])))


@pytest.mark.parametrize("x", [[0.1, 0.5, 0.2, 0.9], [0.3, 0.3, 0.1, 0.7, 0.2], [1.0, 2.0]])
def test_subject_bootstrap_is_the_exact_bootstrap(x: list[float]) -> None:
    """Every one of the n^n index resamples, enumerated directly (ties included)."""
    v = np.asarray(x)
    means = np.array(
        [v[list(idx)].mean() for idx in itertools.product(range(v.size), repeat=v.size)]
    )
    ref = np.quantile(means, [0.025, 0.975], method="inverted_cdf")
    assert gs.subject_bootstrap(v) == pytest.approx(tuple(ref), abs=1e-12)


def test_subject_bootstrap_monte_carlo_beyond_exact() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=gs.MAX_EXACT_BOOTSTRAP + 5)
    lo, hi = gs.subject_bootstrap(x, n_boot=20_000, rng=np.random.default_rng(0))
    se = x.std(ddof=0) / math.sqrt(x.size)  # the bootstrap sd of the mean
    assert lo == pytest.approx(x.mean() - 1.96 * se, abs=0.15 * se * 1.96 + 0.05)
    assert hi == pytest.approx(x.mean() + 1.96 * se, abs=0.15 * se * 1.96 + 0.05)


def test_subject_bootstrap_needs_two_subjects() -> None:
    assert all(math.isnan(v) for v in gs.subject_bootstrap(np.array([0.4])))


def test_sign_flip_hand_made() -> None:
    # all positive: only the observed and the all-flipped pattern reach |mean| = 2.5
    assert gs.sign_flip_p(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(2 / 16)
    # d = (1, -1, 2, 2): |mean| = 1; the 16 patterns' |sum| are
    # {4,2,0,2, 2,0,4,6, 6,4,0,2, 2,0,2,4} / 4 -> |sum| >= 4 in 6 of 16
    assert gs.sign_flip_p(np.array([1.0, -1.0, 2.0, 2.0])) == pytest.approx(6 / 16)
    assert gs.sign_flip_p(np.array([0.0, 0.0, 0.0])) == 1.0
    assert math.isnan(gs.sign_flip_p(np.array([])))


def test_sign_flip_against_enumeration() -> None:
    d = np.random.default_rng(1).normal(0.2, 1.0, size=7)
    null = [abs(np.mean(d * s)) for s in itertools.product([-1, 1], repeat=d.size)]
    expected = np.mean(np.array(null) >= abs(d.mean()) - 1e-12)
    assert gs.sign_flip_p(d) == pytest.approx(expected)


def _textbook_holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down, one test at a time, undefined tests read as p = 1."""
    filled = np.where(np.isfinite(p), p, 1.0)
    order = sorted(range(p.size), key=lambda k: (filled[k], not np.isfinite(p[k]), k))
    out, running = np.empty(p.size), 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * filled[k]))
        out[k] = running
    return np.where(np.isfinite(p), out, np.nan)


def test_holm_hand_made() -> None:
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    # m = 5 (the NaN test counts): sorted 0.01, 0.03, 0.04, 0.5 -> 0.05, 0.12, 0.12, 1.0
    expected = np.array([0.05, 0.12, 0.12, np.nan, 1.0])
    np.testing.assert_allclose(gs.holm(p), expected)
    np.testing.assert_allclose(gs.holm(p), _textbook_holm(p))
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.random(7) ** 3
        q[rng.random(7) < 0.3] = np.nan
        np.testing.assert_allclose(gs.holm(q), _textbook_holm(q))
    assert np.isnan(gs.holm(np.array([np.nan]))).all()
    np.testing.assert_allclose(gs.holm(np.array([0.6, 0.7])), [1.0, 1.0])


def test_coverage_claim_small_n() -> None:
    """The docstring's claim: with n = 4 normal subjects the t-interval covers ~95 %, the
    percentile bootstrap clearly less (~79 % in 2000 simulations)."""
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(1000, 4))
    boot = np.array([gs.subject_bootstrap(x) for x in samples])
    t = np.array([gs.t_interval(x)[1:] for x in samples])
    boot_cover = np.mean((boot[:, 0] <= 0) & (boot[:, 1] >= 0))
    t_cover = np.mean((t[:, 0] <= 0) & (t[:, 1] >= 0))
    assert 0.92 < t_cover < 0.97
    assert 0.70 < boot_cover < 0.86
