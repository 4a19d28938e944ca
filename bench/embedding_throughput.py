"""Embedding throughput: full extraction (files -> DataLoader workers -> model) vs bare forward.

The bare forward runs the same model on pre-made tensors already on the device, at the same batch
size, so the ratio full/bare says how much the image pipeline (PIL decode + preprocessing in
worker processes, transfer) costs. Images are synthetic 425x425 PNGs, the NSD/Algonauts format,
with photo-like file sizes. Random weights: the compute is that of the pretrained model.

    python -m bench.embedding_throughput                       # ViT-B-32, 128 images, batch 64
    python -m bench.embedding_throughput --num-workers 2 4 8 --n-images 2048   # on a GPU machine
    from bench.embedding_throughput import run                 # -> list of row dicts
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from PIL import Image

from fmri_rdm.embeddings.base import autocast
from fmri_rdm.embeddings.clip import ClipEmbedder


def _write_png(job: tuple[Path, int, int]) -> Path:
    path, side, seed = job
    small = np.random.default_rng(seed).integers(0, 256, (side // 8, side // 8, 3), np.uint8)
    Image.fromarray(small).resize((side, side), Image.Resampling.BICUBIC).save(path)
    return path


def write_pngs(folder: Path, n: int, side: int = 425) -> list[Path]:
    """n PNGs, side x side RGB: upsampled noise, ~300 kB each like NSD photos."""
    jobs = [(folder / f"img_{i:05d}.png", side, i) for i in range(n)]
    with multiprocessing.get_context("fork").Pool() as pool:
        return pool.map(_write_png, jobs, chunksize=16)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_forward(embedder: ClipEmbedder, n_images: int) -> float:
    """Images/s of encode_image on pre-made device tensors, same batch size."""
    model, _ = embedder.load()
    encode = cast(Callable[[torch.Tensor], torch.Tensor], model.encode_image)
    size = embedder.cache_key()["preprocess"]["size"]
    side = size if isinstance(size, int) else size[0]
    device, batch_size = embedder.device, embedder.batch_size
    batch = torch.randn(batch_size, 3, side, side, device=device)
    n_batches = max(1, n_images // batch_size)
    with torch.inference_mode(), autocast(device):
        _sync(device)
        start = time.perf_counter()
        for _ in range(n_batches):
            encode(batch).float().cpu()  # same device->host copy as the real loop
        _sync(device)
        return n_batches * batch_size / (time.perf_counter() - start)


def full_extraction(embedder: ClipEmbedder, paths: list[Path]) -> float:
    """Images/s of embedder.embed(paths), worker start-up included."""
    start = time.perf_counter()
    embedder.embed(paths)
    return len(paths) / (time.perf_counter() - start)


def measure(embedder: ClipEmbedder, paths: list[Path], repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` (bare, full) images/s, the two interleaved so that load from other
    processes hits both alike."""
    embedder.embed(paths[: embedder.batch_size])  # warm-up: model, kernels, allocator
    bare, full = 0.0, 0.0
    for _ in range(repeats):
        bare = max(bare, bare_forward(embedder, len(paths)))
        full = max(full, full_extraction(embedder, paths))
    return bare, full


def run(
    model: str = "ViT-B-32",
    n_images: int = 128,
    batch_size: int = 64,
    num_workers: tuple[int, ...] = (2,),
    device: str = "auto",
    repeats: int = 3,
) -> list[dict[str, Any]]:
    """One row per worker count: bare and full images/s and their ratio."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_pngs(Path(tmp), n_images)
        for workers in num_workers:
            embedder = ClipEmbedder(
                model, None, batch_size=batch_size, num_workers=workers, device=device
            )
            bare, full = measure(embedder, paths, repeats)
            rows.append(
                {
                    "model": model,
                    "device": str(embedder.device),
                    "precision": embedder.describe()["precision"],
                    "torch_threads": torch.get_num_threads(),
                    "batch_size": batch_size,
                    "num_workers": workers,
                    "n_images": n_images,
                    "bare_img_s": round(bare, 1),
                    "full_img_s": round(full, 1),
                    "ratio": round(full / bare, 3),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--n-images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-workers", type=int, nargs="+", default=[2])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = run(
        args.model,
        args.n_images,
        args.batch_size,
        tuple(args.num_workers),
        args.device,
        args.repeats,
    )
    print(
        f"{'model':<10} {'device':<7} {'batch':>5} {'workers':>7} {'bare img/s':>11} "
        f"{'full img/s':>11} {'full/bare':>9}"
    )
    for r in rows:
        print(
            f"{r['model']:<10} {r['device']:<7} {r['batch_size']:>5} {r['num_workers']:>7} "
            f"{r['bare_img_s']:>11.1f} {r['full_img_s']:>11.1f} {r['ratio']:>9.1%}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
