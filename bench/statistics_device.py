"""One full-scale fold's statistics: the linear resample blocks (`stats/rank_resamples.py`,
`stats/permutation.py`: compiled kernels on the CPU, torch elsewhere) against the
per-resample numpy reference (`bench/statistics_reference.py`, what the project ran before
issue 40), in one process.

    python -m bench.statistics_device --device cpu     # compiled kernels on the CPU
    python -m bench.statistics_device --device cuda    # torch blocks on the GPU
    python -m bench.statistics_device --images 600 --test 120 --device torch-cpu   # small

A fold's statistics are 1,000 bootstrap resamples (Pearson, R², MSE by one GEMM, the same code
in both paths; Spearman by resample blocks) and 1,000 permutations (Pearson and Spearman nulls).
The reference runs its sorts once and `--ref-resamples` resamples and permutations (its loops
cost the same per resample, so its full fold is setup + that cost x 1,000); the new path runs
the full fold. Their first resamples are compared (max |difference|). Prints one JSON line with
the load average, since the machine may be shared, and CPU seconds beside wall seconds (CPU
seconds leave out the time other processes held the cores; they leave out the moment GEMM,
the same code in both, and count every thread of the new path).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from scipy.stats import rankdata

from bench import statistics_reference as ref
from fmri_rdm.rsa.rdm import compute_rdm, rdm_values
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats import permutation as perm
from fmri_rdm.stats import rank_resamples


def _fold(n_images: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    responses = rng.standard_normal((n_images, 64)).astype(np.float32)
    rdm = compute_rdm(responses, "correlation")
    test = np.sort(rng.choice(n_images, n_test, replace=False))
    a, b = np.triu_indices(n_test, 1)
    target = rdm_values(rdm, test[a], test[b], n_images).astype(np.float64)
    return rdm, test, a, b, target, target + rng.standard_normal(target.size)


CPU_SECONDS = [0.0]  # process CPU seconds of the timed calls of the new path (all threads)


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    CPU_SECONDS[0] = time.process_time() - cpu
    return out, time.perf_counter() - start


def _reference(square, a, b, target, prediction, counts, perms):  # type: ignore[no-untyped-def]
    """(rho (k,), nulls {stat: (k,)}, setup s, per-resample s, per-permutation s)."""
    start = time.perf_counter()
    setup = ref.SpearmanSetup(a, b, target, prediction)
    ranks, rank_x = ref.rank_table(square), rankdata(prediction)
    setup_s = time.perf_counter() - start
    c32 = counts.astype(np.int32)
    rho, rho_s = _timed(lambda: np.array([ref.spearman_resample(setup, c)[0] for c in c32]))
    null_p, p_s = _timed(ref.pearson_null, square, a, b, prediction, perms)
    null_s, s_s = _timed(ref.pearson_null, ranks, a, b, rank_x, perms)
    k = len(counts)
    nulls = {"pearson": null_p, "spearman": null_s}
    return rho, nulls, setup_s, rho_s / k, (p_s + s_s) / k


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9841)
    parser.add_argument("--test", type=int, default=1968, help="test images of the fold")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--ref-resamples", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu (numpy), torch-cpu, cuda")
    args = parser.parse_args(argv)
    rdm, test, a, b, target, prediction = _fold(args.images, args.test)
    rng = np.random.default_rng(1)
    counts = boot.resample_counts(rng, args.test, args.resamples)
    perms = perm.permutations(rng, args.test, args.resamples)
    square = perm.square_rdm_among(rdm, args.images, test)
    load = os.getloadavg()[0]
    _, moments_s = _timed(boot.moment_scores, counts, a, b, target, prediction)
    k = args.ref_resamples
    ref_cpu = time.process_time()
    ref_rho, ref_null, setup_s, per_resample, per_perm = _reference(
        square, a, b, target, prediction, counts[:k], perms[:k]
    )
    ref_cpu = time.process_time() - ref_cpu  # setup + k resamples + k permutations
    rho, rho_s = _timed(
        rank_resamples.weighted_spearman, counts, a, b, target, prediction, args.device
    )
    rho_cpu = CPU_SECONDS[0]
    null, null_s = _timed(
        perm.permutation_null, square, a, b, prediction, perms, perm.STATISTICS, args.device
    )
    new_cpu = rho_cpu + CPU_SECONDS[0]
    ref_full = moments_s + setup_s + (per_resample + per_perm) * args.resamples
    # CPU seconds (other processes on the cores do not count): the reference's per-resample
    # share of its measured CPU time, extrapolated like its wall time
    loop_share = (per_resample + per_perm) * k / max(setup_s + (per_resample + per_perm) * k, 1e-9)
    ref_cpu_full = ref_cpu * (1 - loop_share) + ref_cpu * loop_share * args.resamples / k
    new_full = moments_s + rho_s + null_s
    diff = max(
        float(np.nanmax(np.abs(rho[0, :k] - ref_rho))),
        *(float(np.nanmax(np.abs(null[s][:k] - ref_null[s]))) for s in perm.STATISTICS),
    )
    row = {
        "test_images": args.test,
        "pairs": int(a.size),
        "resamples": args.resamples,
        "device": args.device,
        "load_average_1min": round(load, 2),
        "moments_gemm_s": round(moments_s, 3),
        "reference_setup_s": round(setup_s, 2),
        "reference_spearman_s_per_resample": round(per_resample, 4),
        "reference_null_s_per_permutation": round(per_perm, 4),
        "reference_fold_s_extrapolated": round(ref_full, 1),
        "new_spearman_s": round(rho_s, 2),
        "new_null_s": round(null_s, 2),
        "new_fold_s": round(new_full, 2),
        "speedup": round(ref_full / new_full, 1),
        "threads": rank_resamples.backend_for(args.device).__dict__.get("workers", 1),
        "reference_fold_cpu_s_extrapolated": round(ref_cpu_full, 1),
        "new_cpu_s": round(new_cpu, 2),
        "speedup_cpu_time": round(ref_cpu_full / new_cpu, 1),
        "max_abs_difference": diff,
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
