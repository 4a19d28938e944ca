"""train.py's side of the entry points: run one experiment, print its results table.

User errors (ours, Hydra's, OmegaConf's) end the run with one line `error: ...` and exit status
2, through the wrapper every entry point shares (`entry.wrapper`); in a sweep they are recorded
in the job's metrics.json and the sweep goes on. An interrupted training run (Ctrl-C, SIGTERM)
ends with one line saying how to resume it and exit status 128 + the signal number.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from fmri_rdm.entry.wrapper import (
    BUG_MARK,
    full_error_requested,
    hydra_main,
    report_and_exit,
    user_error,
)
from fmri_rdm.errors import RunInterrupted, one_line
from fmri_rdm.reporting.results import RunMetrics

log = logging.getLogger("fmri_rdm")


def _sweep_name() -> str | None:
    """ "<date>/<time>" of the multirun this job belongs to; None for a single run."""
    try:
        hydra_cfg = HydraConfig.get()
    except ValueError:  # not inside a Hydra app
        return None
    if hydra_cfg.mode is None or hydra_cfg.mode.name != "MULTIRUN":
        return None
    return "/".join(Path(str(hydra_cfg.sweep.dir)).parts[-2:])


PAIRS_CAPTION = (
    "test: mean over folds of each fold's within-test pairs; all pairs: every pair of the "
    "run, for a model that fits nothing"
)


def all_pairs_rows(all_pairs: Mapping[str, Any] | None) -> list[tuple[str, ...]]:
    """Rows of the results table for metrics.json's `all_pairs` (a fixed model scored on all of
    the run's pairs, the ceiling on the same pairs), under a heading; [] when the run has
    none."""
    from fmri_rdm.stats.report import summary_line

    if not all_pairs:
        return []
    heading = f"all {all_pairs.get('n_pairs')} pairs (fixed model)"
    if all_pairs.get("statistics") == "none":
        heading += ", no interval or p (evaluation.all_pairs_statistics)"
    rows: list[tuple[str, ...]] = [(heading,)]
    for name, entry in (all_pairs.get("test") or {}).items():
        value = entry.get("mean")
        shown = "-" if value is None else f"{value:.3f}"
        rows.append((f"  {name}", shown, summary_line(entry)))
    for name, value in (all_pairs.get("noise_ceiling") or {}).items():
        shown = "-" if value is None else f"{value:.3f}"
        rows.append((f"[dim]  noise ceiling {name}[/dim]", shown))
    return rows


def print_results(metrics: RunMetrics | Mapping[str, Any]) -> None:
    """A short table: test scores (mean ± std over folds) beside baselines and the noise ceiling.

    metrics: the run's `RunMetrics`, or a metrics.json dict."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from fmri_rdm.reporting.notes import notes
    from fmri_rdm.reporting.transfer import transfer_rows
    from fmri_rdm.stats.report import summary_line

    run = metrics if isinstance(metrics, RunMetrics) else RunMetrics.from_json(metrics)

    def fmt(entry: Any) -> str:
        if entry.get("mean") is None:
            return "-"
        return f"{entry['mean']:.3f} ± {entry['std']:.3f}"

    title = (
        f"{run.model} · subject {run.subject} · ROI {run.roi} · "
        f"{run.metric} · {run.n_images} images · {len(run.folds)} fold(s)"
    )
    # fits an 80-column terminal: baselines and ceilings under a heading, names indented
    caption = PAIRS_CAPTION if run.all_pairs else None
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, caption=caption)
    table.add_column("score", no_wrap=True)
    table.add_column("test (mean ± std)", justify="right", no_wrap=True)
    table.add_column("95 % CI, p (folds pooled)", justify="right", no_wrap=True)
    for name in run.test:
        entry = run.entry("test", name)
        table.add_row(name, fmt(entry), summary_line(entry))
    for heading, section in (("baselines", run.baselines), ("noise ceiling", run.noise_ceiling)):
        if section:
            table.add_row(f"[dim]{heading}[/dim]", end_section=False)
        for name in section:
            table.add_row(f"[dim]  {name}[/dim]", fmt(section[name]))
    for row in all_pairs_rows(run.all_pairs):  # a fixed model: every pair of the run
        table.add_row(*row)
    for row in transfer_rows(run.transfer):  # evaluation.transfer_subjects
        table.add_row(*row)
    console = Console(stderr=False)
    console.print(table)
    for line in notes(run):  # what the table alone leaves unsaid (reporting.notes)
        console.print(f"note: {line}", highlight=False, markup=False)
    if run.random_init:
        Console().print("[bold yellow]embeddings came from randomly initialised weights[/]")


def _user_error_exit(err: Exception) -> None:
    """End the run on a user error (one line, exit 2), or, in a sweep, log it and return so the
    sweep goes on (the job recorded it in metrics.json); a bug is re-raised with its traceback."""
    found = user_error(err, running=True)
    if found is None:
        setattr(err, BUG_MARK, True)  # hydra_main must not take it for a composition error
        raise err
    if full_error_requested():
        traceback.print_exc()
    if _sweep_name() is not None:
        log.error("job failed: %s", found[1])
        return
    report_and_exit(found)


def run_training(cfg: DictConfig) -> float | None:
    """Run one experiment; user errors end it with one line (exit 2), or, in a sweep, are
    recorded in the job's metrics.json while the sweep goes on. An interrupted run records how
    to resume it and exits with 128 + the signal number (a sweep stops too).

    Data-path and ROI mistakes are reported before torch, Lightning or a logger is loaded
    (`preflight`); the job's CPU threads (and GPU in a parallel sweep) are set before torch
    is imported (`parallel.configure_job`)."""
    from fmri_rdm.entry.job import run_job
    from fmri_rdm.entry.shorthands import REWRITTEN
    from fmri_rdm.runtime.console import HEADLINE, quiet_console, verbose_requested
    from fmri_rdm.runtime.distributed import is_global_zero

    quiet_console(verbose_requested(cfg))  # one line per fold + the table, unless verbose
    for given, read in REWRITTEN:
        log.info("%s is read as %s (network settings live under model.net)", given, read)
    out = Path(cfg.paths.output_dir)
    try:
        job = run_job(cfg, sweep_name=_sweep_name())
    except RunInterrupted as stop:
        print(f"interrupted: {stop}", file=sys.stderr)
        sys.exit(stop.exit_status)
    except KeyboardInterrupt:
        print("interrupted: Ctrl-C outside training; nothing to resume", file=sys.stderr)
        sys.exit(130)
    except Exception as err:
        _user_error_exit(err)
        return None
    if job.metrics is None:  # skip_completed: the finished run's value
        return job.skipped_value
    metrics = job.metrics
    if is_global_zero():
        print_results(metrics)
        log.info("run directory: %s", out, extra=HEADLINE)
    value = metrics.optimized_metric.get("value")
    return None if value is None else float(value)


__all__ = [
    "full_error_requested",
    "hydra_main",
    "one_line",
    "print_results",
    "run_training",
    "user_error",
]


def _train_app(cfg: DictConfig) -> float | None:
    return run_training(cfg)


def hydra_app() -> Any:
    """`fmri-rdm train`'s Hydra application over the packaged configs (`paths.conf_dir`); the
    job is named `train` (after this module), as `python train.py`'s."""
    import hydra

    from fmri_rdm.paths import conf_dir

    return hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")(
        _train_app
    )
