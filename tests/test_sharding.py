"""PairBatches / PairDataModule under DDP: each rank's share, with fake ranks (no processes)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.datamodule import PairBatches, PairDataModule, PairSplit

pytestmark = pytest.mark.filterwarnings("ignore:Your `IterableDataset` has `__len__`")


def _split(n_pairs: int) -> PairSplit:
    """n_pairs pairs whose target is their position, so y identifies the pair."""
    i = np.zeros(n_pairs, np.int32)
    return PairSplit(i, i + 1, np.arange(n_pairs, dtype=np.float32))


def _served(batches: PairBatches) -> list[np.ndarray]:
    return [y.numpy().astype(int) for _, _, y in batches]


def _shards(n_pairs: int, batch: int, world: int, shuffle: bool) -> list[list[np.ndarray]]:
    out = []
    for rank in range(world):
        ds = PairBatches(_split(n_pairs), batch, shuffle=shuffle, seed=7)
        ds.set_shard(rank, world)
        assert len(ds) == len(_served(ds))
        out.append(_served(ds))
    return out


def test_two_ranks_train_on_disjoint_halves() -> None:
    whole = PairBatches(_split(400), 50, shuffle=True, seed=7)  # 8 batches
    a, b = _shards(400, 50, 2, shuffle=True)
    assert len(a) == len(b) == 4
    seen_a, seen_b = np.concatenate(a), np.concatenate(b)
    assert not set(seen_a) & set(seen_b)
    np.testing.assert_array_equal(np.sort(np.r_[seen_a, seen_b]), np.arange(400))
    # rank r serves global batches r, r + 2, ... of the single-process order
    single = _served(whole)
    for k, batch in enumerate(a):
        np.testing.assert_array_equal(batch, single[2 * k])
    for k, batch in enumerate(b):
        np.testing.assert_array_equal(batch, single[2 * k + 1])


@pytest.mark.parametrize(("n_pairs", "batch", "world"), [(435, 100, 2), (435, 100, 3), (7, 4, 4)])
def test_every_rank_gets_the_same_number_of_training_batches(n_pairs, batch, world) -> None:
    shards = _shards(n_pairs, batch, world, shuffle=True)
    counts = {len(s) for s in shards}
    assert len(counts) == 1  # DDP: equal steps on every rank
    served = np.concatenate([np.concatenate(s) for s in shards])
    np.testing.assert_array_equal(np.unique(served), np.arange(n_pairs))  # nothing dropped
    n_batches = -(-n_pairs // batch)
    assert counts.pop() == -(-n_batches // world)


@pytest.mark.parametrize(("n_pairs", "batch", "world"), [(435, 100, 2), (435, 64, 3), (9, 100, 4)])
def test_eval_ranks_score_each_pair_exactly_once(n_pairs, batch, world) -> None:
    shards = _shards(n_pairs, batch, world, shuffle=False)
    served = np.concatenate([np.concatenate(s) for s in shards])
    np.testing.assert_array_equal(served, np.arange(n_pairs))  # in order, no repeats
    sizes = [sum(len(b) for b in s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_workers_within_a_rank_split_that_rank_s_batches() -> None:
    dm = PairDataModule(torch.zeros(2, 3), _split(400), batch_size=50, num_workers=2, seed=7)
    dm.trainer = SimpleNamespace(  # type: ignore[assignment]
        global_rank=1,
        world_size=2,
        fit_loop=SimpleNamespace(
            epoch_progress=SimpleNamespace(current=SimpleNamespace(processed=0))
        ),
    )
    loader = dm.train_dataloader()
    got = [y.numpy().astype(int) for _, _, y in loader]
    ds = PairBatches(_split(400), 50, shuffle=True, seed=7)
    ds.set_shard(1, 2)
    expected = _served(ds)
    assert len(got) == len(expected) == 4
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    val = dm._ordered(_split(10))
    assert isinstance(val, torch.utils.data.DataLoader)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, _, y in val]), np.arange(5, 10))


def test_bad_shard() -> None:
    ds = PairBatches(_split(10), 4, shuffle=True)
    with pytest.raises(ConfigError, match="rank 2"):
        ds.set_shard(2, 2)
