import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.datamodule import PairBatches, PairDataModule, PairSplit

# models.pair_network.datamodule filters this at import; pytest resets filters after collection.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Your `IterableDataset` has `__len__`"),
    pytest.mark.filterwarnings("ignore:You passed in a `val_dataloader` but have no"),
]


def _split(n_items: int = 30) -> PairSplit:
    i, j = np.triu_indices(n_items, k=1)
    return PairSplit(i.astype(np.int32), j.astype(np.int32), np.arange(len(i), dtype=np.float32))


def _codes(batches: list) -> np.ndarray:  # type: ignore[type-arg]
    """Pair targets in serving order (y is the pair's position, so it identifies the pair)."""
    return torch.cat([y for _, _, y in batches]).numpy().astype(int)


def _dm(batch_size: int, seed: int = 0) -> PairDataModule:
    return PairDataModule(
        torch.zeros(30, 4), _split(), val=_split(), batch_size=batch_size, seed=seed
    )


def test_every_pair_once_per_epoch_with_partial_last_batch() -> None:
    dm = _dm(batch_size=100)  # 435 pairs -> 4 full batches + 35
    loader = dm.train_dataloader()
    assert len(loader) == 5
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [100, 100, 100, 100, 35]
    codes = _codes(batches)
    np.testing.assert_array_equal(np.sort(codes), np.arange(435))
    i, j, y = batches[0]
    assert i.dtype == torch.int64 and y.dtype == torch.float32
    split = _split()
    np.testing.assert_array_equal(i.numpy(), split.i[y.numpy().astype(int)])
    np.testing.assert_array_equal(j.numpy(), split.j[y.numpy().astype(int)])


def test_seeded_and_new_order_each_epoch() -> None:
    a, b = (
        _dm(batch_size=64, seed=3).train_dataloader(),
        _dm(batch_size=64, seed=3).train_dataloader(),
    )
    a0, a1 = _codes(list(a)), _codes(list(a))
    np.testing.assert_array_equal(a0, _codes(list(b)))
    np.testing.assert_array_equal(a1, _codes(list(b)))
    assert not np.array_equal(a0, a1)
    assert not np.array_equal(a0, _codes(list(_dm(batch_size=64, seed=4).train_dataloader())))


def test_epoch_is_seed_plus_epoch() -> None:
    ds = PairBatches(_split(), 64, shuffle=True, seed=3)
    ds.set_epoch(2)
    other = PairBatches(_split(), 64, shuffle=True, seed=5)
    np.testing.assert_array_equal(_codes(list(ds)), _codes(list(other)))


def test_eval_loaders_keep_order() -> None:
    dm = _dm(batch_size=100)
    for loader in (dm.val_dataloader(), dm.predict_dataloader()):
        np.testing.assert_array_equal(_codes(list(loader)), np.arange(435))
    assert dm.test_dataloader() == []


def test_workers_serve_each_batch_once() -> None:
    loader = PairDataModule(torch.zeros(30, 4), _split(), batch_size=50, num_workers=2)
    np.testing.assert_array_equal(np.sort(_codes(list(loader.train_dataloader()))), np.arange(435))


class _Recorder(pl.LightningModule):
    """Records the pairs each training epoch sees."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.seen: dict[int, list[torch.Tensor]] = {}

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        self.seen.setdefault(self.current_epoch, []).append(batch[2])
        return (self.w - 1).pow(2).sum()

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_trainer_epochs_use_seed_plus_epoch() -> None:
    dm = PairDataModule(torch.zeros(30, 4), _split(), batch_size=100, seed=7)
    model = _Recorder()
    trainer = pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=dm)
    for epoch in (0, 1):
        ref = PairBatches(_split(), 100, shuffle=True, seed=7 + epoch)
        np.testing.assert_array_equal(
            torch.cat(model.seen[epoch]).numpy().astype(int), _codes(list(ref))
        )


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="i < j"):
        PairSplit(np.array([1]), np.array([0]), np.array([0.0]))
    with pytest.raises(ConfigError, match="length"):
        PairSplit(np.array([0, 1]), np.array([1, 2]), np.array([0.0]))
    with pytest.raises(ConfigError, match="rows"):
        PairDataModule(torch.zeros(10, 4), _split())
    with pytest.raises(ConfigError, match="batch_size"):
        PairDataModule(torch.zeros(30, 4), _split(), batch_size=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_trainer_serves_every_pair_once_per_epoch_from_the_device() -> None:
    """On a GPU trainer the pairs live on the device and each epoch is a permutation there."""
    n = 40
    i, j = np.triu_indices(n, 1)
    split = PairSplit(i, j, (i + j).astype(np.float32))
    data = PairDataModule(torch.zeros(n, 3), split, batch_size=64, seed=3)
    data.trainer = pl.Trainer(accelerator="gpu", devices=1, logger=False)
    batches = list(data.train_dataloader())
    assert all(b[0].is_cuda and b[2].is_cuda for b in batches)
    got = torch.cat([b[0] * n + b[1] for b in batches]).cpu().numpy()
    assert sorted(got.tolist()) == sorted((i * n + j).tolist())
    y = torch.cat([b[2] for b in batches]).cpu().numpy()
    np.testing.assert_array_equal(y, (got // n + got % n).astype(np.float32))
