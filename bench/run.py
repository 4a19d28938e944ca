"""`make bench`: the project's hot paths against the seed's algorithms, in one table.

    python -m bench.run                 # default sizes (a few minutes on 2 cores)
    python -m bench.run --full          # + the full-subject RDM and one training epoch over
                                        #   all 48 M pairs for siamese and mlp (~10 more minutes)
    python -m bench.run --quick         # tiny sizes: checks the machinery, not the speed
    python -m bench.run --only pipeline # one synthetic subject end to end (bench/full_pipeline.py)

Prints one table (operation, size, project time, baseline time, ratio, GFLOP/s beside the
measured float32 GEMM GFLOP/s for the RDM, target, met) and writes the same rows to
`outputs/bench.json` (a list of objects with those fields).

Baselines (bench/baselines.py) are the seed's algorithms re-implemented plainly: scipy `pdist`,
per-image Python loops for extremes/balanced, the per-pixel colour loop, list-comprehension
image-disjoint folds, and a per-item Dataset + DataLoader at batch 32 for training. Each
baseline runs once on a size where it finishes in seconds; the ratio is baseline time /
project time on that same size, in the same process. Project times are the best of a few
repeats (the machine may be shared: `uptime` is printed with the table). Rows at the target
sizes (e.g. N = 10,000) have no baseline; their target is an absolute time or an efficiency.
The shared-cores row (bench/concurrent_training.py) is the exception: its "baseline" is the
same training alone, its project time two copies at once, and its ratio together / alone
(lower is better, 2.0 = the two copies share the cores perfectly); the row after it is the
same training alone with the project's settings against spinning threads (OMP_WAIT_POLICY=
ACTIVE, the fastest a run alone can be): ratio project / active, 1.0 = no cost.

RDM GFLOP/s counts the useful work, 2V flops per pair (N(N-1)/2 pairs), and the GEMM reference
is numpy's float32 matmul (4000 x 5000 @ 5000 x 4000) measured in the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import baselines

FIELDS = (
    "operation",
    "size",
    "project_s",
    "baseline_s",
    "ratio",
    "gflops",
    "gemm_gflops",
    "peak_mb",
    "target",
    "met",
)


@dataclass
class Row:
    """One table row; times in seconds, None where not applicable."""

    operation: str
    size: str
    project_s: float
    baseline_s: float | None = None
    ratio: float | None = None
    gflops: float | None = None
    gemm_gflops: float | None = None
    peak_mb: float | None = None
    target: str = ""
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 4 if value < 10 else 1)
        return out


@dataclass(frozen=True)
class Sizes:
    """Problem sizes; `default()` is what `make bench` runs, `quick()` is for the tests."""

    rdm_base: tuple[int, int] = (2000, 5000)  # N, V for the pdist ratio
    rdm_large: tuple[int, int] = (10_000, 5000)  # N, V for the GEMM efficiency
    gemm: tuple[int, int, int] = (4000, 5000, 4000)
    extremes_large: int = 10_000
    extremes_base: int = 2000
    n_per_image: int = 50
    folds_images: int = 9841
    folds_base: int = 800
    colors: tuple[int, int] = (256, 64)  # images, side (the colours pipeline loads 64x64)
    train_images: int = 2000
    train_pairs: int = 1_000_000
    train_dim: int = 512
    train_batch: int = 65536
    seed_batches: int = 300
    stats_images: int = 2000  # a 2000-image test fold: all its pairs, bootstrap + permutations
    stats_base: int = 100  # the fold on which the materialized bootstrap loop runs
    stats_resamples: int = 1000
    stats_slow: int = 100  # resamples / permutations timed for the O(B x pairs) rows
    concurrent_steps: int = 0  # 0: 3 epochs (528 steps); see bench/concurrent_training.py
    pipeline_images: int = 9841  # `--only pipeline`: bench/full_pipeline.py
    repeats: int = 3

    @staticmethod
    def quick() -> Sizes:
        return Sizes(
            rdm_base=(60, 40),
            rdm_large=(120, 50),
            gemm=(64, 64, 64),
            extremes_large=80,
            extremes_base=40,
            n_per_image=3,
            folds_images=60,
            folds_base=30,
            colors=(2, 8),
            train_images=40,
            train_pairs=600,
            train_dim=16,
            train_batch=256,
            seed_batches=3,
            stats_images=30,
            stats_base=12,
            stats_resamples=20,
            stats_slow=5,
            concurrent_steps=3,
            pipeline_images=40,
            repeats=1,
        )


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of `repeats` calls, in seconds."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _ratio(base: float, project: float) -> float:
    return base / project if project > 0 else float("inf")


def gemm_gflops(shape: tuple[int, int, int], repeats: int, seed: int = 0) -> float:
    """numpy float32 matmul throughput (m x k @ k x n), best of `repeats`, in GFLOP/s."""
    m, k, n = shape
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = a @ b  # warm-up: threads, page faults
    return 2.0 * m * k * n / best_of(lambda: np.matmul(a, b, out=out), repeats) / 1e9


def bench_rdm(sizes: Sizes, gemm: float) -> list[Row]:
    from fmri_rdm.rsa.rdm import compute_rdm

    rng = np.random.default_rng(0)
    rows = []
    n, v = sizes.rdm_base
    x = rng.standard_normal((n, v), dtype=np.float32)
    compute_rdm(x[: min(n, 64)])  # warm-up
    project = best_of(lambda: compute_rdm(x), sizes.repeats)
    base = best_of(lambda: baselines.rdm_pdist(x), 1)
    ratio = _ratio(base, project)
    rows.append(
        Row(
            "RDM correlation vs scipy pdist",
            f"N={n} V={v}",
            project,
            base,
            ratio,
            gflops=n * (n - 1) * v / project / 1e9,
            gemm_gflops=gemm,
            target=">= 10x",
            met=ratio >= 10,
        )
    )
    n, v = sizes.rdm_large
    x = rng.standard_normal((n, v), dtype=np.float32)
    # RDM and GEMM alternately, best of each: a load change on a shared machine hits both.
    project = float("inf")
    for _ in range(max(1, sizes.repeats - 1)):
        project = min(project, best_of(lambda: compute_rdm(x), 1))
        gemm = max(gemm, gemm_gflops(sizes.gemm, 1))
    gflops = n * (n - 1) * v / project / 1e9
    rows.append(
        Row(
            "RDM correlation, GEMM efficiency",
            f"N={n} V={v}",
            project,
            gflops=gflops,
            gemm_gflops=gemm,
            target=">= 60% of GEMM",
            met=gflops >= 0.6 * gemm,
        )
    )
    return rows


def _random_rdm(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0, n * (n - 1) // 2).astype(np.float32)


def bench_extremes(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.pairs import balanced_pairs, extremes_pairs

    k = sizes.n_per_image
    funcs: list[tuple[str, Callable[[np.ndarray, int], object], Callable[..., object]]] = [
        ("extremes pairs", lambda r, n: extremes_pairs(r, n, k), baselines.extremes_loop),
        (
            "balanced pairs",
            lambda r, n: balanced_pairs(r, n, "correlation", k, seed=0),
            baselines.balanced_loop,
        ),
    ]
    rows = []
    big, small = sizes.extremes_large, sizes.extremes_base
    rdm_big, rdm_small = _random_rdm(big), _random_rdm(small, seed=1)
    for name, project_fn, base_fn in funcs:
        project = best_of(lambda f=project_fn: f(rdm_big, big), sizes.repeats)
        rows.append(Row(name, f"N={big} k={k}", project, target="< 2 s", met=project < 2.0))
        project = best_of(lambda f=project_fn: f(rdm_small, small), sizes.repeats)
        base = best_of(lambda f=base_fn: f(rdm_small, small, k), 1)
        ratio = _ratio(base, project)
        rows.append(
            Row(
                f"{name} vs per-image loop",
                f"N={small} k={k}",
                project,
                base,
                ratio,
                target=">= 100x",
                met=ratio >= 100,
            )
        )
    return rows


def _traced_peak_mb(fn: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak MB of numpy/Python allocations during fn) via tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak / 2**20


def bench_folds(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.pairs import all_pairs
    from fmri_rdm.rsa.splits import image_disjoint_folds, split_pairs

    def folds(n: int, i: np.ndarray, j: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return [split_pairs(i, j, tr, te, n) for tr, te in image_disjoint_folds(n, 5, seed=0)]

    n = sizes.folds_images
    i, j = all_pairs(n)
    project = best_of(lambda: folds(n, i, j), sizes.repeats)
    _, peak = _traced_peak_mb(lambda: folds(n, *all_pairs(n)))
    rows = [
        Row(
            "image-disjoint 5 folds (all pairs + masks)",
            f"{n} images, {len(i):,} pairs",
            project,
            peak_mb=peak,
            target="< 2 s, < 2 GB",
            met=project < 2.0 and peak < 2048,
        )
    ]
    n = sizes.folds_base
    i, j = all_pairs(n)
    project = best_of(lambda: folds(n, i, j), sizes.repeats)
    split = image_disjoint_folds(n, 5, seed=0)
    base = best_of(lambda: baselines.folds_list_comprehension(i, j, split), 1)
    rows.append(
        Row(
            "image-disjoint 5 folds vs list comprehension",
            f"{n} images, {len(i):,} pairs",
            project,
            base,
            _ratio(base, project),
        )
    )
    return rows


def bench_colors(sizes: Sizes) -> list[Row]:
    from fmri_rdm.data.images import dominant_colors

    count, side = sizes.colors
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, side, side, 3), dtype=np.uint8)
    images[::2, : side // 2] = (230, 20, 30)  # some images with a dominant colour
    dominant_colors(images[:1])
    project = best_of(lambda: dominant_colors(images), max(5, sizes.repeats))
    base = best_of(lambda: baselines.dominant_colors_loop(images), 1)
    ratio = _ratio(base, project)
    return [
        Row(
            "colour classification vs per-pixel loop",
            f"{count} x {side}x{side} RGB",
            project,
            base,
            ratio,
            target=">= 1000x",
            met=ratio >= 1000,
        )
    ]


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
    from fmri_rdm.models.datamodule import PairDataModule
    from fmri_rdm.models.module import PairRegressionModule
    from fmri_rdm.models.siamese import SiameseNet

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


def bench_statistics(sizes: Sizes) -> list[Row]:
    from bench.statistics_rows import rows

    found = rows(sizes.stats_images, sizes.stats_base, sizes.stats_resamples, sizes.stats_slow)
    return [Row(**r) for r in found]


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


def bench_pipeline(sizes: Sizes) -> list[Row]:
    """One synthetic subject end to end (bench/full_pipeline.py), roi=all and roi=V1v."""
    from bench.full_pipeline import FULL_EPOCHS, measure

    epochs = FULL_EPOCHS if sizes.pipeline_images > 1000 else 1
    rows = []
    for roi in ("all", "V1v"):
        res = measure(roi, sizes.pipeline_images, epochs, [])
        rows.append(
            Row(
                f"full pipeline: siamese, 5 folds x {epochs} epochs, stats, roi={roi}",
                f"{res['n_images']} images, {res['n_voxels']} voxels",
                res["stages"]["total"],
                peak_mb=res["peak_rss_mb"],
                target="< 180 s on one H200",
            )
        )
    return rows


def _child_json(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a `python -m ...` child; the last JSON line of its stdout."""
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def full_rdm_child(n: int, v: int) -> None:
    """Child process: time compute_rdm on synthetic (n, v) float32, print JSON with peak RSS."""
    from fmri_rdm.rsa.rdm import compute_rdm

    x = np.random.default_rng(0).standard_normal((n, v), dtype=np.float32)
    start = time.perf_counter()
    compute_rdm(x)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "input_mb": x.nbytes / 2**20}))


