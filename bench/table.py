"""The bench table's machinery: one `Row` per measurement, the problem `Sizes`, timing helpers,
and the printed table / bench.json writers (`bench.run` puts them together)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    time_rdm: tuple[int, int, int] = (92, 306, 1100)  # stimuli, sensors, samples (1 ms)
    time_clusters: tuple[int, int, int] = (15, 1100, 1000)  # subjects, times, permutations
    repeats: int = 3
    threads: int | None = None  # torch threads of the full-scale training children

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
            time_rdm=(8, 5, 30),
            time_clusters=(6, 40, 50),
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


def ratio_of(base: float, project: float) -> float:
    return base / project if project > 0 else float("inf")


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


def write_json(rows: list[Row], path: Path) -> None:
    """The rows as a JSON list of objects with the FIELDS keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
