"""One training step of the blocks plan: the tower once over a block, every pair among it.

With a metric head (`models.metric_head`) the block's distances are one GEMM, (B, B); the
pairs trained on are the block's non-NaN targets. Other heads (symmetric, concat; the pair MLP)
score the same pairs through their own pair path, as index arrays into the block.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from fmri_rdm.models.pair_network.nets.metric_head import MetricHead


def block_loss(module: Any, rows: Tensor, y_block: Tensor) -> tuple[Tensor, int]:
    """Loss of a block: rows (B,) table rows, y_block (B, B) targets (NaN: not trained on).

    module: a `PairRegressionModule`. Returns (pair loss [+ response_weight · voxel MSE],
    number of pairs scored).
    """
    keep = ~torch.isnan(y_block)
    y = y_block[keep]
    net: Any = module.net
    table = module.table.index_select(0, rows)
    if not hasattr(net, "encode"):  # a pair MLP: no tower, its own factorised pair path
        ii, jj = keep.nonzero(as_tuple=True)
        pred = _with_block_prior(module, rows, keep, net(table, ii, jj))
        return module.loss_fn((pred * module.target_std + module.target_mean).float(), y), len(y)
    everything = torch.arange(len(rows), device=rows.device)
    z, _, _, _ = net.encode(table, everything, everything)  # (B, Z), the block's order
    space = module._distance_space(z)
    if isinstance(net.head, MetricHead):
        pred = net.head.block(space)[keep]
    else:
        ii, jj = keep.nonzero(as_tuple=True)
        pred = net.head(space, ii, jj)
    pred = _with_block_prior(module, rows, keep, pred)
    loss = module.loss_fn((pred * module.target_std + module.target_mean).float(), y)
    if module.readout is not None:
        voxel = module.readout.loss(z, rows)
        module.log("train/pair_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        module.log("train/voxel_loss", voxel, on_step=False, on_epoch=True, batch_size=len(y))
        loss = loss + module.response_weight * voxel
    return loss, len(y)


def _with_block_prior(module: Any, rows: Tensor, keep: Tensor, pred: Tensor) -> Tensor:
    """pred (P,) of the block's kept pairs (keep (B, B), row-major order, as `nonzero`)
    combined with the encoding prior's, when the module has one (one GEMM over the block's
    cached pattern coordinates)."""
    prior = module.prior
    if prior is None:
        return pred
    coords = module.prior_coordinates().index_select(0, rows)
    return prior.combine(prior.block(coords)[keep], pred)


@torch.no_grad()
def calibrate_metric_head(module: Any, i: Tensor, j: Tensor) -> bool:
    """Set a fresh metric head's scale and shift from the distances of pairs (i, j) in eval
    mode (`MetricHead.calibrate`); False (nothing done) for other heads."""
    net: Any = module.net
    if not isinstance(getattr(net, "head", None), MetricHead) or module.table is None:
        return False
    was_training = module.training
    module.eval()
    try:
        z, ii, jj, _ = net.encode(module.table, i, j)
        dist = net.head.distances(module._distance_space(z), ii, jj)
    finally:
        module.train(was_training)
    net.head.calibrate(dist)
    return True
