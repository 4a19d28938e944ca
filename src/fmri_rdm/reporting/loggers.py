"""Experiment loggers: Lightning loggers per fold, and one wandb run per job.

wandb gets special care: one run per Hydra job (every fold logs into it under a `fold<k>`
prefix), grouped by the sweep, with the resolved config, final metrics in the summary, the
plots and the test predictions; `finish()` after every job so each multirun job is its own
run. It runs offline unless the user has configured it online. `logger=none` starts nothing.
"""

from __future__ import annotations

import logging
import netrc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from fmri_rdm.errors import FmriRdmError
from fmri_rdm.reporting.results import RunMetrics

log = logging.getLogger(__name__)

_VERSIONED = ("CSVLogger", "TensorBoardLogger")


def wandb_mode(offline: bool | None) -> str:
    """ "offline" unless wandb was configured online: an explicit `offline=false`,
    WANDB_MODE, an API key in the environment, or a wandb login in ~/.netrc."""
    if offline is not None:
        return "offline" if offline else "online"
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    if os.environ.get("WANDB_API_KEY"):
        return "online"
    try:
        if netrc.netrc().authenticators("api.wandb.ai"):
            return "online"
    except (OSError, netrc.NetrcParseError):
        pass
    return "offline"


class RunLoggers:
    """The configured loggers of one job: `for_fold(k)` for Lightning, `finish(...)` at the end."""

    def __init__(self, cfg: DictConfig, sweep_name: str | None = None) -> None:
        self.cfg = cfg
        self.sweep_name = sweep_name
        self.wandb_run: Any = None
        logger_cfg = cfg.get("logger") or {}
        from fmri_rdm.runtime.distributed import is_global_zero

        if not is_global_zero():  # DDP ranks > 0 start no logger run (rank 0 logs the run)
            logger_cfg = {}
        self.others = {k: v for k, v in logger_cfg.items() if k != "wandb"}
        self.wandb_cfg: Any = logger_cfg.get("wandb")

    def _start_wandb(self) -> Any:
        import wandb

        from fmri_rdm.runtime.console import is_verbose

        wcfg = self.wandb_cfg
        mode: Any = wandb_mode(wcfg.get("offline"))
        save_dir = Path(str(wcfg.save_dir))
        save_dir.mkdir(parents=True, exist_ok=True)
        model = str(self.cfg.model.name)
        self.wandb_run = wandb.init(
            project=str(wcfg.project),
            entity=wcfg.get("entity"),
            group=wcfg.get("group") or self.sweep_name,
            job_type=model,
            tags=[*list(wcfg.get("tags") or []), model, *_subject_roi(self.cfg)],
            config=OmegaConf.to_container(self.cfg, resolve=True),  # type: ignore[arg-type]
            dir=str(save_dir),
            mode=mode,
            reinit="finish_previous",
            # the quiet console: no banner, and no ~40-line history/summary at the end (the
            # results table says it); online runs keep wandb's own lines about where they go
            settings=wandb.Settings(silent=mode == "offline" and not is_verbose()),
        )
        log.info("wandb run %s (%s mode)", self.wandb_run.name, mode)
        return self.wandb_run

    def for_fold(self, fold: int) -> list[Any]:
        """Lightning loggers for one fold's Trainer (a new version folder per fold)."""
        loggers = []
        for lcfg in self.others.values():
            target = str(lcfg.get("_target_", ""))
            extra = {"version": f"fold_{fold}"} if target.endswith(_VERSIONED) else {}
            loggers.append(instantiate(lcfg, **extra))
        if self.wandb_cfg is not None:
            from pytorch_lightning.loggers import WandbLogger

            run = self.wandb_run or self._start_wandb()
            loggers.append(WandbLogger(experiment=run, prefix=f"fold{fold}"))
        return loggers

    def finish(
        self,
        metrics: RunMetrics | None,
        plots: Mapping[str, Path] | None = None,
        predictions: Mapping[str, np.ndarray] | None = None,
        *,
        failed: str | None = None,
    ) -> None:
        """Final metrics in the wandb summary, plots as images, predictions as a table."""
        if self.wandb_cfg is None:
            return
        import wandb

        run = self.wandb_run or self._start_wandb()
        try:
            if metrics is not None:
                run.summary.update(metrics.flat())
            if failed:
                run.summary.update({"status": "failed", "error": failed})
            if plots:
                run.log({f"plots/{name}": wandb.Image(str(path)) for name, path in plots.items()})
            if predictions:
                rows = np.column_stack([predictions[k] for k in ("i", "j", "target", "prediction")])
                table = wandb.Table(columns=["i", "j", "target", "prediction"], data=rows.tolist())
                run.log({"test_predictions": table})
        finally:
            run.finish(exit_code=1 if failed else 0)
            self.wandb_run = None


def _subject_roi(cfg: Any) -> list[str]:
    """The run's ROI and, for `data=folder`, its subject as wandb tags (`data.source`)."""
    from fmri_rdm.data.source import run_roi, run_subject, subject_key

    try:
        roi, subject = run_roi(cfg), run_subject(cfg)
    except FmriRdmError:  # the run reports the missing key itself
        return []
    return [roi, subject_key(subject)] if isinstance(subject, str) else [roi]
