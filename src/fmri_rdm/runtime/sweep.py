"""The multirun a job belongs to, as Hydra records it: its directory, this job's number, the
sweep's command-line overrides (the sweep directory's `multirun.yaml`, written by Hydra's basic
sweeper before any job starts, whatever the launcher) and how many jobs it has.

Read by the progress lines (jobs done / total) and by the layer sweep (the values of
`embeddings.module_name` that the other jobs will ask for).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MULTIRUN_FILE = "multirun.yaml"


@dataclass(frozen=True)
class Sweep:
    """dir: the sweep directory; job: this job's number (0-based); n_jobs: the sweep's size
    (None when it cannot be told); overrides: the sweep's command-line overrides."""

    dir: Path
    job: int
    n_jobs: int | None
    overrides: tuple[str, ...]


def sweep_overrides(sweep_dir: Path) -> list[str] | None:
    """The command-line overrides of the sweep in `sweep_dir` (its multirun.yaml), or None."""
    from omegaconf import OmegaConf

    try:
        task = OmegaConf.select(
            OmegaConf.load(Path(sweep_dir) / MULTIRUN_FILE), "hydra.overrides.task"
        )
    except Exception:  # no multirun.yaml (another sweeper) or unreadable: nothing to read
        return None
    return None if task is None else [str(o) for o in task]


def swept_values(overrides: Sequence[str], key: str) -> list[str] | None:
    """The values a sweep gives `key` (`key=a,b,c` -> ['a', 'b', 'c']; `key=a` -> ['a']),
    as Hydra's own override parser reads them; None when the sweep does not set `key`."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides([str(o) for o in overrides])
    except Exception:  # not Hydra overrides: nothing can be told
        return None
    for override in parsed:
        if override.get_key_element() != key:
            continue
        if override.is_sweep_override():
            try:
                return [str(v) for v in override.sweep_string_iterator()]
            except Exception:  # range / glob sweeps: not a plain list of strings
                return None
        return [str(override.value())]
    return None


def current_sweep() -> Sweep | None:
    """The sweep of the running Hydra job; None outside a multirun (or outside Hydra)."""
    from hydra.core.hydra_config import HydraConfig

    from fmri_rdm.runtime.parallel import count_sweep_jobs

    try:
        hydra: Any = HydraConfig.get()
    except ValueError:
        return None
    if hydra.mode is None or hydra.mode.name != "MULTIRUN":
        return None
    sweep_dir = Path(str(hydra.sweep.dir))
    overrides = sweep_overrides(sweep_dir)
    n_jobs = count_sweep_jobs(overrides) if overrides is not None else None
    n_trials = hydra.get("sweeper", {}).get("n_trials")  # Optuna: the trials are the jobs
    if overrides is None and n_trials is not None:
        n_jobs = int(n_trials)
    return Sweep(sweep_dir, int(hydra.job.num), n_jobs, tuple(overrides or ()))


def finished_jobs(sweep_dir: Path) -> int:
    """Jobs of the sweep whose metrics.json records a finished run (not a failure)."""
    import json

    done = 0
    for path in Path(sweep_dir).glob("*/metrics.json"):
        try:
            done += json.loads(path.read_text()).get("status") != "failed"
        except (OSError, ValueError, AttributeError):
            continue  # being written by another job or unreadable: not finished
    return done


__all__ = ["Sweep", "current_sweep", "finished_jobs", "sweep_overrides", "swept_values"]
