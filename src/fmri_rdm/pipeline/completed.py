"""`skip_completed=true`: a re-run of a sweep (or of a run with a fixed directory) skips the
jobs that already finished with the same config.

A job's run directory is complete when its `metrics.json` is a finished run (not the
`{"status": "failed"}` record of `reporting.results.FailedRun`), is newer than the
`run_config.yaml` written when that run started (an older one belongs to an earlier attempt
that was re-run and died before finishing) and that stored config equals the new one, apart
from the settings that cannot change a result (`IGNORED`). Such a job is skipped with one log
line and returns the stored optimised metric, so a sweeper (Optuna) sees its whole history.

Everything else runs: a missing or unreadable metrics.json, a failed job, a config that
differs (logged with the keys that differ, never skipped). An interrupted job whose record
names a checkpoint (`resume_from`, written on Ctrl-C / SIGTERM, e.g. a SLURM time limit)
resumes from it when its config is unchanged: that fold continues, the run's other folds
are trained again (their results are not kept between attempts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from fmri_rdm.runtime.console import HEADLINE

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
CONFIG_FILE = "run_config.yaml"
# Top-level keys that cannot change a run's results: this very flag, where files go (the
# embeddings cache is content-keyed), the experiment loggers, the run name, CPU threads
# (the same computation, at most float rounding order) and the checkpoint an interrupted run
# resumed from (a resumed run ends with the same metrics as an uninterrupted one, tested).
IGNORED = ("skip_completed", "paths", "logger", "task_name", "threads", "ckpt_path")


@dataclass(frozen=True)
class Decision:
    """What a job does: `skip` (return `value`), or run (resuming from `resume_from`)."""

    skip: bool
    reason: str
    value: float | None = None
    resume_from: str | None = None


def comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config without the `IGNORED` keys (a plain dict)."""
    return {k: v for k, v in config.items() if k not in IGNORED}


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """`cfg` resolved as run_config.yaml stores it (the same YAML round trip, so both sides
    hold the same types)."""
    text = OmegaConf.to_yaml(cfg, resolve=True)
    container = OmegaConf.to_container(OmegaConf.create(text))
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested configs, sorted."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        found: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                found.append(name)
            else:
                found += differences(old[key], new[key], name)
        return found
    return [] if old == new else [prefix or "<root>"]


def _stored_config(run_dir: Path) -> dict[str, Any] | None:
    try:
        container = OmegaConf.to_container(OmegaConf.load(run_dir / CONFIG_FILE))
    except Exception:  # missing or unreadable: the job cannot be proven complete
        return None
    return {str(k): v for k, v in container.items()} if isinstance(container, dict) else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def decide(cfg: DictConfig, run_dir: Path) -> Decision:
    """Whether the job of `cfg` in `run_dir` is complete (skip) or runs, and why."""
    metrics_path = run_dir / METRICS_FILE
    data = _read_json(metrics_path)
    if data is None:
        what = "no" if not metrics_path.exists() else "an unreadable"
        return Decision(False, f"{what} {METRICS_FILE}")
    stored = _stored_config(run_dir)
    if stored is None:
        return Decision(False, f"no readable {CONFIG_FILE} to compare the config with")
    changed = differences(comparable(stored), comparable(resolved(cfg)))
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if changed[5:] else "")
        return Decision(False, f"the config differs from the stored one ({shown})")
    if data.get("status") == "failed":
        checkpoint = data.get("resume_from")
        if checkpoint and Path(str(checkpoint)).is_file():
            return Decision(False, "it was interrupted", resume_from=str(checkpoint))
        return Decision(False, f"it failed ({str(data.get('error', '?'))[:120]})")
    if metrics_path.stat().st_mtime_ns < (run_dir / CONFIG_FILE).stat().st_mtime_ns:
        return Decision(False, f"{METRICS_FILE} is older than the last attempt's {CONFIG_FILE}")
    value = (data.get("optimized_metric") or {}).get("value")
    return Decision(True, "complete", None if value is None else float(value))


def skip_or_prepare(cfg: DictConfig, run_dir: Path) -> Decision | None:
    """With `skip_completed=true`: the job's decision, logged in one line; an interrupted
    job gets `ckpt_path` set to its checkpoint (unless the command gives one). None when the
    flag is off."""
    if not bool(cfg.get("skip_completed", False)):
        return None
    decision = decide(cfg, run_dir)
    if decision.skip:
        log.info(
            "skip_completed: %s is complete (%s = %s): skipped",
            run_dir,
            *_metric(run_dir),
            extra=HEADLINE,  # the quiet console's one line for a skipped job
        )
        return decision
    if decision.resume_from is not None and cfg.get("ckpt_path") in (None, ""):
        with open_dict(cfg):
            cfg.ckpt_path = decision.resume_from
        log.info(
            "skip_completed: %s was interrupted: resuming from %s (its other folds run again)",
            run_dir,
            decision.resume_from,
            extra=HEADLINE,
        )
    else:
        log.info("skip_completed: running %s: %s", run_dir, decision.reason, extra=HEADLINE)
    return decision


def _metric(run_dir: Path) -> tuple[str, Any]:
    """(name, value) of the stored optimised metric, for the log line."""
    stored = (_read_json(run_dir / METRICS_FILE) or {}).get("optimized_metric") or {}
    return str(stored.get("name", "optimized_metric")), stored.get("value")


__all__ = ["IGNORED", "Decision", "comparable", "decide", "differences", "skip_or_prepare"]
