"""Sliding windows and per-window RDMs against scipy's pdist of each window's mean, in
float64 on tiny inputs (ties, constant rows)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.windows import sampling_step, sliding_windows, window_means, window_rdms

TIMES = np.arange(-20.0, 30.0, 2.0)  # 25 samples at 2 ms


def test_default_is_one_window_per_sample():
    w = sliding_windows(TIMES)
    assert len(w) == 25 and w.width == 1
    np.testing.assert_array_equal(w.times_ms, TIMES)


def test_window_and_step_in_ms_round_to_samples():
    w = sliding_windows(TIMES, window_ms=10, step_ms=4)
    assert w.width == 5 and list(w.starts) == list(range(0, 21, 2))
    np.testing.assert_allclose(w.times_ms, [TIMES[s : s + 5].mean() for s in w.starts])
    assert len(sliding_windows(TIMES, window_ms=0.4)) == 25  # at least one sample


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
@pytest.mark.parametrize(("window", "step"), [(None, None), (6.0, 4.0)])
def test_rdms_equal_pdist_of_each_window_mean(metric, window, step):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5, 25))
    x[2] = x[3]  # a tie: two identical stimuli
    x[4, :, :] = np.round(x[4], 0)  # tied values inside a row
    w = sliding_windows(TIMES, window, step)
    got = window_rdms(x, w, metric)
    want = np.stack([pdist(x[:, :, s : s + w.width].mean(axis=2), metric) for s in w.starts])
    np.testing.assert_allclose(got, want, atol=1e-12)
    np.testing.assert_allclose(
        window_means(x, w)[1], x[:, :, w.starts[1] : w.starts[1] + w.width].mean(2)
    )


def test_standardized_windows_equal_pdist_of_zscored_units():
    from scipy.stats import zscore

    x = np.random.default_rng(4).normal(size=(6, 4, 25)) * np.arange(1, 5)[None, :, None]
    w = sliding_windows(TIMES, 6.0, 4.0)
    got = window_rdms(x, w, "correlation", standardize=True)
    means = [x[:, :, s : s + w.width].mean(axis=2) for s in w.starts]
    want = np.stack([pdist(zscore(m, axis=0), "correlation") for m in means])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_blocks_of_windows_give_the_same_rdms(monkeypatch):
    from fmri_rdm.rsa import windows

    x = np.random.default_rng(1).normal(size=(6, 4, 25))
    w = sliding_windows(TIMES, 4.0)
    whole = window_rdms(x, w)
    monkeypatch.setattr(windows, "_BLOCK_ELEMENTS", 1)  # one window per block
    np.testing.assert_array_equal(window_rdms(x, w), whole)


def test_bad_inputs_are_one_line_errors():
    x = np.random.default_rng(2).normal(size=(5, 3, 25))
    x[1, :, 7] = 0.5  # constant over units at one sample
    with pytest.raises(DataError, match="no variance over units in window 7"):
        window_rdms(x, sliding_windows(TIMES))
    assert np.isfinite(window_rdms(x, sliding_windows(TIMES), "euclidean")).all()
    with pytest.raises(DataError, match="evenly spaced"):
        sampling_step(np.array([0.0, 1.0, 3.0]))
    with pytest.raises(DataError, match="increase"):
        sampling_step(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ConfigError, match="shorter window"):
        sliding_windows(TIMES, window_ms=100)
    with pytest.raises(ConfigError, match="step_ms"):
        sliding_windows(TIMES, step_ms=-1)
    with pytest.raises(DataError, match="stimuli, units, times"):
        window_rdms(x[0], sliding_windows(TIMES))


@pytest.mark.parametrize("score", ["pearson", "spearman"])
def test_window_scores_equal_scipy_per_window(score):
    from scipy import stats

    from fmri_rdm.rsa.windows import window_scores

    rng = np.random.default_rng(3)
    rdms = rng.random((6, 15))
    rdms[2, :5] = rdms[2, 5:10]  # ties
    model = np.round(rng.random(15), 1)  # ties in the model too
    got = window_scores(rdms, model, score)
    ref = stats.pearsonr if score == "pearson" else stats.spearmanr
    np.testing.assert_allclose(got, [ref(r, model)[0] for r in rdms], atol=1e-12)
    rdms[4] = 0.3  # a constant window
    assert np.isnan(window_scores(rdms, model, score)[4])
    with pytest.raises(ConfigError, match="score"):
        window_scores(rdms, model, "kendall")