def bench_full(threads: int | None) -> list[Row]:
    n, v = 9841, 39_548
    res = _child_json(["-m", "bench.run", "--child-rdm", f"{n},{v}"], timeout=900)
    rows = [
        Row(
            "RDM correlation, full subject (peak RSS incl. 1.5 GB input)",
            f"N={n} V={v}",
            res["seconds"],
            gflops=n * (n - 1) * v / res["seconds"] / 1e9,
            peak_mb=res["peak_mb"],
            target="< 60 s, < 4 GB",
            met=res["seconds"] < 60 and res["peak_mb"] < 4096,
        )
    ]
    for model in ("siamese", "mlp"):
        args = ["-m", "bench.full_scale_epoch", "--accelerator", "cpu", "--models", model]
        args += ["--precision", "bf16-mixed", "--batch-size", "65536"]
        if threads:
            args += ["--threads", str(threads)]
        res = _child_json(args, timeout=1800)
        rows.append(
            Row(
                f"training epoch, {model}, bf16-mixed batch 65536, CPU",
                f"{res['pairs']:,} pairs (9841 images)",
                res["seconds"],
                peak_mb=res["peak_rss_mb"],
                target="< 300 s, < 8 GB",
                met=res["seconds"] < 300 and res["peak_rss_mb"] < 8192,
            )
        )
    return rows


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "s":
        return f"{value:.3g}" if value < 100 else f"{value:.0f}"
    if kind == "x":
        return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x"
    if kind == "met":
        return "yes" if value else "NO"
    return f"{value:.0f}"


