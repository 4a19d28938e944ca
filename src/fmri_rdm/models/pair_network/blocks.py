"""Blocks of images for the RDM-level training plan (`model.plan=blocks`).

A training step of this plan takes a block of images (all of the fold's fit images when there
are at most `block_images` of them, else a random `block_images` of them), runs the tower on
them once and scores every pair among them (a GEMM for the metric heads). A batch is
(rows, y): rows (B,) int64 table rows of the block's images, ascending; y (B, B) float32, the
target of pair (rows[a], rows[b]) at [a, b] for a < b, NaN where the pair is not trained on:
the diagonal, the lower triangle, and every pair the training split does not hold (pairs that
`distribution` leaves out, or that straddle fit and validation images).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from fmri_rdm.errors import ConfigError
from fmri_rdm.rsa.splits import PairSplit

Block = tuple[Tensor, Tensor]


def dense_targets(split: PairSplit) -> tuple[np.ndarray, Tensor]:
    """The split's images (F,) ascending and its targets as an (F, F) float32 matrix, NaN where
    no pair of the split is (pair (images[a], images[b]), a < b, at [a, b])."""
    images = np.unique(np.concatenate([split.i, split.j])).astype(np.int64)
    n = len(images)
    dense = torch.full((n, n), float("nan"), dtype=torch.float32)
    a = torch.from_numpy(np.searchsorted(images, split.i))
    b = torch.from_numpy(np.searchsorted(images, split.j))
    dense[a, b] = torch.from_numpy(np.asarray(split.y, dtype=np.float32))
    return images, dense


class EpochShards:
    """What a training dataset of a fold knows besides its data: the epoch that seeds its
    order (set before every iteration) and its share under DDP (global rank and size)."""

    def __init__(self) -> None:
        self.epoch = 0
        self.rank, self.world_size = 0, 1

    def set_epoch(self, epoch: int) -> None:
        """Choose the order of the next iteration (seeded with the epoch)."""
        self.epoch = epoch

    def set_shard(self, rank: int, world_size: int) -> None:
        """Serve the share of process `rank` of `world_size` (DDP's global rank and size)."""
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not one of the {world_size} ranks")
        self.rank, self.world_size = rank, world_size


class PairBlocks(EpochShards, IterableDataset[Block]):
    """`steps` blocks per epoch; a random block is seeded by (seed, epoch, rank).

    Under DDP every rank takes its own random blocks (the gradients are averaged, as for
    pair batches); when the block is the whole fold, every rank takes the whole fold and they
    differ only in their dropout masks. DataLoader worker w of W yields every W-th block.
    """

    def __init__(self, split: PairSplit, block_images: int, steps: int, seed: int = 0) -> None:
        super().__init__()
        if block_images < 2:
            raise ConfigError(f"model.block_images must be >= 2, got {block_images}")
        if steps < 1:
            raise ConfigError(f"model.block_steps must be >= 1, got {steps}")
        if not len(split):
            raise ConfigError("the block plan needs training pairs, the fold has none")
        images, self.dense = dense_targets(split)
        self.images = torch.from_numpy(images)
        self.block_images = min(int(block_images), len(images))
        self.steps = int(steps)
        self.seed = seed

    @property
    def whole(self) -> bool:
        """Whether every block is all of the split's images."""
        return self.block_images == len(self.images)

    def __len__(self) -> int:
        return self.steps

    def _picks(self) -> list[Tensor | None]:
        """The epoch's blocks as ascending positions into `images` (None: all of them)."""
        if self.whole:
            return [None] * self.steps
        seed = (self.seed * 1_000_003 + self.epoch) * 1_009 + self.rank
        gen = torch.Generator().manual_seed(seed)
        n = len(self.images)
        return [
            torch.randperm(n, generator=gen)[: self.block_images].sort().values
            for _ in range(self.steps)
        ]

    def __iter__(self) -> Iterator[Block]:
        info = get_worker_info()
        first, step = (0, 1) if info is None else (info.id, info.num_workers)
        for pick in self._picks()[first::step]:
            if pick is None:
                yield self.images, self.dense
            else:
                yield self.images[pick], self.dense[pick][:, pick]
