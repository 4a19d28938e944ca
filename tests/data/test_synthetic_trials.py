"""Synthetic trials with a known noise covariance: crossnobis of identical conditions is
unbiased (mean 0 within its standard error), Euclidean on averages is not (it is 2 tr(C)/(K V))."""

from __future__ import annotations

import numpy as np
import pytest

from fmri_rdm.data.synthetic_trials import noise_covariance, noise_loadings, simulate_trials
from fmri_rdm.rsa.distances import trial_rdm


def _identical_pairs(noise: str, seeds: int = 25) -> tuple[np.ndarray, np.ndarray, float]:
    """Per seed, the mean crossnobis and Euclidean of 15 pairs of identical conditions, and
    the expected Euclidean bias 2 tr(C) / (K V)."""
    n_pairs, v, k, sd = 15, 24, 4, 1.0
    cross, euclid = [], []
    expected = 0.0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        base = rng.standard_normal((n_pairs, v))
        signal = np.repeat(base, 2, axis=0)  # conditions 2i and 2i+1 identical
        loadings = noise_loadings(rng, v)
        x, stim, part = simulate_trials(signal, k, rng, sd=sd, loadings=loadings)
        n = signal.shape[0]
        i, j = np.arange(0, n, 2), np.arange(1, n, 2)
        pos = n * i - i * (i + 1) // 2 + (j - i - 1)  # condensed positions of (2i, 2i+1)
        d_cv, _ = trial_rdm(x, stim, part, method="crossnobis", noise=noise)
        d_eu, _ = trial_rdm(x, stim, part, method="euclidean")
        cross.append(d_cv[pos].mean())
        euclid.append(d_eu[pos].mean())
        expected = 2 * np.trace(noise_covariance(loadings, sd)) / (k * v)
    return np.array(cross), np.array(euclid), float(expected)


@pytest.mark.parametrize("noise", ["identity", "diag"])
def test_crossnobis_of_identical_conditions_is_unbiased(noise: str) -> None:
    cross, euclid, expected = _identical_pairs(noise)
    se = cross.std(ddof=1) / np.sqrt(cross.size)
    assert abs(cross.mean()) < 3 * se
    se_eu = euclid.std(ddof=1) / np.sqrt(euclid.size)
    assert euclid.mean() > 10 * se_eu  # averaged Euclidean: biased upward by the noise
    assert euclid.mean() == pytest.approx(expected, rel=0.1)  # by 2 tr(C) / (K V)


def test_shrinkage_noise_from_the_same_trials_leaves_a_small_bias() -> None:
    """A full (shrunk) precision estimated from the residuals of the very trials it weighs is
    not independent of them: the crossnobis of identical conditions is then slightly positive
    (rsatoolbox's values are the same, tests/rsa). Measured here, and kept well below the
    bias of the averaged distance; docs/crossnobis.md states it."""
    cross, euclid, _ = _identical_pairs("shrinkage_diag")
    se = cross.std(ddof=1) / np.sqrt(cross.size)
    assert cross.mean() > 3 * se  # the bias is real (if this fails, the docs need updating)
    assert cross.mean() < 0.25 * euclid.mean()


def test_missing_and_unrecorded_trials() -> None:
    rng = np.random.default_rng(0)
    x, stim, _part = simulate_trials(np.zeros((50, 6)), 4, rng, missing=0.1, unrecorded=0.1)
    assert 0.8 * 200 * 0.85 < len(stim) < 200 and np.isnan(x).all(axis=1).any()
    assert not np.isnan(x[~np.isnan(x).all(axis=1)]).any()
