"""The encoding prior's distances against scipy on explicit predicted voxel patterns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet
from fmri_rdm.models.pair_network.priors.ridge_rdm import EncodingPrior, pattern_basis


def ridge_map(d: int = 5, v: int = 40, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(d, v)),
        rng.normal(size=v),
        rng.normal(size=d),
        rng.uniform(0.5, 2.0, size=d),
    )


def explicit_patterns(x: np.ndarray, coef, intercept, mean, scale) -> np.ndarray:
    return ((x - mean) / scale) @ coef + intercept


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_coordinates_give_the_distances_of_the_predicted_patterns(metric: str) -> None:
    coef, intercept, mean, scale = ridge_map()
    x = np.random.default_rng(1).normal(size=(12, 5))
    x[3] = x[2] + 1e-6  # a near-duplicate image
    prior = EncodingPrior(5, metric)
    prior.set_ridge(coef, intercept, mean, scale)
    expected = squareform(pdist(explicit_patterns(x, coef, intercept, mean, scale), metric))
    rows = torch.from_numpy(x).float()
    block = prior.distance.block_distances(prior.coordinates(rows)).double().numpy()
    iu = np.triu_indices(12, 1)
    np.testing.assert_allclose(block[iu], expected[iu], rtol=1e-4, atol=2e-4)
    ii, jj = (torch.from_numpy(a) for a in iu)
    pairs = prior.raw_distances(rows, ii, jj).double().numpy()
    np.testing.assert_allclose(pairs, expected[iu], rtol=1e-4, atol=2e-4)


def test_basis_reproduces_inner_products_in_float64() -> None:
    coef, intercept, _, _ = ridge_map(d=4, v=30, seed=2)
    u = np.random.default_rng(3).normal(size=(6, 4))
    basis = pattern_basis(coef, intercept, "euclidean")
    coords = np.hstack([u, np.ones((6, 1))]) @ basis
    patterns = u @ coef + intercept
    np.testing.assert_allclose(coords @ coords.T, patterns @ patterns.T, rtol=1e-10, atol=1e-9)


def test_calibrated_prior_and_gate() -> None:
    coef, intercept, mean, scale = ridge_map()
    prior = EncodingPrior(5, "correlation")
    prior.set_ridge(coef, intercept, mean, scale)
    prior.set_map(2.0, -0.5)
    rows = torch.randn(7, 5)
    ii, jj = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 6])
    raw = prior.raw_distances(rows, ii, jj)
    coords = prior.coordinates(rows)
    torch.testing.assert_close(prior(coords, ii, jj), 2.0 * raw - 0.5)
    torch.testing.assert_close(prior.block(coords)[ii, jj], prior(coords, ii, jj))
    net_out = torch.randn(3)
    torch.testing.assert_close(prior.combine(prior(coords, ii, jj), net_out), 2.0 * raw - 0.5)
    with pytest.raises(ConfigError, match="slope"):
        prior.set_map(0.0, 0.0)
    with pytest.raises(ConfigError, match="inputs"):
        prior.set_ridge(coef[:3], intercept, mean[:3], scale[:3])


def test_constant_predicted_pattern_stays_finite() -> None:
    prior = EncodingPrior(3, "correlation")
    # every image predicts the same constant-over-voxels pattern: correlation undefined
    prior.set_ridge(np.zeros((3, 8)), np.ones(8), np.zeros(3), np.ones(3))
    out = prior.raw_distances(torch.randn(4, 3), torch.tensor([0, 1]), torch.tensor([2, 3]))
    assert torch.isfinite(out).all()


def test_a_fresh_module_predicts_the_prior_and_keeps_it_in_its_state() -> None:
    coef, intercept, mean, scale = ridge_map()
    net = SiameseNet(5, tower=(8, 4), head_hidden=4)
    module = PairRegressionModule(net, target_mean=1.0, target_std=0.1, prior_dim=5)
    assert module.prior is not None
    module.prior.set_ridge(coef, intercept, mean, scale)
    module.prior.set_map(1.5, 0.2)
    table = torch.randn(9, 5)
    module.set_table(table)
    i, j = np.array([0, 2, 4]), np.array([1, 5, 8])
    pred = module.predict_pairs(i, j)
    raw = module.prior.raw_distances(table, torch.from_numpy(i), torch.from_numpy(j)).numpy()
    np.testing.assert_allclose(pred, (1.5 * raw + 0.2) * 0.1 + 1.0, rtol=1e-5)
    # the table's coordinates are cached, and recomputed when the prior's state changes
    module.prior.set_ridge(coef * 2.0, intercept, mean, scale)
    raw2 = module.prior.raw_distances(table, torch.from_numpy(i), torch.from_numpy(j)).numpy()
    np.testing.assert_allclose(
        module.predict_pairs(i, j), (1.5 * raw2 + 0.2) * 0.1 + 1.0, rtol=1e-5
    )
    module.load_state_dict(
        module.state_dict() | {"prior.basis": torch.zeros_like(module.prior.basis)}
    )
    assert np.ptp(module.predict_pairs(i, j)) < 1e-6  # all patterns zero: one constant distance
    state = module.state_dict()
    assert {"prior.basis", "prior.in_mean", "prior.gate"} <= set(state)
    plain = PairRegressionModule(SiameseNet(5, tower=(8, 4), head_hidden=4))
    assert not any(k.startswith("prior.") for k in plain.state_dict())
