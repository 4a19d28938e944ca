"""The blocks plan: dense block targets, block sampling, and a block step's loss against the
same pairs scored one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.block_step import block_loss, calibrate_metric_head
from fmri_rdm.models.pair_network.blocks import PairBlocks, dense_targets
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.mlp import PairMLP
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet
from fmri_rdm.rsa.splits import PairSplit


def _split(n: int = 12, drop: int = 5, seed: int = 0) -> PairSplit:
    """All pairs among images 2..n-1 (0 and 1 are test images), `drop` of them left out."""
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(n, 1)
    keep = (i >= 2) & (j >= 2)
    keep[rng.choice(np.flatnonzero(keep), drop, replace=False)] = False
    return PairSplit(i[keep], j[keep], rng.random(int(keep.sum())).astype(np.float32))


def test_dense_targets_hold_each_split_pair_once_and_nan_elsewhere() -> None:
    split = _split()
    images, dense = dense_targets(split)
    np.testing.assert_array_equal(images, np.arange(2, 12))
    a, b = np.nonzero(~np.isnan(dense.numpy()))
    assert len(a) == len(split) and (a < b).all()
    got = {(int(images[x]), int(images[y])): float(dense[x, y]) for x, y in zip(a, b, strict=True)}
    want = {(int(x), int(y)): float(v) for x, y, v in zip(split.i, split.j, split.y, strict=True)}
    assert got == want


def test_whole_and_random_blocks() -> None:
    split = _split()
    whole = PairBlocks(split, block_images=100, steps=3)
    blocks = list(whole)
    assert len(blocks) == len(whole) == 3 and whole.whole
    assert all(torch.equal(rows, torch.arange(2, 12)) for rows, _ in blocks)
    part = PairBlocks(split, block_images=4, steps=5, seed=3)
    lookup = {(int(x), int(y)): v for x, y, v in zip(split.i, split.j, split.y, strict=True)}
    for rows, y in part:
        assert rows.shape == (4,) and (rows[1:] > rows[:-1]).all()
        for a in range(4):
            for b in range(4):
                key = (int(rows[a]), int(rows[b]))
                if a < b and key in lookup:
                    assert float(y[a, b]) == pytest.approx(lookup[key])
                else:
                    assert torch.isnan(y[a, b])
    first = [r for r, _ in part]
    assert all(
        torch.equal(a, b) for a, b in zip(first, [r for r, _ in part], strict=True)
    )  # same epoch
    part.set_epoch(1)
    assert not all(torch.equal(a, b) for a, b in zip(first, [r for r, _ in part], strict=True))
    part.set_epoch(0)
    part.set_shard(1, 2)
    assert not all(torch.equal(a, b) for a, b in zip(first, [r for r, _ in part], strict=True))
    with pytest.raises(ConfigError):
        PairBlocks(split, block_images=1, steps=1)


def _module(net: torch.nn.Module, split: PairSplit, rw: float = 0.0) -> PairRegressionModule:
    rng = np.random.default_rng(1)
    module = PairRegressionModule(
        net, target_mean=0.5, target_std=0.2, response_weight=rw, n_voxels=6
    )
    module.set_table(torch.from_numpy(rng.normal(size=(12, 5)).astype(np.float32)))
    if rw:
        fit = np.arange(2, 12)
        module.set_responses(12, fit, rng.normal(size=(10, 6)), "correlation")
    return module


@pytest.mark.parametrize(
    ("make", "rw"),
    [
        (lambda: SiameseNet(5, tower=(8, 4), dropout=0.0, head="metric"), 0.0),
        (lambda: SiameseNet(5, tower=(8, 4), dropout=0.0, head="metric"), 1.0),
        (lambda: SiameseNet(5, tower=(8, 4), dropout=0.0, head="concat"), 0.5),
        (lambda: SiameseNet(5, tower=(8, 4), dropout=0.0, head="symmetric"), 0.0),
        (lambda: PairMLP(5, hidden_layers=1, first_hidden=8), 0.0),
    ],
)
def test_block_loss_equals_the_pair_loss_on_the_same_pairs(make, rw) -> None:
    torch.manual_seed(0)
    split = _split()
    module = _module(make(), split, rw)
    rows, y_block = next(iter(PairBlocks(split, block_images=100, steps=1)))
    got, n_pairs = block_loss(module, rows, y_block)
    assert n_pairs == len(split)
    pred = module(torch.from_numpy(split.i).long(), torch.from_numpy(split.j).long())
    want = torch.mean((pred.double() - torch.from_numpy(split.y).double()) ** 2)
    if rw:  # + the read-out's voxel MSE on the block's (fit) images
        assert module.readout is not None and module.table is not None
        z = module.net.tower(module.table.index_select(0, rows))
        want = want + rw * module.readout.loss(z, rows).double()
    assert float(got) == pytest.approx(float(want), rel=1e-5)


def test_metric_head_on_read_out_patterns_is_the_distance_of_voxel_patterns() -> None:
    """With responses, the head's 1 - r is between the predicted voxel patterns
    (read-out map + the mean pattern), computed here in voxel space with scipy."""
    from scipy.spatial.distance import pdist, squareform

    from fmri_rdm.models.pair_network.readout import targets_and_mean

    torch.manual_seed(0)
    split = _split(drop=0)
    module = _module(SiameseNet(5, tower=(8, 4), dropout=0.0, head="metric"), split, rw=1.0)
    assert module.on_patterns
    module.eval()
    table = module.table
    assert table is not None
    z = module.net.tower(table)
    w, b = (t.detach().double().numpy() for t in module.readout.voxel_weights())
    voxels = np.random.default_rng(1)  # as in _module: the table, then the responses
    voxels.normal(size=(12, 5))
    _, mean = targets_and_mean(voxels.normal(size=(10, 6)), "correlation")
    patterns = z.detach().double().numpy() @ w.T + b + mean
    want = squareform(pdist(patterns, "correlation"))
    i, j = np.triu_indices(12, 1)
    head = module.net.head
    got = head.distances(module._distance_space(z), torch.from_numpy(i), torch.from_numpy(j))
    np.testing.assert_allclose(got.detach().double().numpy(), want[i, j], atol=1e-4)


def test_calibration_standardises_a_fresh_metric_heads_output() -> None:
    split = _split(drop=0)
    module = _module(SiameseNet(5, tower=(8, 4), dropout=0.0, head="metric"), split)
    i, j = torch.from_numpy(split.i).long(), torch.from_numpy(split.j).long()
    assert calibrate_metric_head(module, i, j)
    out = module.net(module.table, i, j)
    assert float(out.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(out.std()) == pytest.approx(1.0, rel=1e-3)
    assert not calibrate_metric_head(_module(SiameseNet(5, tower=(8, 4)), split), i, j)
