"""Time and memory of one training step of the blocks plan (`model.plan=blocks`).

    python -m bench.block_step --images 7900                       # full scale, GPU if any
    python -m bench.block_step --images 2000 --device cpu --voxels 0

One step = the tower once over a block of N images, the (N, N) distances of the metric head
(one GEMM), the loss over the block's pairs (the upper triangle, a random tenth masked out as
`distribution` would), backward and an Adam step; with --voxels V > 0 the read-out (its PC
space, N x min(N, 512) scores) and its distances between predicted patterns, as the default
siamese. Embeddings and targets are random; the code path is the project's
(PairRegressionModule + models.block_step). Prints one JSON line: seconds per step (median of
--repeats after one warm-up step), peak memory (CUDA's max_memory_allocated, or on CPU the
growth of the process's peak RSS during the steps) and N.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import numpy as np
import torch

from fmri_rdm.models.pair_network.block_step import block_loss
from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet


def block_targets(n: int, seed: int = 0) -> torch.Tensor:
    """(n, n) float32 targets on the upper triangle (10 % NaN: pairs left out), NaN elsewhere."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.rand(n, n, generator=gen) * 0.4 + 0.8
    drop = torch.rand(n, n, generator=gen) < 0.1
    y[drop] = float("nan")
    lower = torch.ones(n, n, dtype=torch.bool).tril()
    return y.masked_fill_(lower, float("nan"))


def peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=7900)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--voxels", type=int, default=2000)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metric", default="correlation")
    args = parser.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    n = args.images
    rng = np.random.default_rng(0)
    table = torch.from_numpy(rng.standard_normal((n, args.dim)).astype(np.float32))
    net = SiameseNet(
        args.dim,
        tower=(256, 128),
        dropout=0.2,
        input_dropout=0.2,
        activation="gelu",
        head="metric",
        metric=args.metric,
    )
    rw = 1.0 if args.voxels else 0.0
    module = PairRegressionModule(
        net, target_mean=1.0, target_std=0.1, response_weight=rw, n_voxels=max(1, args.voxels)
    )
    if rw:
        resp = rng.standard_normal((n, args.voxels)).astype(np.float32)
        module.set_responses(n, np.arange(n), resp, args.metric)
    module = module.to(device)
    module.set_table(table)
    module.train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    rows = torch.arange(n, device=device)
    y_host = block_targets(n)

    def step() -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        y = y_host.to(device, non_blocking=False)  # the block's targets travel every step
        loss, _ = block_loss(module, rows, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    module.log = lambda *a, **k: None  # type: ignore[method-assign]  # no trainer here
    base_rss = peak_rss_bytes()  # the CPU peak is reached in the warm-up step already
    step()  # warm-up
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = [step() for _ in range(args.repeats)]
    if device == "cuda":
        peak = int(torch.cuda.max_memory_allocated())
    else:
        peak = peak_rss_bytes() - base_rss
    result = {
        "bench": "block_step",
        "device": device,
        "images": n,
        "pairs": int((~torch.isnan(y_host)).sum()),
        "voxels": args.voxels,
        "seconds_per_step": statistics.median(times),
        "peak_memory_bytes": peak,
        "peak_memory_gib": round(peak / 2**30, 3),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
