"""Mantel permutation test: exact null statistics, calibration under H0, power."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench import statistics_reference as reference
from fmri_rdm.rsa.rdm import condensed_index
from fmri_rdm.stats.backend import NumpyBackend
from fmri_rdm.stats.bootstrap import local_pairs
from fmri_rdm.stats.permutation import p_value, permutation_null, permutations, square_rdm_among
from fmri_rdm.stats.report import fold_statistics


@pytest.mark.parametrize("closed", [True, False])
def test_null_statistics_match_relabelled_targets(closed):
    rng = np.random.default_rng(1)
    n_all = 30
    rdm = rng.random(n_all * (n_all - 1) // 2)
    images = np.sort(rng.choice(n_all, 9, replace=False))
    ii, jj = np.triu_indices(9, 1)
    if not closed:
        keep = rng.random(len(ii)) < 0.6
        ii, jj = ii[keep], jj[keep]
    a, b, n = local_pairs(images[ii], images[jj], images)
    prediction = rng.random(len(a))
    perms = permutations(rng, n, 15)
    null = permutation_null(square_rdm_among(rdm, n_all, images), a, b, prediction, perms)
    for k, p in enumerate(perms):
        u, v = images[p[a]], images[p[b]]  # target'(a, b) = RDM[pi(a), pi(b)] from the full RDM
        y = rdm[condensed_index(np.minimum(u, v), np.maximum(u, v), n_all)]
        # float32 gathers (half the memory traffic): agreement to ~1e-6
        assert null["pearson"][k] == pytest.approx(stats.pearsonr(prediction, y)[0], abs=1e-5)
        assert null["spearman"][k] == pytest.approx(stats.spearmanr(prediction, y)[0], abs=1e-5)


def _problem(rng, n_images, signal):
    responses = rng.normal(size=(n_images, 5))
    i, j = np.triu_indices(n_images, 1)
    d = np.linalg.norm(responses[i] - responses[j], axis=1)
    rdm = d  # all pairs in pdist order
    prediction = signal * d + rng.normal(size=d.shape)
    return rdm, i, j, d, prediction


def test_p_values_are_calibrated_under_the_null():
    rng = np.random.default_rng(3)
    ps = []
    for seed in range(300):  # many small null problems: predictions unrelated to targets
        rdm, i, j, y, pred = _problem(rng, 10, signal=0.0)
        s = fold_statistics(rdm, 10, i, j, y, pred, np.arange(10), seed=seed, n_boot=0, n_perm=99)
        ps.append(s.p_values()["pearson"])
    ps = np.array(ps)
    assert abs(np.mean(ps < 0.05) - 0.05) < 0.035  # binomial sd ~0.013 at n=300
    assert abs(np.mean(ps < 0.5) - 0.5) < 0.1
    assert stats.kstest(ps, "uniform").pvalue > 0.001


def test_perfect_predictor_gets_the_smallest_p():
    rng = np.random.default_rng(4)
    rdm, i, j, y, _ = _problem(rng, 25, signal=1.0)
    s = fold_statistics(rdm, 25, i, j, y, y, np.arange(25), seed=0, n_boot=50, n_perm=199)
    assert s.p_values() == {"pearson": pytest.approx(1 / 200), "spearman": pytest.approx(1 / 200)}
    assert s.intervals()["pearson"]["ci_low"] == pytest.approx(1.0)


def test_p_value_formula():
    assert p_value(0.5, np.array([0.1, 0.6, np.nan, 0.5])) == pytest.approx(3 / 5)
    assert np.isnan(p_value(float("nan"), np.zeros(3)))


@pytest.mark.parametrize("device", ["cpu", "torch-cpu"])
@pytest.mark.parametrize(("subset", "ties"), [(False, False), (False, True), (True, True)])
def test_null_matches_the_per_permutation_reference(device, subset, ties, monkeypatch):
    """One implementation for numpy and torch: the same nulls as the per-permutation numpy
    reference (bench/statistics_reference.py), subsets re-ranked, ties as mid-ranks."""
    monkeypatch.setattr(NumpyBackend, "chunk_pairs", 7)  # subsets: many chunks, padding
    monkeypatch.setattr(NumpyBackend, "segment", 4)
    monkeypatch.setattr(NumpyBackend, "block", 4)
    rng = np.random.default_rng(4)
    n = 12
    x = rng.standard_normal((n, 3))
    square = np.linalg.norm(x[:, None] - x[None], axis=-1)
    if ties:
        square = np.round(square, 1)
    a, b = np.triu_indices(n, 1)
    if subset:  # extremes / balanced: the relabelled subset is re-ranked
        keep = rng.random(a.size) < 0.5
        a, b = a[keep], b[keep]
    prediction = square[a, b] + rng.standard_normal(a.size)
    if ties:
        prediction = np.round(prediction)
    perms = permutations(rng, n, 30)
    expected = reference.permutation_null(square, a, b, prediction, perms)
    got = permutation_null(square, a, b, prediction, perms, device=device)
    for name in ("pearson", "spearman"):
        np.testing.assert_allclose(got[name], expected[name], atol=1e-6)
    assert got["pearson"][0] == pytest.approx(stats.pearsonr(square[a, b], prediction)[0], abs=1e-6)
    assert got["spearman"][0] == pytest.approx(
        stats.spearmanr(square[a, b], prediction)[0], abs=1e-12 if subset else 1e-6
    )


@pytest.mark.parametrize("device", ["cpu", "torch-cpu"])
@pytest.mark.parametrize("subset", [False, True])
def test_constant_relabelled_target_gives_nan(device, subset):
    square = np.ones((4, 4)) - np.eye(4)
    a, b = np.triu_indices(4, 1)
    if subset:
        a, b = a[:4], b[:4]
    perms = permutations(np.random.default_rng(0), 4, 3)
    got = permutation_null(square, a, b, np.arange(float(a.size)), perms, device=device)
    assert np.isnan(got["pearson"]).all() and np.isnan(got["spearman"]).all()
