"""End-to-end training of each pair network through PairDataModule + Lightning."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from torch import nn

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.datamodule import PairDataModule, PairSplit
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.mlp import PairMLP
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet
from fmri_rdm.models.pair_network.nets.siamese_cnn import SiameseCNN
from tests.helpers import all_pairs

# models.pair_network.datamodule filters this at import; pytest resets filters after collection.
pytestmark = pytest.mark.filterwarnings("ignore:Your `IterableDataset` has `__len__`")


class _EpochLosses(pl.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.losses.append(float(trainer.callback_metrics["train/loss"]))


def _trainer(max_epochs: int, callbacks: list[pl.Callback]) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )


def _embedding_data() -> PairDataModule:
    """20 images, D=16; target = normalised squared distance, learnable from the pair."""
    table = torch.randn(20, 16, generator=torch.Generator().manual_seed(0))
    i, j = all_pairs(20)
    y = ((table[i] - table[j]) ** 2).mean(1).numpy().astype(np.float32)
    split = PairSplit(i, j, y)
    return PairDataModule(table, split, val=split, batch_size=32, seed=0)


def _image_data() -> PairDataModule:
    """20 8x8 grey images of random brightness; target = brightness difference."""
    gen = torch.Generator().manual_seed(0)
    level = torch.rand(20, generator=gen)
    noise = torch.rand(20, 1, 8, 8, generator=gen) * 0.2
    table = ((level[:, None, None, None] * 0.8 + noise) * 255).to(torch.uint8)
    i, j = all_pairs(20)
    y = (level[i] - level[j]).abs().numpy().astype(np.float32)
    split = PairSplit(i, j, y)
    return PairDataModule(table, split, val=split, batch_size=64, seed=0)


NETS = {
    "mlp": lambda: PairMLP(16, first_hidden=64),
    "siamese": lambda: SiameseNet(16, tower=(64, 32), head_hidden=32, dropout=0.0),
    "siamese_cnn": lambda: SiameseCNN(1, image_size=8, channels=(8, 16), embed_dim=16, dropout=0.0),
}


@pytest.mark.parametrize("name", list(NETS))
def test_training_loss_decreases(name: str) -> None:
    torch.manual_seed(0)
    dm = _image_data() if name == "siamese_cnn" else _embedding_data()
    module = PairRegressionModule(NETS[name](), optimizer=partial(torch.optim.Adam, lr=3e-3))
    record = _EpochLosses()
    trainer = _trainer(6, [record])
    trainer.fit(module, datamodule=dm)
    assert record.losses[-1] < 0.7 * record.losses[0]
    assert {"train/loss", "val/loss", "val/pearson"} <= set(trainer.callback_metrics)
    preds = torch.cat(trainer.predict(module, datamodule=dm))  # type: ignore[arg-type]
    np.testing.assert_allclose(
        preds.numpy(), module.predict_pairs(dm.train.i, dm.train.j), rtol=1e-5, atol=1e-6
    )


def test_fast_dev_run_and_checkpoint_reload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dm = _embedding_data()
    module = PairRegressionModule(PairMLP(16, first_hidden=32), loss="mixed", alpha=0.3)
    trainer = pl.Trainer(
        fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False
    )
    trainer.fit(module, datamodule=dm)
    assert "table" not in module.state_dict()  # non-persistent: checkpoints stay small
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    assert ckpt["hyper_parameters"] == {
        "loss": "mixed",
        "alpha": 0.3,
        "target_mean": 0.0,
        "target_std": 1.0,
        "net_config": None,
        "response_weight": 0.0,
        "n_voxels": 0,
        "prior_dim": 0,
        "prior_metric": "correlation",
        "prior_kind": "encoding",
    }
    again = PairRegressionModule(PairMLP(16, first_hidden=32), **ckpt["hyper_parameters"])
    again.load_state_dict(ckpt["state_dict"])
    again.set_table(dm.table)
    i, j = dm.train.i, dm.train.j
    np.testing.assert_array_equal(again.predict_pairs(i, j), module.predict_pairs(i, j))
    loaded = PairRegressionModule.load_from_checkpoint(path, net=PairMLP(16, first_hidden=32))
    loaded.set_table(dm.table)
    # Chunks of 7 pairs take the distinct-image path, so equal up to float rounding only.
    np.testing.assert_allclose(
        loaded.predict_pairs(i, j, batch_size=7), module.predict_pairs(i, j), rtol=1e-5, atol=1e-6
    )


def test_scheduler_and_missing_table() -> None:
    module = PairRegressionModule(
        nn.Linear(1, 1),
        optimizer=partial(torch.optim.SGD, lr=0.1),
        scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1),
    )
    config = module.configure_optimizers()
    assert isinstance(config["optimizer"], torch.optim.SGD)
    with pytest.raises(ConfigError, match="set_table"):
        module.predict_pairs([0], [1])
