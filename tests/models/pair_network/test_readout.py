"""Response supervision: the read-out's loss, which responses it reads, and its training path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.models.pair_network import readout as readout_mod
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.mlp import PairMLP
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet
from fmri_rdm.models.pair_network.readout import ResponseReadout, make_readout, readout_targets


@pytest.mark.parametrize("max_components", [512, 2])  # exact / truncated principal axes
def test_readout_loss_equals_the_voxel_mse(max_components: int) -> None:
    rng = np.random.default_rng(0)
    n, z_dim, v = 9, 4, 5
    fit = np.array([1, 2, 4, 7])
    resp = rng.normal(size=(len(fit), v)) * [1.0, 5.0, 0.2, 1.0, 1.0] + 3.0
    resp[:, 2] = 2.5  # a constant voxel: std 1, target 0
    head = ResponseReadout(z_dim, v, max_components=max_components)
    head.set_responses(n, fit, resp)
    ids = torch.tensor([0, 2, 3, 4, 7])  # 0, 3 are no fit images: left out
    z = torch.randn(len(ids), z_dim)
    got = head.loss(z, ids)
    # float64 reference: per-voxel z-scores over the fit images, MSE of the voxel map
    std = resp.std(axis=0)
    target = (resp - resp.mean(axis=0)) / np.where(std > 0, std, 1.0)
    w, b = (t.detach().double().numpy() for t in head.voxel_weights())
    pred = z.double().numpy()[[1, 3, 4]] @ w.T + b
    want = np.mean((pred - target[[1, 2, 3]]) ** 2)
    assert got.item() == pytest.approx(want, rel=1e-5)


def test_voxel_read_out_least_squares_matches_sklearn() -> None:
    """Fitted to convergence, the PC-space read-out is the voxelwise least-squares map."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    fit = np.arange(12)
    z = rng.normal(size=(12, 3))
    resp = z @ rng.normal(size=(3, 30)) + 0.3 * rng.normal(size=(12, 30))
    head = ResponseReadout(3, 30).double()
    head.set_responses(12, fit, resp)
    head.scores, head.residual, head.axes, head.active = (
        t.double() for t in (head.scores, head.residual, head.axes, head.active)
    )
    opt = torch.optim.LBFGS(head.parameters(), max_iter=500, tolerance_grad=1e-12)
    zt, ids = torch.from_numpy(z), torch.from_numpy(fit)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = head.loss(zt, ids)
        loss.backward()
        return loss

    opt.step(closure)
    std = resp.std(axis=0)
    target = (resp - resp.mean(axis=0)) / std
    ref = LinearRegression().fit(z, target)
    w, b = (t.detach().numpy() for t in head.voxel_weights())
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)  # LBFGS stops near the optimum
    np.testing.assert_allclose(b, ref.intercept_, atol=1e-4)


def test_readout_without_fit_images_is_zero_and_caps_images(monkeypatch) -> None:
    head = ResponseReadout(2, 2)
    head.set_responses(6, np.array([0, 1, 2]), np.random.default_rng(0).normal(size=(3, 2)))
    z = torch.randn(2, 2, requires_grad=True)
    assert head.loss(z, torch.tensor([4, 5])).item() == 0.0
    monkeypatch.setattr(readout_mod, "MAX_READOUT_IMAGES", 2)
    assert torch.isfinite(head.loss(torch.randn(3, 2), torch.tensor([0, 1, 2])))


def test_readout_errors() -> None:
    with pytest.raises(ConfigError, match="response_weight"):
        make_readout(PairMLP(4), 3, 1.0)
    with pytest.raises(ConfigError, match=">= 0"):
        make_readout(SiameseNet(4, tower=(4,)), 3, -1.0)
    assert make_readout(SiameseNet(4, tower=(4,)), 3, 0.0) is None
    head = ResponseReadout(2, 2)
    with pytest.raises(DataError, match="NaN"):
        head.set_responses(3, np.array([0, 1]), np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ConfigError, match="shape"):
        head.set_responses(3, np.array([0, 1]), np.zeros((2, 3)))


def test_supervised_step_is_pair_loss_plus_weighted_voxel_loss() -> None:
    torch.manual_seed(0)
    table = torch.randn(10, 6)
    net = SiameseNet(6, tower=(8, 4), dropout=0.0, head="correlation")
    module = PairRegressionModule(
        net, target_mean=0.0, target_std=1.0, response_weight=0.5, n_voxels=3
    )
    module.set_table(table)
    fit = np.arange(6)
    resp = np.random.default_rng(1).normal(size=(6, 3))
    module.set_responses(10, fit, resp)
    module.log = lambda *a, **k: None  # type: ignore[method-assign]
    i, j = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    y = torch.tensor([0.9, 1.1, 1.0])
    got = module.training_step((i, j, y), 0)
    pair = torch.mean((net(table, i, j) - y) ** 2)
    assert module.readout is not None
    voxel = module.readout.loss(net.tower(table[:6]), torch.arange(6))
    torch.testing.assert_close(got, pair + 0.5 * voxel)


def test_readout_targets_against_direct_formulas() -> None:
    rng = np.random.default_rng(3)
    resp = rng.normal(size=(6, 8)) * rng.uniform(0.1, 3.0, size=8) + 2.0
    resp[:, 0] = 1.0  # a constant voxel
    upper = np.triu_indices(6, 1)
    corr = readout_targets(resp, "correlation")
    np.testing.assert_allclose(corr.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.mean(corr**2), 1.0)
    # squared distances between the target rows are the correlation RDM times one factor
    sq = ((corr[:, None] - corr[None]) ** 2).sum(-1)[upper]
    ratio = sq / (1.0 - np.corrcoef(resp))[upper]
    np.testing.assert_allclose(ratio, ratio[0])
    eucl = readout_targets(resp, "euclidean")
    centred = resp - resp.mean(axis=0)
    np.testing.assert_allclose(eucl * np.sqrt(np.mean(centred**2)), centred, atol=1e-12)
    z = readout_targets(resp, "zscore")
    np.testing.assert_allclose(z[:, 1:], centred[:, 1:] / resp[:, 1:].std(axis=0))
    assert np.all(z[:, 0] == 0)
    with pytest.raises(ConfigError, match="read-out targets"):
        readout_targets(resp, "cosine")
