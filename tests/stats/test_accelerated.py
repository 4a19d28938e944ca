"""The torch (GPU) resample loops against the numpy reference, on CPU torch: ties, pair
subsets, several predictions, constant relabelled targets, and one resample against scipy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr, rankdata, spearmanr

from fmri_rdm.stats import accelerated
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats import permutation as perm
from fmri_rdm.stats.accelerated import _average_ranks


def _fold(rng: np.random.Generator, n: int, ties: bool) -> tuple[np.ndarray, ...]:
    a, b = np.triu_indices(n, 1)
    target = rng.standard_normal(a.size)
    preds = np.stack([target + rng.standard_normal(a.size), rng.standard_normal(a.size)])
    if ties:  # coarse values: many tied pairs in target and predictions
        target, preds = np.round(target, 0), np.round(preds, 0)
    return a, b, target, preds


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_spearman_matches_numpy(ties: bool) -> None:
    rng = np.random.default_rng(1)
    a, b, target, preds = _fold(rng, 14, ties)
    counts = boot.resample_counts(rng, 14, 23)
    expected = boot.weighted_spearman(counts, a, b, target, preds)
    got = accelerated.weighted_spearman(counts, a, b, target, preds, "cpu")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_weighted_spearman_is_spearman_of_the_duplicated_pairs() -> None:
    rng = np.random.default_rng(2)
    n = 9
    a, b, target, preds = _fold(rng, n, ties=True)
    counts = boot.resample_counts(rng, n, 1)
    weights = counts[0, a] * counts[0, b]
    keep = np.repeat(np.arange(a.size), weights)
    expected = spearmanr(target[keep], preds[0][keep])[0]
    got = accelerated.weighted_spearman(counts, a, b, target, preds[:1], "cpu")
    assert got[0, 0] == pytest.approx(expected, abs=1e-10)


def test_resample_without_pairs_is_nan() -> None:
    a, b = np.array([0]), np.array([1])
    counts = np.array([[2, 0], [1, 1]])
    got = accelerated.weighted_spearman(counts, a, b, np.array([0.5]), np.array([0.2]), "cpu")
    assert np.isnan(got).all()  # one pair (or none) has no rank correlation


def test_average_ranks_match_scipy() -> None:
    y = np.round(np.random.default_rng(3).standard_normal((4, 50)), 1)
    np.testing.assert_array_equal(_average_ranks(torch.as_tensor(y)).numpy(), rankdata(y, axis=1))


@pytest.mark.parametrize("subset", [False, True])
def test_permutation_null_matches_numpy(subset: bool) -> None:
    rng = np.random.default_rng(4)
    n = 12
    x = rng.standard_normal((n, 3))
    square = np.round(np.linalg.norm(x[:, None] - x[None], axis=-1), 1)  # ties
    a, b = np.triu_indices(n, 1)
    if subset:  # extremes / balanced: a subset of the pairs needs re-ranking per permutation
        keep = rng.random(a.size) < 0.5
        a, b = a[keep], b[keep]
    prediction = square[a, b] + rng.standard_normal(a.size)
    perms = perm.permutations(rng, n, 30)
    expected = perm.permutation_null(square, a, b, prediction, perms)
    got = accelerated.permutation_null(square, a, b, prediction, perms, perm.STATISTICS, "cpu")
    for name in perm.STATISTICS:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6)
    observed = pearsonr(square[a, b], prediction)[0]
    assert got["pearson"][0] == pytest.approx(observed, abs=1e-9)


def test_constant_relabelled_target_gives_nan() -> None:
    square = np.ones((4, 4)) - np.eye(4)
    a, b = np.triu_indices(4, 1)
    perms = perm.permutations(np.random.default_rng(0), 4, 3)
    got = accelerated.permutation_null(square, a, b, np.arange(6.0), perms, ("pearson",), "cpu")
    assert np.isnan(got["pearson"]).all()


def test_statistics_device_choice() -> None:
    from fmri_rdm.errors import ConfigError

    assert accelerated.statistics_device("auto", "cpu") == "cpu"
    assert accelerated.statistics_device("cpu", "gpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert accelerated.statistics_device("auto", "gpu") == expected
    with pytest.raises(ConfigError, match="choose auto, cpu or cuda"):
        accelerated.statistics_device("tpu", "gpu")


def test_bootstrap_scores_match_numpy_for_every_score() -> None:
    rng = np.random.default_rng(5)
    a, b, target, preds = _fold(rng, 10, ties=False)
    counts = boot.resample_counts(rng, 10, 7)
    expected = boot.bootstrap_scores(target, preds, a, b, counts)
    got = accelerated.bootstrap_scores(target, preds, a, b, counts, boot.SCORES, "cpu")
    assert list(got) == list(expected)
    for name in boot.SCORES:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6)


def test_bootstrap_scores_take_correlations_from_the_raw_predictions() -> None:
    """The torch path passes `raw` on: correlations of the raw predictions, R² / MSE of the
    calibrated ones, as the numpy path."""
    rng = np.random.default_rng(7)
    a, b, target, preds = _fold(rng, 12, ties=False)
    raw = preds[0]
    calibrated = 0.1 + 1e-7 * raw
    counts = boot.resample_counts(rng, 12, 17)
    got = accelerated.bootstrap_scores(target, calibrated, a, b, counts, boot.SCORES, "cpu", raw)
    plain = boot.bootstrap_scores(target, raw, a, b, counts)
    mapped = boot.bootstrap_scores(target, calibrated, a, b, counts)
    np.testing.assert_allclose(got["spearman"], plain["spearman"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got["pearson"], plain["pearson"])
    np.testing.assert_array_equal(got["mse"], mapped["mse"])
    np.testing.assert_array_equal(got["r2"], mapped["r2"])
