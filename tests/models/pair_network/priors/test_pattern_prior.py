"""ReweightedPrior (models.pattern_prior): RSA and frrsa distances against references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA
from fmri_rdm.models.pair_network.priors.pattern import ReweightedPrior, make_prior
from tests.models.fold import make_fold


def _all_pairs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    i, j = np.triu_indices(n, 1)
    return torch.from_numpy(i), torch.from_numpy(j)


def _rows(seed: int = 0, n: int = 12, d: int = 7) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)) * 3.0 + 1.0
    x[3] = x[2] + 1e-4  # a near-duplicate of row 2
    return x


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_rsa_prior_is_scipys_distance(metric: str) -> None:
    x = _rows()
    prior = ReweightedPrior(x.shape[1])
    prior.set_rsa(metric)
    i, j = _all_pairs(len(x))
    got = prior.raw_distances(torch.from_numpy(x).float(), i, j).numpy()
    expected = cdist(x, x, metric)[i.numpy(), j.numpy()]  # float64 reference
    # euclidean goes through |a|² + |b|² − 2 a·b in float32: near-duplicates lose digits
    atol = 2e-3 if metric == "euclidean" else 1e-5
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)


def test_rsa_prior_of_a_constant_row_is_one_not_nan() -> None:
    x = _rows()
    x[5] = 2.0  # correlation with a constant pattern is undefined: taken as r = 0
    prior = ReweightedPrior(x.shape[1])
    prior.set_rsa("correlation")
    i, j = _all_pairs(len(x))
    got = prior.raw_distances(torch.from_numpy(x).float(), i, j).numpy()
    touches = (i.numpy() == 5) | (j.numpy() == 5)
    np.testing.assert_allclose(got[touches], 1.0, atol=1e-6)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_frrsa_prior_predicts_what_the_fitted_frrsa_predicts(metric: str) -> None:
    fold = make_fold(n=40, d=6, n_train=30)
    fold.metric = metric
    learner = FeatureReweightedRSA(variant="fractional", inner_folds=3)
    learner.fit(fold)
    assert learner.weights is not None
    prior = ReweightedPrior(fold.table.shape[1])
    prior.set_frrsa(learner.weights, learner.intercept, learner.metric, learner.normalize)
    i, j = np.triu_indices(40, 1)
    expected = learner.predict(fold.table, i, j)
    rows = torch.from_numpy(fold.table)
    got = prior.raw_distances(rows, torch.from_numpy(i), torch.from_numpy(j)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # mapped: slope · raw + intercept, and the block (one GEMM) holds the same values
    prior.set_map(2.0, -0.5)
    coords = prior.coordinates(rows)
    pairs = prior(coords, torch.from_numpy(i), torch.from_numpy(j)).numpy()
    np.testing.assert_allclose(pairs, 2.0 * expected - 0.5, rtol=1e-4, atol=1e-4)
    block = prior.block(coords).numpy()
    np.testing.assert_allclose(block[i, j], pairs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(block, block.T, atol=1e-5)


def test_state_round_trip_and_cache_key() -> None:
    x = torch.from_numpy(_rows()).float()
    prior = ReweightedPrior(x.shape[1])
    before = prior.state_key()
    prior.set_rsa("euclidean")
    prior.set_map(0.5, 0.1)
    assert prior.state_key() != before
    fresh = make_prior("reweighted", x.shape[1], "euclidean")
    fresh.load_state_dict(prior.state_dict())
    i, j = _all_pairs(len(x))
    np.testing.assert_array_equal(
        fresh(fresh.coordinates(x), i, j).detach().numpy(),
        prior(prior.coordinates(x), i, j).detach().numpy(),
    )


def test_bad_settings_are_errors() -> None:
    prior = ReweightedPrior(4)
    with pytest.raises(ConfigError, match="slope"):
        prior.set_map(0.0, 0.0)
    with pytest.raises(ConfigError, match="metric"):
        prior.set_rsa("cosine")
    with pytest.raises(ConfigError, match="weights"):
        prior.set_frrsa(np.ones(3), 0.0, "correlation", True)
    with pytest.raises(ConfigError, match="prior kind"):
        make_prior("ridge", 4, "correlation")
