"""Training throughput: PairDataModule + index batches vs the original student
project's per-item pair Dataset.

Same model (SiameseNet, D=512, symmetric head), optimiser (Adam 1e-3), loss (mse), device (CPU),
all through a Lightning Trainer. Rows:
  (a) PairDataModule batches of pair indices; the net gathers table rows itself,
  (b) the original student project's per-item Dataset returning cat(emb[i], emb[j]),
      DataLoader batch 32,
  (c) the same per-item Dataset at the batch size of (a).
(b) and (c) are slow, so a fixed number of batches is timed and pairs/s extrapolated.

    python -m bench.training_throughput            # prints the table
    from bench.training_throughput import run      # -> list of row dicts
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from fmri_rdm.models.pair_network.datamodule import PairDataModule, PairSplit
from fmri_rdm.models.pair_network.losses import mse
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet


class _EpochTimer(pl.Callback):
    """Wall time of the training epoch only (no Trainer set-up or teardown)."""

    def __init__(self) -> None:
        self.seconds = float("nan")
        self._start = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.seconds = time.perf_counter() - self._start


class PerItemPairs(Dataset[tuple[Tensor, Tensor]]):
    """The original student project's layout: item k = (cat(emb[i_k], emb[j_k]) (2D,), y_k)."""

    def __init__(self, emb: Tensor, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> None:
        self.emb, self.i, self.j, self.y = emb, i, j, torch.as_tensor(y)

    def __len__(self) -> int:
        return len(self.i)

    def __getitem__(self, k: int) -> tuple[Tensor, Tensor]:
        return torch.cat([self.emb[self.i[k]], self.emb[self.j[k]]]), self.y[k]


class ConcatPairModule(pl.LightningModule):
    """Trains the same net on explicit concatenated pairs x (B, 2D) via forward_pairs."""

    def __init__(self, net: SiameseNet, dim: int) -> None:
        super().__init__()
        self.net, self.dim = net, dim

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        return mse(self.net.forward_pairs(x[:, : self.dim], x[:, self.dim :]), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def fit_one_epoch(
    module: pl.LightningModule,
    limit_batches: int | None = None,
    precision: str = "32-true",
    **fit: Any,
) -> float:
    timer = _EpochTimer()
    trainer = pl.Trainer(
        max_epochs=1,
        accelerator="cpu",
        precision=precision,  # type: ignore[arg-type]
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        limit_train_batches=limit_batches,
        callbacks=[timer],
    )
    trainer.fit(module, **fit)
    return timer.seconds


def bf16_supported() -> bool:
    """Whether oneDNN has fast bf16 kernels here (AVX512-BF16/AMX); elsewhere bf16 is slower."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def synthetic_pair_split(
    n_images: int, n_pairs: int, dim: int, seed: int
) -> tuple[Tensor, PairSplit]:
    rng = np.random.default_rng(seed)
    emb = torch.as_tensor(rng.normal(size=(n_images, dim)).astype(np.float32))
    i, j = np.triu_indices(n_images, k=1)
    keep = np.sort(rng.choice(len(i), size=min(n_pairs, len(i)), replace=False))
    y = rng.uniform(0, 2, size=len(keep)).astype(np.float32)
    return emb, PairSplit(i[keep].astype(np.int64), j[keep].astype(np.int64), y)


def _row(operation: str, pairs: int, seconds: float) -> dict[str, Any]:
    return {
        "operation": operation,
        "size": pairs,
        "seconds": seconds,
        "pairs_per_s": pairs / seconds,
    }


def run(
    n_images: int = 2000,
    n_pairs: int = 500_000,
    dim: int = 512,
    batch_size: int = 4096,
    heads: tuple[str, ...] = ("concat", "symmetric"),
    large_batch: int | None = 16384,
    seed_batches: int = 400,
    big_batches: int = 20,
    seed: int = 0,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Time one training epoch each way; rows of operation, size (pairs), seconds, pairs_per_s.

    For each SiameseNet head ("concat" is the original student
    project's): (a) in float32 and, where the CPU has
    fast bf16, under bf16-mixed autocast, plus float32 at `large_batch` (None: skip), where the
    tower's per-step cost over the distinct images is spread over more pairs; (b) and (c) in
    float32 as the original student project trained.
    `threads` sets torch's intra-op threads for the run (None: leave as is). On a machine shared
    with other jobs, 1 thread gives stable numbers: OpenMP's 2 threads stall whenever the other
    core is busy.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    emb, split = synthetic_pair_split(n_images, n_pairs, dim, seed)
    n = len(split)
    precisions = ["32-true", "bf16-mixed"] if bf16_supported() else ["32-true"]
    per_item = PerItemPairs(emb, split.i, split.j, split.y)
    rows = []
    for head in heads:
        for precision in precisions:
            pl.seed_everything(seed, verbose=False)
            dm = PairDataModule(emb, split, batch_size=batch_size, seed=seed)
            module = PairRegressionModule(SiameseNet(dim, head=head))
            seconds = fit_one_epoch(module, precision=precision, datamodule=dm)
            label = f"{head}: (a) PairDataModule, batch {batch_size}, {precision}"
            rows.append(_row(label, n, seconds))
        if large_batch:
            pl.seed_everything(seed, verbose=False)
            dm = PairDataModule(emb, split, batch_size=large_batch, seed=seed)
            seconds = fit_one_epoch(PairRegressionModule(SiameseNet(dim, head=head)), datamodule=dm)
            rows.append(
                _row(f"{head}: (a) PairDataModule, batch {large_batch}, 32-true", n, seconds)
            )
        for tag, bs, limit in (("(b)", 32, seed_batches), ("(c)", batch_size, big_batches)):
            pl.seed_everything(seed, verbose=False)
            loader = DataLoader(per_item, batch_size=bs, shuffle=True)
            concat = ConcatPairModule(SiameseNet(dim, head=head), dim)
            seconds = fit_one_epoch(concat, limit, train_dataloaders=loader)
            label = f"{head}: {tag} per-item Dataset, batch {bs}, 32-true*"
            rows.append(_row(label, min(n, bs * limit), seconds))
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """Plain-text table; `vs (b)` = pairs/s relative to the original student
    project's setting for the same head."""
    ref = {r["operation"].split(":")[0]: r["pairs_per_s"] for r in rows if "(b)" in r["operation"]}
    lines = [f"{'operation':<54} {'pairs':>7} {'seconds':>7} {'pairs/s':>8} {'vs (b)':>7}"]
    for r in rows:
        base = ref.get(r["operation"].split(":")[0], float("nan"))
        lines.append(
            f"{r['operation']:<54} {r['size']:>7} {r['seconds']:>7.2f} "
            f"{r['pairs_per_s']:>8.0f} {r['pairs_per_s'] / base:>6.1f}x"
        )
    lines.append("* extrapolated from a fixed number of batches")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument("--n-pairs", type=int, default=500_000)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows = run(args.n_images, args.n_pairs, batch_size=args.batch_size, threads=args.threads)
    print(format_rows(rows))


if __name__ == "__main__":
    main()
