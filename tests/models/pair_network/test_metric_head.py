"""Metric-distance heads: the RDM's metric between two output vectors, against scipy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets.metric_head import MetricHead
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_block_and_pairs_match_scipy(metric: str) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 5))
    z[3] = z[2]  # a tie: distance 0 (correlation) / 0 (euclidean)
    head = MetricHead(metric)
    with torch.no_grad():
        head.log_scale.fill_(np.log(2.0))
        head.shift.fill_(-0.5)
    want = 2.0 * squareform(pdist(z, metric)) - 0.5
    # float32 GEMM: |a|² + |b|² - 2ab cancels at a tie, and sqrt(· + 1e-8) holds its gradient
    # finite, so a Euclidean distance near 0 is good to ~1e-3 only
    atol = 1e-4 if metric == "correlation" else 2e-3
    block = head.block(torch.from_numpy(z)).detach().double().numpy()
    off = ~np.eye(7, dtype=bool)
    np.testing.assert_allclose(block[off], want[off], atol=atol)
    i, j = np.triu_indices(7, 1)
    pairs = head(torch.from_numpy(z), torch.from_numpy(i), torch.from_numpy(j))
    np.testing.assert_allclose(pairs.detach().double().numpy(), want[i, j], atol=atol)


def test_uncentred_correlation_is_cosine() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4)) + 2.0
    head = MetricHead("correlation", centre=False)
    got = head.block_distances(torch.from_numpy(z)).double().numpy()
    want = squareform(pdist(z, "cosine"))
    np.testing.assert_allclose(got[~np.eye(5, dtype=bool)], want[~np.eye(5, dtype=bool)], atol=1e-5)


def test_constant_output_is_finite_and_euclidean_gradient_at_zero_is_finite() -> None:
    z = torch.zeros(3, 4, requires_grad=True)
    for metric in ("correlation", "euclidean"):
        out = MetricHead(metric).block(z).sum()
        out.backward()
        assert torch.isfinite(out)
        assert z.grad is not None and torch.isfinite(z.grad).all()


def test_calibrate_maps_distances_to_mean_zero_std_one_with_positive_scale() -> None:
    dist = torch.tensor([0.9, 1.0, 1.05, 1.2])
    head = MetricHead()
    head.calibrate(dist)
    mapped = head._map(dist)
    mapped = mapped.detach()
    assert float(mapped.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(mapped.std()) == pytest.approx(1.0, rel=1e-4)
    assert float(head.log_scale.exp()) > 0
    head.calibrate(torch.ones(4))  # constant distances: scale 1, no division by zero
    assert float(head.log_scale) == 0.0


def test_siamese_with_metric_head_is_symmetric_and_checks_its_options() -> None:
    net = SiameseNet(6, tower=(8, 4), head="metric", activation="gelu", input_dropout=0.2)
    net.eval()
    x = torch.randn(5, 6)
    i, j = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 0])
    np.testing.assert_allclose(net(x, i, j).detach(), net(x, j, i).detach(), atol=1e-6)
    np.testing.assert_allclose(
        net(x, i, j).detach(), net.forward_pairs(x[i], x[j]).detach(), atol=1e-6
    )
    with pytest.raises(ConfigError, match="activation"):
        SiameseNet(6, activation="tanh")
    with pytest.raises(ConfigError, match="head"):
        SiameseNet(6, head="cosine")
    # without input dropout the layers keep their indices (old checkpoints' keys)
    assert "tower.0.weight" in SiameseNet(6).state_dict()
