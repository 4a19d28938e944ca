"""Bench rows of training: the pair DataModule against a per-item DataLoader at batch 32 (the
original student project's loader), and two trainings sharing the cores."""

from __future__ import annotations

from bench.table import Row, Sizes


def bench_training(sizes: Sizes) -> list[Row]:
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader

    from bench.training_throughput import (
        ConcatPairModule,
        PerItemPairs,
        bf16_supported,
        fit_one_epoch,
        synthetic_pair_split,
    )
    from fmri_rdm.models.pair_network.datamodule import PairDataModule
    from fmri_rdm.models.pair_network.module import PairRegressionModule
    from fmri_rdm.models.pair_network.nets.siamese import SiameseNet

    dim = sizes.train_dim
    emb, split = synthetic_pair_split(sizes.train_images, sizes.train_pairs, dim, seed=0)
    n = len(split)
    pl.seed_everything(0, verbose=False)
    loader = DataLoader(PerItemPairs(emb, split.i, split.j, split.y), batch_size=32, shuffle=True)
    limit = sizes.seed_batches
    base_s = fit_one_epoch(ConcatPairModule(SiameseNet(dim), dim), limit, train_dataloaders=loader)
    base_rate = min(n, 32 * limit) / base_s
    rows = []
    precisions = ["32-true", "bf16-mixed"] if bf16_supported() else ["32-true"]
    for precision in precisions:
        pl.seed_everything(0, verbose=False)
        dm = PairDataModule(emb, split, batch_size=sizes.train_batch, seed=0)
        module = PairRegressionModule(SiameseNet(dim))
        seconds = fit_one_epoch(module, precision=precision, datamodule=dm)
        ratio = n / seconds / base_rate
        rows.append(
            Row(
                f"training siamese, batch {sizes.train_batch} {precision} vs per-item batch 32",
                f"{n:,} pairs, D={dim}",
                seconds,
                n / base_rate,  # the per-item loader's time for the same pairs (extrapolated)
                ratio,
                target=">= 20x",
                met=ratio >= 20,
            )
        )
    return rows


def bench_concurrent(sizes: Sizes) -> list[Row]:
    """Two copies of a small-batch training at once vs one alone (separate processes)."""
    from bench.concurrent_training import BATCH, N_IMAGES, measure

    res = measure(sizes.concurrent_steps, "project", repeats=max(1, sizes.repeats - 1))
    return [
        Row(
            f"training: 2 copies at once / alone (ideal 2), siamese batch {BATCH}",
            f"{N_IMAGES} images, {res['steps']} steps",
            res["together_s"],
            res["alone_s"],
            res["ratio"],
            target="<= 2.5x",
            met=res["ratio"] <= 2.5,
        ),
        Row(
            f"training alone: project / spinning threads (ACTIVE), batch {BATCH}",
            f"{N_IMAGES} images, {res['steps']} steps",
            res["alone_s"],
            res["active_alone_s"],
            res["alone_ratio"],
            target="<= 1.15x",
            met=res["alone_ratio"] <= 1.15,
        ),
    ]
