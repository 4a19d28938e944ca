"""LightningModule that trains any pair network on (i, j, y) index batches.

The embedding (or image) table lives in the datamodule; `setup` registers it here as a
non-persistent buffer, so Lightning moves it to the device with the model while checkpoints
hold only the weights.

Loading a checkpoint: rebuild the net from the run's config (the same `_target_` and kwargs),
then
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    module = PairRegressionModule(net, **ckpt["hyper_parameters"])
    module.load_state_dict(ckpt["state_dict"])
    module.set_table(table)
(`PairRegressionModule.load_from_checkpoint(path, net=net)` does the same first three steps.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torchmetrics import PearsonCorrCoef

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.block_step import block_loss
from fmri_rdm.models.pair_network.losses import make_loss
from fmri_rdm.models.pair_network.priors.pattern import make_prior
from fmri_rdm.models.pair_network.readout import make_readout

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]

# Adam at 1e-3, as in conf/training/default.yaml: it was stable for every net here at batch sizes
# 1k–16k in measurements made outside this repository (no test or bench checks it).
DEFAULT_OPTIMIZER: OptimizerFactory = partial(torch.optim.Adam, lr=1e-3)


class PairRegressionModule(pl.LightningModule):
    """Regress pair targets y from net(table, i, j).

    Args:
        net: a pair network with `forward(table, i, j) -> (B,)`.
        loss: "mse", "pearson" or "mixed" (see `models.losses`).
        alpha: weight of mse in the mixed loss.
        optimizer: params -> Optimizer, e.g. functools.partial(torch.optim.Adam, lr=1e-3)
            (Hydra: `_partial_: true`); default Adam(lr=1e-3).
        scheduler: Optimizer -> LRScheduler, stepped once per epoch; ReduceLROnPlateau
            watches `val/loss`.
        target_mean, target_std: the net's raw output is scaled by std and shifted by mean
            (the training targets' statistics), so it learns standardised targets.
        net_config: the net's Hydra config (`_target_` + kwargs), kept in the checkpoint's
            hyper-parameters so `predict` can rebuild the net from the checkpoint alone.
        response_weight, n_voxels: > 0 adds a linear read-out from the net's tower to the
            n_voxels responses (`models.readout`), loss = pair loss + response_weight · voxel
            MSE on the fit images (given by `set_responses`); validation stays the pair loss.
        prior_dim, prior_metric, prior_kind: > 0 starts the prediction from a fixed RDM
            model (a table row's flattened width and the RDM's metric; `models.pattern_prior`):
            `encoding`, the encoding model's RDM (`models.encoding_prior`), or `reweighted`,
            RSA / feature-reweighted RSA for RDM-only data; fitted by
            `learners.encoding_prior_fit` / `learners.rdm_prior_fit`.
            pred = prior_weight · prior + gate · net.
    """

    table: Tensor | None

    def __init__(
        self,
        net: nn.Module,
        loss: str = "mse",
        alpha: float = 0.5,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        net_config: dict[str, Any] | None = None,
        response_weight: float = 0.0,
        n_voxels: int = 0,
        prior_dim: int = 0,
        prior_metric: str = "correlation",
        prior_kind: str = "encoding",
    ) -> None:
        super().__init__()
        # The factories are code, not config: the run's Hydra config already records them.
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"])
        self.net = net
        self.loss_fn = make_loss(loss, alpha)
        self.optimizer_factory = optimizer or DEFAULT_OPTIMIZER
        self.scheduler_factory = scheduler
        self.val_pearson = PearsonCorrCoef()
        self.register_buffer("table", None, persistent=False)
        # The net predicts standardised targets: RDM values sit in a narrow band (e.g. 1 ± 0.1
        # for correlation), far from a fresh net's outputs around 0.
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)
        self.response_weight = float(response_weight)
        self.readout = make_readout(net, n_voxels, self.response_weight)
        # a metric head on the read-out's predicted patterns: these are centred over voxels
        # already (`ResponseReadout.patterns`), so 1 - r is 1 - cosine of their coordinates
        self.on_patterns = self.readout is not None and self.readout.has_patterns
        if self.on_patterns:
            net.head.centre = False  # type: ignore[union-attr]
        # only when asked: the state-dict keys of runs without it stay as they were
        self.prior = make_prior(prior_kind, prior_dim, prior_metric) if prior_dim else None
        self._prior_cache: tuple[tuple[int, ...], Tensor] | None = None

    def set_responses(
        self, n_rows: int, images: np.ndarray, responses: np.ndarray, targets: str = "zscore"
    ) -> None:
        """For the read-out: the fit images (F,) among the table's n_rows rows and their voxel
        responses (F, V); no other image's responses may be given. targets: see
        `models.readout.readout_targets` (the learner passes the RDM's metric)."""
        if self.readout is None:
            raise ConfigError("set_responses needs response_weight > 0")
        self.readout.set_responses(n_rows, images, responses, targets)

    def set_table(self, table: Tensor) -> None:
        """Use `table` (N, ...) for the pairs' indices; moved to this module's device."""
        table = torch.as_tensor(table)
        if table.is_floating_point():
            table = table.to(torch.float32)
        self.register_buffer("table", table.to(self.device), persistent=False)
        self._prior_cache = None  # a new table: its prior coordinates are computed afresh

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        table = getattr(datamodule, "table", None)
        if table is not None:
            self.set_table(table)
        elif self.table is None:
            raise ConfigError(
                "PairRegressionModule needs a table: fit with a PairDataModule or call set_table()"
            )

    def forward(self, i: Tensor, j: Tensor) -> Tensor:
        """i, j (B,) int64 -> predictions (B,)."""
        if self.table is None:
            raise ConfigError("PairRegressionModule has no table: call set_table() first")
        if self.on_patterns:
            net: Any = self.net
            z, ii, jj, _ = net.encode(self.table, i, j)
            out = net.head(self._distance_space(z), ii, jj)
        else:
            out = self.net(self.table, i, j)
        return self.with_prior(out, i, j) * self.target_std + self.target_mean

    def with_prior(self, out: Tensor, i: Tensor, j: Tensor) -> Tensor:
        """The net's standardised predictions out (B,) of pairs (i, j) of the table, combined
        with the prior's when there is one."""
        if self.prior is None:
            return out
        return self.prior.combine(self.prior(self.prior_coordinates(), i, j), out)

    @torch.no_grad()
    def prior_coordinates(self) -> Tensor:
        """(N, K) the prior's coordinates of every table row, computed
        once per table and prior state (the prior is not trained)."""
        assert self.prior is not None and self.table is not None
        key = (self.table.data_ptr(), *self.prior.state_key())
        if self._prior_cache is None or self._prior_cache[0] != key:
            coords = torch.cat([self.prior.coordinates(chunk) for chunk in self.table.split(4096)])
            self._prior_cache = (key, coords)
        return self._prior_cache[1]

    def _distance_space(self, z: Tensor) -> Tensor:
        """What the head measures distances between: the tower outputs z (U, Z), or with a
        metric head on responses, the read-out's predicted patterns of them (U, K + 1)."""
        if self.on_patterns:
            assert self.readout is not None
            return self.readout.patterns(z)
        return z

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        if batch[-1].ndim == 2:  # a block of images (`models.blocks`)
            rows, y_block = batch
            loss, n_pairs = block_loss(self, rows, y_block)
        else:
            i, j, y = batch
            n_pairs = len(y)
            if self.readout is None:
                # float32 loss under bf16 autocast: a bf16 mean over thousands of pairs is coarse
                loss = self.loss_fn(self(i, j).float(), y)
            else:
                loss = self._supervised_loss(i, j, y)
        # sync_dist: under DDP every rank sees the mean over all ranks' batches, so that the
        # checkpoint callbacks (monitoring it without validation) decide alike on every rank
        self.log(
            "train/loss",
            loss,
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=n_pairs,
            sync_dist=True,
        )
        return loss

    def _supervised_loss(self, i: Tensor, j: Tensor, y: Tensor) -> Tensor:
        """Pair loss + response_weight · voxel MSE, one tower pass for both."""
        assert self.readout is not None and self.table is not None
        net: Any = self.net  # a tower net (siamese, siamese_cnn): make_readout checked it
        z, ii, jj, ids = net.encode(self.table, i, j)
        out = self.with_prior(net.head(self._distance_space(z), ii, jj), i, j)
        pred = out * self.target_std + self.target_mean
        pair = self.loss_fn(pred.float(), y)
        voxel = self.readout.loss(z, ids)
        self.log("train/pair_loss", pair, on_step=False, on_epoch=True, batch_size=len(y))
        self.log("train/voxel_loss", voxel, on_step=False, on_epoch=True, batch_size=len(y))
        return pair + self.response_weight * voxel

    def validation_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> None:
        i, j, y = batch
        pred = self(i, j).float()
        loss = self.loss_fn(pred, y)
        self.log("val/loss", loss, prog_bar=True, batch_size=len(y), sync_dist=True)
        # A metric object accumulates over the whole val set: per-batch r would be noisy; under
        # DDP torchmetrics merges the ranks' sums at compute(), so r is over the whole split.
        self.val_pearson.update(pred, y.float())
        self.log("val/pearson", self.val_pearson, prog_bar=True, batch_size=len(y))

    def predict_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        i, j = batch[0], batch[1]
        return self(i, j).float()

    @torch.inference_mode()
    def predict_pairs(self, i: Any, j: Any, batch_size: int = 65536) -> np.ndarray:
        """Predictions for pairs (i, j) (array-likes of length P) -> float32 (P,)."""
        i_t = torch.as_tensor(np.asarray(i), dtype=torch.int64, device=self.device)
        j_t = torch.as_tensor(np.asarray(j), dtype=torch.int64, device=self.device)
        was_training = self.training
        self.eval()
        try:
            out = [
                self(i_t[s : s + batch_size], j_t[s : s + batch_size]).float().cpu()
                for s in range(0, len(i_t), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out).numpy() if out else np.zeros(0, np.float32)

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch", "monitor": "val/loss"},
        }
