"""Stimulus bootstrap against a direct loop that materializes every resampled pair."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fmri_rdm.errors import DataError
from fmri_rdm.stats.bootstrap import (
    SCORES,
    bootstrap_scores,
    local_pairs,
    percentile_interval,
    resample_counts,
    weighted_sums,
)


def _materialized_scores(draw, a, b, target, prediction):
    """Scores of one resample built as rsatoolbox does: the drawn images (with repeats), every
    pair of two draws that is a test pair, self-pairs of a repeated image dropped."""
    t, p = [], []
    for x in range(len(draw)):
        for y in range(len(draw)):
            for q in range(len(a)):  # direct loop on purpose: the reference
                if a[q] == draw[x] and b[q] == draw[y]:
                    t.append(target[q])
                    p.append(prediction[q])
    t, p = np.array(t), np.array(p)
    res = ((t - p) ** 2).sum()
    return {
        "pearson": stats.pearsonr(t, p).statistic,
        "spearman": stats.spearmanr(t, p).statistic,
        "r2": 1 - res / ((t - t.mean()) ** 2).sum(),
        "mse": res / len(t),
    }


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@pytest.mark.parametrize("subset", [False, True])
def test_bootstrap_matches_materialized_resamples(subset):
    rng = np.random.default_rng(0)
    images = np.array([2, 3, 5, 8, 9, 11, 13])
    ii, jj = np.triu_indices(len(images), 1)
    if subset:  # extremes / balanced: only some pairs among the test images
        keep = rng.random(len(ii)) < 0.7
        ii, jj = ii[keep], jj[keep]
    target = rng.random(len(ii))
    target[:4] = target[4]  # ties, as binary or rounded targets have
    prediction = target + rng.normal(0, 0.3, len(ii))
    a, b, n = local_pairs(images[ii], images[jj], images)
    counts = resample_counts(rng, n, 40)
    got = bootstrap_scores(target, np.stack([prediction, -prediction]), a, b, counts)
    checked = 0
    for k, c in enumerate(counts):
        draw = np.repeat(np.arange(n), c)
        if (c[a] * c[b]).sum() < 3:
            continue
        ref = _materialized_scores(draw, a, b, target, prediction)
        defined = np.ptp([target[q] for q in range(len(a)) if c[a[q]] * c[b[q]]]) > 0
        for name in SCORES if defined else ("mse",):  # all-tied targets: only mse is defined
            expected = pytest.approx(ref[name], rel=1e-5, abs=1e-6, nan_ok=True)
            assert got[name][0, k] == expected, (name, k)
        assert got["pearson"][1, k] == pytest.approx(-ref["pearson"], abs=1e-9, nan_ok=True)
        checked += np.isfinite(ref["pearson"])
    assert checked > 25


def test_dense_and_sparse_sums_agree():
    rng = np.random.default_rng(1)
    n = 40
    a, b = np.triu_indices(n, 1)
    values = rng.random((len(a), 2))
    counts = resample_counts(rng, n, 5)
    dense = weighted_sums(counts, a, b, values)
    few = rng.random(len(a)) < 0.02  # below the density threshold: the sparse product
    sparse = weighted_sums(counts, a[few], b[few], values[few])
    direct = (counts[:, a] * counts[:, b]) @ values
    np.testing.assert_allclose(dense, direct)
    np.testing.assert_allclose(sparse, (counts[:, a[few]] * counts[:, b[few]]) @ values[few])


def test_counts_and_interval():
    counts = resample_counts(np.random.default_rng(2), 9, 100)
    assert counts.shape == (100, 9) and np.all(counts.sum(axis=1) == 9)
    lo, hi = percentile_interval(np.append(np.arange(101.0), np.nan))
    assert (lo, hi) == pytest.approx((2.5, 97.5))


def test_pairs_outside_the_test_images_are_refused():
    with pytest.raises(DataError, match="outside"):
        local_pairs(np.array([0, 1]), np.array([1, 7]), np.array([0, 1, 2]))
