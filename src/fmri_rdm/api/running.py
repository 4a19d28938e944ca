"""`run(cfg)`: one experiment from Python, with train.py's checks and failure records.

The same job as `fmri-rdm train` (`entry.job.run_job`, which both front doors call):
`skip_completed`, the data-path and ROI preflight, the DDP launch and settings checks, the job's
CPU threads, the experiment, and a failed run recorded in its metrics.json (so `compare` lists it
and `skip_completed` runs it again). Errors are raised (`ConfigError`, `DataError`, ...), never
an exit; Lightning's banner lines (GPU/TPU available, tips) are quiet unless `quiet=False`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import yaml
from omegaconf import DictConfig

from fmri_rdm.reporting.results import RunMetrics

log = logging.getLogger(__name__)
_BANNER_LOGGERS = ("lightning.pytorch", "pytorch_lightning", "lightning.fabric", "lightning")


@contextlib.contextmanager
def quiet_lightning(quiet: bool = True) -> Iterator[None]:
    """Lightning's loggers at WARNING inside the block (their INFO lines are the banners)."""
    if not quiet:
        yield
        return
    loggers = [logging.getLogger(name) for name in _BANNER_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _record_overrides(cfg: DictConfig, out: Path) -> None:
    """`<run>/.hydra/overrides.yaml` as Hydra writes it for train.py (what `compare` reads)."""
    from fmri_rdm.api.config import recorded_overrides

    overrides = recorded_overrides(cfg)
    if overrides:
        (out / ".hydra").mkdir(parents=True, exist_ok=True)
        (out / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))


def run(cfg: DictConfig, quiet: bool = True) -> RunMetrics:
    """Train and evaluate one configuration; its outputs go into `cfg.paths.output_dir`.

    Args:
        cfg: a config from `fmri_rdm.config` (possibly changed since).
        quiet: silence Lightning's banner lines (GPU/TPU available, tips).

    Returns:
        The run's metrics (`RunMetrics`): `.folds_frame()`, `.summary_frame()`, `.plots`,
        `.show()`; `run_dir` is the run directory. With ``skip_completed=true`` and a
        finished run of the same config there, that run's metrics, without training.

    Raises:
        ConfigError: an impossible setting. DataError: missing or broken data.
        RunInterrupted: training was interrupted (Ctrl-C); the message says how to resume.

    Example:
        >>> import fmri_rdm as fr
        >>> result = fr.run(fr.config("model=rsa", "logger=none", experiment="demo"))
        >>> result.summary_frame()
    """
    from fmri_rdm.entry.job import run_job
    from fmri_rdm.runtime.console import run_log

    out = Path(str(cfg.paths.output_dir))
    out.mkdir(parents=True, exist_ok=True)  # as Hydra makes it for train.py, before the job
    with quiet_lightning(quiet), run_log(out / "train.log"):  # as train.py's run has
        job = run_job(cfg, before_run=lambda: _record_overrides(cfg, out))
    if job.metrics is None:  # skip_completed: the finished run's metrics, without training
        return RunMetrics.load(out)
    job.metrics.run_dir = out
    log.info("run directory: %s", out)
    return job.metrics
