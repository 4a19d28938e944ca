"""Serves batches of pair indices + targets; the image/embedding table stays in one place.

A batch is (i, j, y): i, j (B,) int64 indices into `PairDataModule.table`, y (B,) targets. The
LightningModule gathers table rows itself (see `models.module`), so no pair features are ever
built here and there is no per-item `__getitem__`: each batch is a slice of a seeded permutation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from torch.utils.data.dataloader import _BaseDataLoaderIter

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.blocks import EpochShards, PairBlocks
from fmri_rdm.rsa.splits import PairSplit

Batch = tuple[Tensor, Tensor, Tensor]

# Lightning warns about any IterableDataset with __len__ because workers could duplicate data;
# PairBatches shards its batches over workers, so its length is exact.
warnings.filterwarnings("ignore", message="Your `IterableDataset` has `__len__` defined")


class PairBatches(EpochShards, IterableDataset[Batch]):
    """Whole batches of (i, j, y) tensors: slices of a permutation that is seeded per epoch.

    With shuffle, epoch e uses torch.randperm(n) seeded with `seed + e`; without, pairs come
    in stored order. Sharding (`set_shard(rank, world_size)`, set by PairDataModule from the
    trainer under DDP; every rank draws the same permutation):

    * shuffled (training): rank r takes the global batches r, r + R, r + 2R, ...; every rank
      gets ceil(B / R) batches, the ranks short of one repeat the epoch's first batches
      (DDP needs the same number of steps on every rank, as DistributedSampler's padding).
    * in order (validation, test, prediction): rank r takes the contiguous pairs
      [r n / R, (r + 1) n / R), so every pair is scored exactly once across the ranks.

    Within a rank, DataLoader worker w of W yields every W-th of the rank's batches, and the
    loader's round-robin keeps the order of the single-process case.

    Pair indices are stored as int32 (half the memory of int64: 0.4 GB for 48 M pairs) and
    gathered with `index_select` (~5x faster than advanced indexing on CPU); only the batch is
    widened to int64.

    On a GPU (`to(device)`, done by PairDataModule when the trainer runs on one and there are
    no loader workers) the pairs live on the device and each epoch's permutation is drawn
    there, so a step costs no host gather and no copy: on an H200 the host path kept the GPU
    ~13 % busy at batch 65,536 (bench/gpu_check.sh). The device's generator draws other
    permutations than the CPU's for the same seed.
    """

    def __init__(self, split: PairSplit, batch_size: int, shuffle: bool, seed: int = 0) -> None:
        super().__init__()
        if batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {batch_size}")
        self.i = torch.as_tensor(np.asarray(split.i, dtype=np.int32))
        self.j = torch.as_tensor(np.asarray(split.j, dtype=np.int32))
        y = np.asarray(split.y)
        self.y = torch.as_tensor(y if y.dtype == np.bool_ else y.astype(np.float32, copy=False))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed

    def to(self, device: torch.device) -> PairBatches:
        """Keep the pairs on `device` (a GPU): batches are then sliced there."""
        self.i, self.j, self.y = (t.to(device) for t in (self.i, self.j, self.y))
        return self

    def _slices(self) -> list[slice]:
        """This rank's batches as slices of the epoch's order."""
        n, size, rank, world = len(self.i), self.batch_size, self.rank, self.world_size
        if self.shuffle:
            total = math.ceil(n / size)
            per_rank = math.ceil(total / world) if total else 0
            ids = [(k * world + rank) % total for k in range(per_rank)]
            return [slice(b * size, min(n, (b + 1) * size)) for b in ids]
        lo, hi = rank * n // world, (rank + 1) * n // world
        return [slice(s, min(hi, s + size)) for s in range(lo, hi, size)]

    def __len__(self) -> int:
        """Number of batches of this rank, so that Lightning can show progress."""
        return len(self._slices())

    def __iter__(self) -> Iterator[Batch]:
        order: Tensor | None = None
        if self.shuffle:
            device = self.i.device
            gen = torch.Generator(device=device).manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.i), generator=gen, device=device)
        info = get_worker_info()
        first, step = (0, 1) if info is None else (info.id, info.num_workers)
        for sl in self._slices()[first::step]:
            if order is None:
                yield self.i[sl].long(), self.j[sl].long(), self.y[sl]
            else:
                idx = order[sl]
                yield (
                    self.i.index_select(0, idx).long(),
                    self.j.index_select(0, idx).long(),
                    self.y.index_select(0, idx),
                )


class _EpochLoader(DataLoader[Batch]):
    """DataLoader(batch_size=None) that sets the dataset's epoch before every iteration.

    Lightning only calls `set_epoch` on samplers, never on an IterableDataset, so the epoch is
    taken from `epoch_fn` (the trainer's current epoch, right across resumes) or, outside a
    Trainer, from how many times this loader has been iterated.
    """

    def __init__(
        self,
        dataset: PairBatches | PairBlocks,
        num_workers: int,
        epoch_fn: Callable[[], int | None],
    ) -> None:
        super().__init__(dataset, batch_size=None, num_workers=num_workers)  # type: ignore[arg-type]
        self._epoch_fn = epoch_fn
        self._iterations = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        epoch = self._epoch_fn()
        assert isinstance(self.dataset, PairBatches | PairBlocks)
        self.dataset.set_epoch(self._iterations if epoch is None else epoch)
        self._iterations += 1
        return super().__iter__()


class PairDataModule(pl.LightningDataModule):
    """Holds the table (embeddings (N, D) float, or uint8 images (N, C, H, W)) and the splits.

    `train_dataloader` shuffles (seed + epoch); val/test/predict keep the stored order.
    `predict_dataloader` serves the test split, else val, else train.

    block_images: None = pair batches of `batch_size` pairs (the pairs plan); an int = the
    blocks plan: training batches are `models.blocks.PairBlocks` of at most that many images,
    `block_steps` of them per epoch (validation stays pair batches).
    """

    def __init__(
        self,
        table: Tensor,
        train: PairSplit,
        val: PairSplit | None = None,
        test: PairSplit | None = None,
        batch_size: int = 4096,
        seed: int = 0,
        num_workers: int = 0,
        device_batches: bool = True,
        block_images: int | None = None,
        block_steps: int = 50,
    ) -> None:
        super().__init__()
        self.table = torch.as_tensor(table)
        n = self.table.shape[0]
        for name, split in (("train", train), ("val", val), ("test", test)):
            if split is not None and len(split) and int(np.max(split.j)) >= n:
                raise ConfigError(
                    f"{name} pairs index image {int(np.max(split.j))} but the table has {n} rows"
                )
        if num_workers < 0:
            raise ConfigError(f"data.num_workers must be >= 0, got {num_workers}")
        self.train, self.val, self.test = train, val, test
        self.batch_size = batch_size
        self.seed = seed
        self.num_workers = num_workers
        self.device_batches = device_batches
        self._train_batches: PairBatches | PairBlocks
        if block_images is None:
            self._train_batches = PairBatches(train, batch_size, shuffle=True, seed=seed)
        else:
            self._train_batches = PairBlocks(train, block_images, block_steps, seed=seed)

    def _trainer_epoch(self) -> int | None:
        """The epoch about to run, also right after a resume: Lightning creates the first
        resumed epoch's loader before it counts the checkpoint's epoch as completed, so
        `trainer.current_epoch` is one behind there; the count of processed epochs is not."""
        if self.trainer is None:
            return None
        return int(self.trainer.fit_loop.epoch_progress.current.processed)  # type: ignore[attr-defined]

    def _shard(self, batches: PairBatches | PairBlocks) -> PairBatches | PairBlocks:
        """Give `batches` this process's share under DDP (the trainer's global rank and size);
        set here, in the main process, because DataLoader workers know no process group. On
        a GPU trainer without loader workers the pairs move to the GPU (`device_batches`)."""
        if self.trainer is not None:
            batches.set_shard(int(self.trainer.global_rank), int(self.trainer.world_size))
            strategy = getattr(self.trainer, "strategy", None)  # None: a stand-in trainer
            device: torch.device | None = getattr(strategy, "root_device", None)
            on_gpu = self.num_workers == 0 and device is not None and device.type == "cuda"
            if self.device_batches and on_gpu and isinstance(batches, PairBatches):
                assert device is not None
                batches.to(device)
        return batches

    def _ordered(self, split: PairSplit | None) -> DataLoader[Batch] | list[Batch]:
        if split is None:
            return []  # Lightning skips a loop whose loader is empty
        batches = PairBatches(split, self.batch_size, shuffle=False, seed=self.seed)
        self._shard(batches)
        return DataLoader(batches, batch_size=None, num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader[Batch]:
        loader = _EpochLoader(self._train_batches, self.num_workers, self._trainer_epoch)
        self._shard(self._train_batches)
        return loader

    def val_dataloader(self) -> DataLoader[Batch] | list[Batch]:
        return self._ordered(self.val)

    def test_dataloader(self) -> DataLoader[Batch] | list[Batch]:
        return self._ordered(self.test)

    def predict_dataloader(self) -> DataLoader[Batch] | list[Batch]:
        split = next(s for s in (self.test, self.val, self.train) if s is not None)
        return self._ordered(split)
