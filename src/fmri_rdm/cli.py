"""What the entry points share: user errors become one line and exit status 2, results a table."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from fmri_rdm.artifacts import write_json
from fmri_rdm.errors import FmriRdmError

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


def print_results(metrics: dict[str, Any]) -> None:
    """A short table: test scores (mean ± std over folds) beside baselines and the noise ceiling."""
    from rich.console import Console
    from rich.table import Table

    def fmt(entry: dict | None) -> str:
        if not entry or entry.get("mean") is None:
            return "-"
        return f"{entry['mean']:.3f} ± {entry['std']:.3f}"

    title = (
        f"{metrics['model']} · subject {metrics['subject']} · ROI {metrics['roi']} · "
        f"{metrics['metric']} · {metrics['n_images']} images · {len(metrics['folds'])} fold(s)"
    )
    table = Table(title=title)
    table.add_column("score")
    table.add_column("test", justify="right")
    for name, entry in metrics["test"].items():
        table.add_row(name, fmt(entry))
    for name, entry in metrics["baselines"].items():
        table.add_row(f"[dim]baseline {name}[/dim]", fmt(entry))
    for name, entry in metrics.get("noise_ceiling", {}).items():
        table.add_row(f"[dim]noise ceiling {name}[/dim]", fmt(entry))
    Console(stderr=False).print(table)
    if metrics.get("random_init"):
        Console().print("[bold yellow]embeddings came from randomly initialised weights[/]")


def run_training(cfg: DictConfig) -> float | None:
    """Run one experiment; user errors end it with one line (exit 2), or, in a sweep, are
    recorded in the job's metrics.json while the sweep goes on."""
    from fmri_rdm.training import run

    out = Path(cfg.paths.output_dir)
    try:
        metrics = run(cfg, sweep_name=_sweep_name())
    except FmriRdmError as err:
        write_json(
            out / "metrics.json",
            {
                "status": "failed",
                "error": f"{type(err).__name__}: {err}",
                "config": OmegaConf.to_container(cfg, resolve=False),
            },
        )
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            traceback.print_exc()
        if _sweep_name() is not None:
            log.error("job failed: %s", err)
            return None
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print_results(metrics)
    log.info("run directory: %s", out)
    value = metrics["optimized_metric"]["value"]
    return None if value is None else float(value)
