"""`make bench`: the project's hot paths against the original student project's algorithms,
in one table.

    python -m bench.run                 # default sizes (a few minutes on 2 cores)
    python -m bench.run --full          # + the full-subject RDM and one training epoch over
                                        #   all 48 M pairs for siamese and mlp (~10 more minutes)
    python -m bench.run --quick         # tiny sizes: checks the machinery, not the speed
    python -m bench.run --only pipeline # one synthetic subject end to end (bench/full_pipeline.py)

Prints one table (operation, size, project time, baseline time, ratio, GFLOP/s beside the
measured float32 GEMM GFLOP/s for the RDM, target, met) and writes the same rows to
`outputs/bench.json` (a list of objects with those fields).

Baselines (bench/baselines.py) are the original student project's algorithms re-implemented
plainly: scipy `pdist`, per-image Python loops for extremes/balanced, the per-pixel colour
loop, list-comprehension image-disjoint folds, and a per-item Dataset + DataLoader at batch 32
for training. Each baseline runs once on a size where it finishes in seconds; the ratio is
baseline time / project time on that same size, in the same process. Project times are the
best of a few repeats (the machine may be shared: `uptime` is printed with the table). Rows at
the target sizes (e.g. N = 10,000) have no baseline; their target is an absolute time or an
efficiency.
The shared-cores row (bench/concurrent_training.py) is the exception: its "baseline" is the
same training alone, its project time two copies at once, and its ratio together / alone
(lower is better, 2.0 = the two copies share the cores perfectly); the row after it is the
same training alone with the project's settings against spinning threads (OMP_WAIT_POLICY=
ACTIVE, the fastest a run alone can be): ratio project / active, 1.0 = no cost.

The rows come from bench/numeric_rows.py, training_rows.py, statistics_rows.py,
time_rows.py (RDMs over time, the cluster test against MNE),
svm_ridge.py (the SVM and the ridge encoding fit against their exact solvers; its own CLI gives
the tables of docs/measurements/svm_ridge.md) and full_scale_rows.py, registered by group in
GROUPS below; bench/table.py holds Row, Sizes and the table.

RDM GFLOP/s counts the useful work, 2V flops per pair (N(N-1)/2 pairs), and the GEMM reference
is numpy's float32 matmul (4000 x 5000 @ 5000 x 4000) measured in the same process.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.table import FIELDS, Row, Sizes, format_table, write_json

# The benchmark groups in table order: `--only` name -> "module:function", a function of Sizes
# that returns its rows. A new benchmark is one line here. FULL_GROUPS run only with --full.
GROUPS: dict[str, str] = {
    "rdm": "bench.numeric_rows:bench_rdm",
    "extremes": "bench.numeric_rows:bench_extremes",
    "folds": "bench.numeric_rows:bench_folds",
    "colors": "bench.numeric_rows:bench_colors",
    "training": "bench.training_rows:bench_training",
    "stats": "bench.statistics_rows:bench_statistics",
    "concurrent": "bench.training_rows:bench_concurrent",
    "svm_ridge": "bench.svm_ridge:bench_svm_ridge",
    "partition": "bench.candidate_rows:bench_partition",
    "time": "bench.time_rows:bench_time",
}
FULL_GROUPS: dict[str, str] = {
    "full": "bench.full_scale_rows:bench_full",
}
# run only when named in --only (the whole pipeline takes hours on a CPU)
OPT_IN_GROUPS: dict[str, str] = {
    "pipeline": "bench.pipeline_rows:bench_pipeline",
    "crossnobis": "bench.crossnobis_rows:bench_crossnobis",  # minutes: rsatoolbox's baseline
}

__all__ = [
    "FIELDS",
    "FULL_GROUPS",
    "GROUPS",
    "OPT_IN_GROUPS",
    "Row",
    "Sizes",
    "bench_rows",
    "format_table",
    "main",
    "run",
    "write_json",
]


def bench_rows(entry: str) -> Callable[[Sizes], list[Row]]:
    """The rows function a registry entry ("module:function") names (imported only when run)."""
    module, _, name = entry.partition(":")
    rows: Callable[[Sizes], list[Row]] = getattr(importlib.import_module(module), name)
    return rows


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
    """All benchmark rows of GROUPS (or of those named in `only`), then FULL_GROUPS if `full`."""
    if threads is not None:
        sizes = dataclasses.replace(sizes, threads=threads)
    chosen = [entry for name, entry in GROUPS.items() if not only or name in only]
    chosen += [entry for name, entry in OPT_IN_GROUPS.items() if name in only]
    if full:
        chosen += FULL_GROUPS.values()
    rows: list[Row] = []
    for entry in chosen:
        rows += bench_rows(entry)(sizes)
    return rows


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
        from bench.full_scale_rows import full_rdm_child

        n, v = (int(x) for x in args.child_rdm.split(","))
        full_rdm_child(n, v)
        return
    sizes = Sizes.quick() if args.quick else Sizes()
    only = tuple(g for g in args.only.split(",") if g)
    known = [*GROUPS, *OPT_IN_GROUPS]
    unknown = sorted(set(only) - set(known))
    if unknown:
        parser.error(f"unknown --only group(s) {', '.join(unknown)}: use {', '.join(known)}")
    print(json.dumps(environment()), flush=True)
    rows = run(sizes, full=args.full, only=only, threads=args.threads)
    print(format_table(rows))
    write_json(rows, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