def format_table(rows: list[Row]) -> str:
    """Plain-text table of the rows."""
    head = (
        f"{'operation':<66} {'size':<30} {'project s':>9} {'baseline s':>10} {'ratio':>7} "
        f"{'GFLOP/s':>7} {'GEMM':>6} {'peak MB':>7}  {'target':<16} met"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.operation:<66} {r.size:<30} {_fmt(r.project_s, 's'):>9} "
            f"{_fmt(r.baseline_s, 's'):>10} {_fmt(r.ratio, 'x'):>7} {_fmt(r.gflops, 'f'):>7} "
            f"{_fmt(r.gemm_gflops, 'f'):>6} {_fmt(r.peak_mb, 'f'):>7}  {r.target:<16} "
            f"{_fmt(r.met, 'met')}"
        )
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """Machine facts printed above the table (BLAS kernel, threads, load)."""
    import threadpoolctl
    import torch

    blas = [
        f"{p.get('internal_api')} {p.get('architecture')} x{p.get('num_threads')}"
        for p in threadpoolctl.threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return {
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "numpy_blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "torch_threads": torch.get_num_threads(),
    }


def run(
    sizes: Sizes,
    full: bool = False,
    only: tuple[str, ...] = (),
    threads: int | None = None,
) -> list[Row]:
    """All benchmark rows (or those whose group is in `only`)."""
    groups = ("rdm", "extremes", "folds", "colors", "training", "stats", "concurrent")
    chosen = [g for g in groups if not only or g in only]
    rows: list[Row] = []
    if "rdm" in chosen:
        rows += bench_rdm(sizes, gemm_gflops(sizes.gemm, sizes.repeats))
    if "extremes" in chosen:
        rows += bench_extremes(sizes)
    if "folds" in chosen:
        rows += bench_folds(sizes)
    if "colors" in chosen:
        rows += bench_colors(sizes)
    if "training" in chosen:
        rows += bench_training(sizes)
    if "stats" in chosen:
        rows += bench_statistics(sizes)
    if "concurrent" in chosen:
        rows += bench_concurrent(sizes)
    if full:
        rows += bench_full(threads)
    if "pipeline" in only:  # opt-in (`--only pipeline`): the whole run, hours on CPU
        rows += bench_pipeline(sizes)
    return rows


def write_json(rows: list[Row], path: Path) -> None:
    """The rows as a JSON list of objects with the FIELDS keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the full-scale rows")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (machinery check)")
    parser.add_argument("--only", default="", help="comma-separated groups: rdm,extremes,...")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (full epoch)")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench.json"))
    parser.add_argument("--child-rdm", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_rdm:
        n, v = (int(x) for x in args.child_rdm.split(","))
        full_rdm_child(n, v)
        return
    sizes = Sizes.quick() if args.quick else Sizes()
    only = tuple(g for g in args.only.split(",") if g)
    print(json.dumps(environment()), flush=True)
    rows = run(sizes, full=args.full, only=only, threads=args.threads)
    print(format_table(rows))
    write_json(rows, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
