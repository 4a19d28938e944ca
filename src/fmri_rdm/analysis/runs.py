"""Run directories as `compare` sees them: found under any paths, with their overrides.

A run is any directory holding `metrics.json` (read through `reporting.results`); its
command-line overrides come from `.hydra/overrides.yaml`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fmri_rdm.errors import DataError
from fmri_rdm.reporting.results import METRICS_FILE, FailedRun, RunMetrics, read_metrics

OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"


@dataclass
class Run:
    """One run directory: its overrides, its results (`RunMetrics`, or `FailedRun`) and the raw
    metrics.json dict (None when the run failed)."""

    dir: Path
    result: RunMetrics | FailedRun
    metrics: dict[str, Any] | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def status(self) -> str:
        return "ok" if self.ok else "failed"

    @property
    def error(self) -> str | None:
        return self.result.error if isinstance(self.result, FailedRun) else None

    @property
    def model(self) -> str | None:
        return self.result.model

    @property
    def name(self) -> str | None:
        """The run's short name (`name=<label>`), None when it has none."""
        value = self.overrides.get("name")
        return value if value not in (None, "", "null") else None


def _natural_key(path: Path) -> list[Any]:
    """Sort key that puts job 2 before job 10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def _run_dirs(path: Path) -> list[Path]:
    if path.is_file():
        return [path.parent] if path.name == METRICS_FILE else []
    if (path / METRICS_FILE).is_file():
        return [path]
    return sorted((p.parent for p in path.rglob(METRICS_FILE) if p.is_file()), key=_natural_key)


def _overrides(run_dir: Path) -> dict[str, str]:
    """`.hydra/overrides.yaml` as {key: value}; `+key`/`++key` count as `key`, `~key` as deleted."""
    try:
        items = yaml.safe_load((run_dir / OVERRIDES_FILE).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    result: dict[str, str] = {}
    for text in map(str, items or []):
        key, sep, value = text.partition("=")
        result[key.lstrip("+~")] = value if sep else "<deleted>"
    return result


def load_runs(paths: Iterable[str | os.PathLike[str]]) -> list[Run]:
    """Every run directory (one holding metrics.json) at or under `paths`, in natural order,
    labelled relative to their common parent. DataError when a path is missing or holds none."""
    given = [Path(p) for p in paths]
    if not given:
        raise DataError("no run or sweep directory given")
    missing = [str(p) for p in given if not p.exists()]
    if missing:
        raise DataError(f"no such file or directory: {', '.join(missing)}")
    found: dict[Path, Path] = {}  # resolved -> as given; a run named twice counts once
    for path in given:
        for run_dir in _run_dirs(path):
            found.setdefault(run_dir.resolve(), run_dir)
    dirs = list(found.values())
    if not dirs:
        raise DataError(
            f"no run directories with {METRICS_FILE} found under "
            f"{', '.join(map(str, given))} (searched recursively); pass a sweep directory "
            "(multirun/<date>/<time>) or run directories"
        )
    resolved = list(found)
    common = Path(os.path.commonpath(resolved)) if len(dirs) > 1 else resolved[0].parent
    runs = []
    for run_dir, full in zip(dirs, resolved, strict=True):
        result, raw = read_metrics(run_dir)
        label = full.relative_to(common).as_posix() or str(full)
        runs.append(Run(run_dir, result, raw, _overrides(run_dir), label))
    return runs


# Overrides that steer how a run is executed or where it writes, never what it measures: two
# runs that differ only in these are the same experiment (e.g. a sweep re-run with
# skip_completed=true to fill in failed jobs), so they never tell runs apart.
EXECUTION_KEYS = frozenset(
    {"skip_completed", "ckpt_path", "verbose", "threads", "logger", "task_name"}
)
EXECUTION_PREFIXES = ("hydra.", "hydra/", "paths.", "logger.", "trainer.enable_progress_bar")


def is_execution_key(key: str) -> bool:
    """Whether an override only changes how a run executes (`EXECUTION_KEYS`)."""
    return key in EXECUTION_KEYS or key.startswith(EXECUTION_PREFIXES)


def differing_overrides(runs: Sequence[Run]) -> list[str]:
    """Override keys whose value is not the same in every run (absent counts as a value);
    keys that only change how a run executes (`is_execution_key`) never count."""
    every = dict.fromkeys(k for run in runs for k in run.overrides)
    keys = [k for k in every if not is_execution_key(k)]
    return [k for k in keys if len({run.overrides.get(k) for run in runs}) > 1]
