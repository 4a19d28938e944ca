"""Group time-course statistics: t bands against scipy, peak bootstrap against a plain loop,
onset on a known effect, and the JSON-ready summary."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from fmri_rdm.errors import DataError
from fmri_rdm.stats.clusters import cluster_test
from fmri_rdm.stats.latency import (
    onset_latency,
    peak_latency,
    resamples,
    t_band,
    time_course_stats,
)

TIMES = np.arange(-50.0, 250.0, 5.0)  # 60 windows, 5 ms step


def _effect(n: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.05, (n, TIMES.size))
    shape = np.clip((TIMES - 100) / 50, 0, 1) * np.exp(-np.clip(TIMES - 150, 0, None) / 60)
    return x + 0.15 * shape[None, :]  # starts at 100 ms, peaks at 150 ms


def test_t_band_equals_scipy_interval():
    x = _effect(7)
    mean, low, high = t_band(x, 0.9)
    lo, hi = stats.t.interval(0.9, 6, loc=x.mean(0), scale=stats.sem(x, axis=0))
    np.testing.assert_allclose(mean, x.mean(0))
    np.testing.assert_allclose(low, lo)
    np.testing.assert_allclose(high, hi)
    assert np.isnan(t_band(x[:1])[1]).all()


def test_peak_interval_is_the_argmax_of_each_resample():
    x = _effect()
    draws = resamples(12, 50, np.random.default_rng(1))
    peak = peak_latency(x, TIMES, draws)
    loop = [TIMES[np.argmax(x[d].mean(0))] for d in draws]
    assert peak.value == TIMES[np.argmax(x.mean(0))]
    assert (peak.low, peak.high) == pytest.approx(tuple(np.quantile(loop, [0.025, 0.975])))
    assert peak.defined == 50


def test_onset_is_the_first_significant_cluster_and_its_interval_holds_it():
    x = _effect()
    test = cluster_test(x, n_permutations=500)
    draws = resamples(12, 40, np.random.default_rng(2))
    onset = onset_latency(x, TIMES, draws, test, n_permutations=200, seed=0)
    assert onset.value == TIMES[test.first_significant().start]
    assert 95 <= onset.value <= 115  # the effect starts at 100 ms (5 ms steps)
    assert onset.low <= onset.value <= onset.high and onset.defined == 40


def test_copies_of_a_subject_flip_together():
    # a resample of 3 distinct subjects has 2^3 sign patterns: its test is exact, and a clear
    # effect cannot reach p < 1/8 (flipping the copies apart would let it)
    x = _effect(6)
    draws = np.array([[0, 0, 1, 1, 2, 2]])
    test = cluster_test(x, n_permutations=100)
    onset = onset_latency(x, TIMES, draws, test, n_permutations=100, seed=0)
    assert onset.defined == 0 and onset.low is None


def test_summary_is_json_ready_and_checks_shapes():
    out = time_course_stats(_effect(), TIMES, n_permutations=200, n_boot=100, n_boot_onset=20)
    json.dumps(out)
    assert out["onset"]["ms"] is not None and out["peak"]["ms"] == pytest.approx(150, abs=20)
    assert len(out["mean"]) == TIMES.size and any(c["p"] < 0.05 for c in out["clusters"])
    with pytest.raises(DataError, match="times"):
        time_course_stats(_effect()[:, :10], TIMES)
