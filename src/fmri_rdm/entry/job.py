"""One job's lifecycle, shared by both front doors (`fmri-rdm train` / train.py and `fr.run`).

skip_completed, the data-path and ROI preflight, the DDP launch check, the job's CPU threads
(before torch), the settings check, the experiment, and every way it can end recorded in the
run's metrics.json: a user error (so `compare` lists the job and `skip_completed` runs it
again), an interruption (with the checkpoint to resume from). Errors are raised; the front
doors decide what the user sees (an exit status and one line, or the exception).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from fmri_rdm.entry.wrapper import user_error
from fmri_rdm.errors import RunInterrupted
from fmri_rdm.reporting.results import FailedRun, RunMetrics
from fmri_rdm.runtime.artifacts import write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    """What a job gave: the run's metrics, or, for a job skipped as already complete
    (`skip_completed=true`), `metrics` None and the finished run's optimised value."""

    metrics: RunMetrics | None
    skipped_value: float | None = None

    @property
    def skipped(self) -> bool:
        return self.metrics is None


def record_failure(out: Path, cfg: DictConfig, error: str, **extra: Any) -> None:
    """metrics.json of a run that did not finish (read by `compare` as a failed job)."""
    from fmri_rdm.runtime.distributed import is_global_zero

    if not is_global_zero():  # DDP: rank 0 writes the run directory
        return
    config = OmegaConf.to_container(cfg, resolve=False)
    try:
        write_json(out / "metrics.json", FailedRun(error, config, extra).to_json())
    except OSError as err:  # the disk that failed the run may fail this too
        log.warning("the failure could not be recorded in %s (%s)", out / "metrics.json", err)


def _record_user_error(out: Path, cfg: DictConfig, err: Exception) -> None:
    """A user error in metrics.json; a bug is not recorded (it keeps its traceback)."""
    found = user_error(err, running=True)
    if found is not None:
        record_failure(out, cfg, f"{found[0]}: {found[1]}")


def run_job(
    cfg: DictConfig,
    *,
    sweep_name: str | None = None,
    before_run: Callable[[], None] | None = None,
) -> JobResult:
    """Run one configured job to its end; `before_run` is called once the checks pass, just
    before the experiment (the API records Hydra's overrides there).

    Raises what the run raised, after recording it in the run's metrics.json: a user error
    (ConfigError, DataError, Hydra's and OmegaConf's), `RunInterrupted` (with the checkpoint to
    resume from), KeyboardInterrupt. A bug is raised unrecorded, with its traceback."""
    from fmri_rdm.pipeline.completed import skip_or_prepare
    from fmri_rdm.pipeline.preflight import check_run_config
    from fmri_rdm.runtime.distributed import check_ddp_launch
    from fmri_rdm.runtime.parallel import configure_job

    out = Path(str(cfg.paths.output_dir))
    try:
        decision = skip_or_prepare(cfg, out)  # skip_completed=true: a finished job is skipped
        if decision is not None and decision.skip:
            return JobResult(None, decision.value)
        check_run_config(cfg)  # data paths, ROI names: before torch is imported
        check_ddp_launch(cfg.get("trainer") or {}, multirun=sweep_name is not None)
        resources = configure_job(cfg)  # threads (and a sweep job's GPU) before torch
    except Exception as err:
        _record_user_error(out, cfg, err)
        raise
    try:
        return JobResult(_recorded_run(cfg, out, sweep_name, before_run))
    finally:
        resources.release()


def _recorded_run(
    cfg: DictConfig, out: Path, sweep_name: str | None, before_run: Callable[[], None] | None
) -> RunMetrics:
    """The settings check and the experiment, each way they can fail recorded."""
    from fmri_rdm.pipeline.preflight import check_settings

    try:
        check_settings(cfg)  # may import torch: after the threads are set, before Lightning
        if before_run is not None:
            before_run()
        from fmri_rdm.pipeline.experiment import run

        return run(cfg, sweep_name=sweep_name)
    except RunInterrupted as stop:
        record_failure(out, cfg, f"interrupted: {stop}", resume_from=stop.checkpoint)
        raise
    except KeyboardInterrupt:
        record_failure(out, cfg, "interrupted: Ctrl-C outside training")
        raise
    except Exception as err:
        _record_user_error(out, cfg, err)
        raise
