"""One training epoch over ALL pairs of a subject-sized image set (9841 images, 48 M pairs).

    python -m bench.full_scale_epoch --accelerator gpu --precision bf16-mixed
    python -m bench.full_scale_epoch --batch-size 65536 --batches host,device   # where the
                                        # pair batches live on a GPU: before / after issue 25
    python -m bench.full_scale_epoch --accelerator cpu --limit-batches 20   # extrapolated
    python -m bench.full_scale_epoch --accelerator cpu --precision bf16-mixed \
        --batch-size 65536 --models mlp                                      # a real CPU epoch

Embeddings and targets are synthetic (random unit vectors, targets from a hidden linear map),
the code path is the project's: PairDataModule + PairRegressionModule + Lightning Trainer.
Prints one JSON line per model with pairs/s and the (measured or extrapolated) epoch time.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pytorch_lightning as pl
import torch

from fmri_rdm.models.pair_network.datamodule import PairDataModule, PairSplit
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.mlp import PairMLP
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet
from fmri_rdm.rsa.pairs import all_pairs


def synthetic_problem(n: int, dim: int, seed: int = 0) -> tuple[torch.Tensor, PairSplit]:
    """(n, dim) unit embeddings and all pairs with targets 1 - cos(A e_i, A e_j)-like values."""
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    i, j = all_pairs(n)
    hidden = emb @ rng.standard_normal((dim, 16)).astype(np.float32)
    hidden /= np.linalg.norm(hidden, axis=1, keepdims=True)
    y = np.empty(len(i), np.float32)
    for s in range(0, len(i), 1 << 22):  # chunks bound the temporary (4 M pairs x 16)
        a, b = hidden[i[s : s + (1 << 22)]], hidden[j[s : s + (1 << 22)]]
        y[s : s + (1 << 22)] = 1.0 - np.einsum("pk,pk->p", a, b)
    return torch.from_numpy(emb), PairSplit(i, j, y)


def time_epoch(
    name: str,
    net: torch.nn.Module,
    table: torch.Tensor,
    split: PairSplit,
    args: argparse.Namespace,
) -> dict:
    # host: batches gathered on the CPU and copied per step (before issue 25); device: the
    # pairs live on the GPU, each epoch's permutation drawn there
    device_batches = getattr(args, "batches_mode", "device") == "device"
    data = PairDataModule(
        table, split, batch_size=args.batch_size, seed=0, device_batches=device_batches
    )
    # "_readout": the response-supervised recipe (model.response_weight=1), with random
    # responses of args.voxels voxels for every image (set up outside the timing)
    readout = name.endswith("_readout")
    module = PairRegressionModule(
        net,
        target_mean=float(split.y.mean()),
        target_std=float(split.y.std()),
        response_weight=1.0 if readout else 0.0,
        n_voxels=args.voxels,
    )
    if readout:
        rng = np.random.default_rng(1)
        responses = rng.standard_normal((len(table), args.voxels), dtype=np.float32)
        module.set_responses(len(table), np.arange(len(table)), responses, "correlation")
    limit = args.limit_batches or 1.0
    trainer = pl.Trainer(
        accelerator=args.accelerator,
        devices=1,
        precision=args.precision,
        max_epochs=1,
        limit_train_batches=limit,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    n_batches = len(data.train_dataloader()) if not args.limit_batches else args.limit_batches
    pairs = min(len(split), n_batches * args.batch_size)
    return {
        "model": name,
        "batches": "device" if device_batches else "host",
        "device": torch.cuda.get_device_name() if args.accelerator == "gpu" else "cpu",
        "precision": args.precision,
        "batch_size": args.batch_size,
        "pairs": pairs,
        "seconds": round(seconds, 2),
        "pairs_per_s": round(pairs / seconds),
        "epoch_s_all_pairs": round(len(split) / (pairs / seconds), 1),
        "train_loss": float(trainer.callback_metrics["train/loss"]),
        "torch_threads": torch.get_num_threads(),
        # peak RSS of this process so far (run one model per process for a per-model figure)
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9841)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--accelerator", default="gpu")
    parser.add_argument("--precision", default="bf16-mixed")
    parser.add_argument("--batch-size", type=int, default=262144)
    parser.add_argument("--limit-batches", type=int, default=0)
    parser.add_argument("--models", default="siamese,mlp")
    parser.add_argument("--voxels", type=int, default=2000, help="responses of *_readout")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--batches", default="device", help="host,device: where a GPU run's pair batches live"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_float32_matmul_precision("high")
    table, split = synthetic_problem(args.images, args.dim)
    nets = {
        "siamese": lambda: SiameseNet(args.dim, dropout=0.0, head="symmetric"),
        "siamese_concat": lambda: SiameseNet(args.dim, dropout=0.0, head="concat"),
        "mlp": lambda: PairMLP(args.dim, hidden_layers=2),
        # the siamese row with the voxel read-out (conf/model/siamese.yaml's response_weight)
        "siamese_readout": lambda: SiameseNet(args.dim, dropout=0.0, head="symmetric"),
        "siamese_correlation": lambda: SiameseNet(args.dim, dropout=0.1, head="correlation"),
    }
    if args.accelerator == "gpu":  # CUDA context, cuBLAS handles and kernels, outside the timing
        warm = argparse.Namespace(**{**vars(args), "limit_batches": 3})
        for name in args.models.split(","):
            time_epoch(name, nets[name](), table, split, warm)
    for name in args.models.split(","):
        for mode in args.batches.split(","):
            pl.seed_everything(0, verbose=False)
            run_args = argparse.Namespace(**vars(args), batches_mode=mode)
            print(json.dumps(time_epoch(name, nets[name](), table, split, run_args)), flush=True)


if __name__ == "__main__":
    main()
