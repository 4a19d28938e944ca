"""One full-scale fold's statistics, numpy on the CPU against torch on a device, in one process.

    python -m bench.statistics_device                      # full scale: 9841 images, a fold
                                                           # of 1968 test images (1.9 M pairs)
    python -m bench.statistics_device --images 600 --test 120 --device cpu   # small, CPU torch

A fold's statistics are 1,000 bootstrap resamples (Pearson, R², MSE by one GEMM; Spearman by a
loop over resamples) and 1,000 permutations (Pearson and Spearman nulls, a loop over
permutations). numpy runs `--cpu-resamples` of each (the loops cost the same per resample, so
its full-fold time is extrapolated linearly; the GEMM part is measured at the full count); the
torch path runs the full fold. The first resamples of both are compared (max |difference|).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from fmri_rdm.rsa.rdm import compute_rdm, rdm_values
from fmri_rdm.stats import accelerated
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats import permutation as perm


def _fold(n_images: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    responses = rng.standard_normal((n_images, 64)).astype(np.float32)
    rdm = compute_rdm(responses, "correlation")
    test = np.sort(rng.choice(n_images, n_test, replace=False))
    a, b = np.triu_indices(n_test, 1)
    target = rdm_values(rdm, test[a], test[b], n_images).astype(np.float64)
    return rdm, test, a, b, target, target + rng.standard_normal(target.size)


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9841)
    parser.add_argument("--test", type=int, default=1968, help="test images of the fold")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--cpu-resamples", type=int, default=8)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    import torch

    rdm, test, a, b, target, prediction = _fold(args.images, args.test)
    rng = np.random.default_rng(1)
    counts = boot.resample_counts(rng, args.test, args.resamples)
    perms = perm.permutations(rng, args.test, args.resamples)
    square = perm.square_rdm_among(rdm, args.images, test)
    k = args.cpu_resamples
    _, moments_s = _timed(boot.moment_scores, counts, a, b, target, prediction)
    cpu_rho, cpu_rho_s = _timed(boot.weighted_spearman, counts[:k], a, b, target, prediction)
    cpu_null, cpu_null_s = _timed(perm.permutation_null, square, a, b, prediction, perms[:k])
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    dev_rho, dev_rho_s = _timed(
        accelerated.weighted_spearman, counts, a, b, target, prediction, args.device
    )
    dev_null, dev_null_s = _timed(
        accelerated.permutation_null, square, a, b, prediction, perms, perm.STATISTICS, args.device
    )
    scale = args.resamples / k
    cpu_full = moments_s + (cpu_rho_s + cpu_null_s) * scale
    device_full = moments_s + dev_rho_s + dev_null_s
    diff = max(
        float(np.nanmax(np.abs(dev_rho[:, :k] - cpu_rho))),
        *(float(np.nanmax(np.abs(dev_null[s][:k] - cpu_null[s]))) for s in perm.STATISTICS),
    )
    peak = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None
    print(
        json.dumps(
            {
                "test_images": args.test,
                "pairs": int(a.size),
                "resamples": args.resamples,
                "device": args.device,
                "moments_gemm_s": round(moments_s, 3),
                "numpy_spearman_s_per_resample": round(cpu_rho_s / k, 4),
                "numpy_null_s_per_permutation": round(cpu_null_s / k, 4),
                "numpy_fold_s_extrapolated": round(cpu_full, 1),
                "torch_spearman_s": round(dev_rho_s, 3),
                "torch_null_s": round(dev_null_s, 3),
                "torch_fold_s": round(device_full, 2),
                "speedup": round(cpu_full / device_full, 1),
                "max_abs_difference": diff,
                "peak_gpu_mb": None if peak is None else round(peak),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
