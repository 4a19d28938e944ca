"""What the entry points share: user errors become one line and exit status 2, results a table.

A user error is anything the user can fix from the command line or on disk: our own
`FmriRdmError`s (also when Hydra's `instantiate` wraps them), Hydra's composition errors (an
override typo, an unknown option) and OmegaConf's (a value of the wrong type, a missing
mandatory value). Each ends the run with one line `error: <what, where, how to fix>` on stderr
and exit status 2; `HYDRA_FULL_ERROR=1` adds the traceback. Anything else is a bug and keeps
its traceback. An interrupted training run (Ctrl-C, SIGTERM) ends with one line saying how to
resume it and exit status 128 + the signal number.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, InstantiationException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    MissingMandatoryValue,
    OmegaConfBaseException,
)

from fmri_rdm.artifacts import write_json
from fmri_rdm.errors import FmriRdmError

log = logging.getLogger("fmri_rdm")

# The user's own HYDRA_FULL_ERROR, remembered by `hydra_main` (which sets Hydra's to 1 so that
# Hydra re-raises its errors for us to report) and inherited by launcher subprocesses.
USER_FULL_ERROR = "FMRI_RDM_FULL_ERROR"
EXIT_USER_ERROR = 2
_BUG = "fmri_rdm_bug"  # set on an exception that run_training re-raised as a bug
_MAX_OPTIONS = 60  # options listed in an "unknown option" message
# Lines of Hydra / OmegaConf messages that only repeat the key or describe internals.
_NOISE = ("full_key:", "object_type=", "reference_type=", "provider=", "Config search path")


def full_error_requested() -> bool:
    """Whether the user asked for tracebacks with HYDRA_FULL_ERROR=1."""
    value = os.environ.get(USER_FULL_ERROR)
    if value is None:
        value = os.environ.get("HYDRA_FULL_ERROR", "")
    return value.strip() == "1"


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(str(text).split())


def _cause_of_type(err: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`err` or the first exception of `kind` in its chain of explicit causes."""
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        if isinstance(node, kind):
            return node
        seen.add(id(node))
        node = node.__cause__
    return None


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _clean_lines(text: str) -> list[str]:
    """The informative lines of a Hydra / OmegaConf message (option lists dropped)."""
    lines: list[str] = []
    for raw in str(text).splitlines():
        line = raw.strip()
        if line.startswith("Config search path"):
            break
        if not line or raw.startswith("\t") or line.startswith(_NOISE):
            continue
        lines.append(line)
    return lines


def _unknown_option(err: MissingConfigException) -> str | None:
    """`model=siamse`: the group, the bad option, a suggestion and the valid options."""
    options = [str(o) for o in err.options or []]
    if not options or not err.missing_cfg_file:
        return None
    group, _, name = str(err.missing_cfg_file).rpartition("/")
    shown = ", ".join(options[:_MAX_OPTIONS]) + (", ..." if len(options) > _MAX_OPTIONS else "")
    return (
        f"{group}={name}: no option {name!r} in config group {group!r}"
        f"{_did_you_mean(name, options)}; choose one of: {shown}"
    )


def _unknown_key(err: BaseException, cause: OmegaConfBaseException) -> str:
    """`model.dropuot=0.1`: the key, a suggestion, the valid keys and how to add a new one."""
    full_key = cause.full_key or str(cause.key)
    node = cause.parent_node
    keys = [str(k) for k in node.keys() if not str(k).startswith("_")] if node is not None else []
    append = next((line for line in str(err).splitlines() if "use +" in line), "")
    add = f" ({append.split('use ', 1)[1]} adds a new key)" if append else ""
    valid = f"; valid keys here: {', '.join(keys)}" if keys else ""
    return f"{full_key} is not a setting{_did_you_mean(str(cause.key), keys)}{valid}{add}"


def _instantiation_error(err: InstantiationException) -> str | None:
    """A config node that cannot build its object: a `_target_` that does not import, or
    arguments the class rejects. A failure inside the constructor itself is a bug (None)."""
    text = str(err)
    key = re.search(r"full_key: (\S+)", text)
    where = f" ({key.group(1)})" if key else ""
    target = re.search(r"target '([^']+)'", text)
    name = target.group(1) if target else "?"
    inner = err.__cause__
    if text.startswith("Error locating target"):
        return f"_target_ {name!r}{where} cannot be imported: fix the module or class name"
    if isinstance(inner, TypeError) or type(inner).__name__ == "MisconfigurationException":
        return f"cannot build {name}{where}: {inner}"
    return None


def _config_error(err: BaseException, running: bool) -> str | None:
    """One line for Hydra's and OmegaConf's configuration errors; None for other exceptions.

    While the experiment runs (`running`), only the config's own faults count (a missing
    mandatory value, an unresolvable interpolation, an object it cannot build): a missing key
    or a type error there comes from our code, a bug."""
    if running:
        cause = err.__cause__ if isinstance(err, HydraException) else err
        if not isinstance(
            cause, MissingMandatoryValue | InterpolationResolutionError
        ) and not isinstance(err, InstantiationException):
            return None
    if isinstance(err, MissingConfigException):
        message = _unknown_option(err)
        if message is not None:
            return message
    cause = err.__cause__ if isinstance(err, HydraException) else err
    if isinstance(cause, ConfigAttributeError | ConfigKeyError) and not isinstance(
        err, InstantiationException
    ):
        return _unknown_key(err, cause)
    if isinstance(cause, MissingMandatoryValue):
        key = cause.full_key or str(cause.key)
        return f"{key} must be set: add {key}=... to the command line"
    if isinstance(err, InstantiationException):
        return _instantiation_error(err)
    if not isinstance(err, HydraException | OmegaConfBaseException):
        return None
    lines = _clean_lines(str(err))
    merging = "Error merging override "
    if lines and lines[0].startswith(merging):  # a value of the wrong type
        lines[0] = f"{lines[0][len(merging) :]} is invalid"
    if isinstance(cause, OmegaConfBaseException) and cause is not err:
        lines += [line for line in _clean_lines(str(cause)) if line not in lines]
    return "; ".join(lines) or type(err).__name__


def user_error(err: BaseException, running: bool = False) -> tuple[str, str] | None:
    """(kind, one-line message) when `err` is a user error, None when it is a bug.

    Our own errors are found inside Hydra's InstantiationException wrapping too. `running`:
    raised by the experiment itself, not while Hydra composed the config.
    """
    if getattr(err, _BUG, False):
        return None
    ours = _cause_of_type(err, FmriRdmError)
    if ours is not None:
        return type(ours).__name__, one_line(str(ours))
    message = _config_error(err, running)
    if message is None:
        return None
    return "ConfigError", one_line(message)


def report_and_exit(kind_and_message: tuple[str, str]) -> NoReturn:
    """Print the one line and exit with status 2."""
    print(f"error: {kind_and_message[1]}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def hydra_main(main: Callable[[], Any]) -> None:
    """Call a `@hydra.main` function; Hydra's own errors (override typos, unknown options, bad
    values) become one line and exit status 2 like ours, instead of Hydra's several lines and
    status 1. Used as `if __name__ == "__main__": hydra_main(main)`."""
    user_full = full_error_requested()
    os.environ[USER_FULL_ERROR] = "1" if user_full else "0"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises instead of printing
    try:
        main()
    except Exception as err:
        found = user_error(err)
        if found is None:
            raise
        if user_full:
            traceback.print_exc()
        report_and_exit(found)


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
    """A short table: test scores (mean ± std over folds) beside baselines and the noise ceiling.

    metrics: a metrics.json dict (read through `fmri_rdm.results.RunMetrics`)."""
    from rich.console import Console
    from rich.table import Table

    from fmri_rdm.results import RunMetrics
    from fmri_rdm.stats.report import summary_line

    run = RunMetrics.from_json(metrics)

    def fmt(entry: Any) -> str:
        if entry.get("mean") is None:
            return "-"
        return f"{entry['mean']:.3f} ± {entry['std']:.3f}"

    title = (
        f"{run.model} · subject {run.subject} · ROI {run.roi} · "
        f"{run.metric} · {run.n_images} images · {len(run.folds)} fold(s)"
    )
    table = Table(title=title)
    table.add_column("score")
    table.add_column("test", justify="right")
    table.add_column("95 % CI, p (folds pooled)", justify="right")
    for name in run.test:
        entry = run.entry("test", name)
        table.add_row(name, fmt(entry), summary_line(entry))
    for name in run.baselines:
        table.add_row(f"[dim]baseline {name}[/dim]", fmt(run.entry("baselines", name)))
    for name in run.noise_ceiling:
        table.add_row(f"[dim]noise ceiling {name}[/dim]", fmt(run.entry("noise_ceiling", name)))
    Console(stderr=False).print(table)
    if run.random_init:
        Console().print("[bold yellow]embeddings came from randomly initialised weights[/]")


def _record_failure(out: Path, cfg: DictConfig, error: str, **extra: Any) -> None:
    """metrics.json of a run that did not finish (read by `compare` as a failed job)."""
    from fmri_rdm.results import FailedRun

    config = OmegaConf.to_container(cfg, resolve=False)
    write_json(out / "metrics.json", FailedRun(error, config, extra).to_json())


def _user_error_exit(err: Exception, out: Path, cfg: DictConfig) -> None:
    """Record a user error in metrics.json and end the run (exit 2), or, in a sweep, log it and
    return so the sweep goes on; a bug is re-raised with its traceback."""
    from fmri_rdm.distributed import is_global_zero

    found = user_error(err, running=True)
    if found is None:
        setattr(err, _BUG, True)  # hydra_main must not take it for a composition error
        raise err
    if is_global_zero():
        _record_failure(out, cfg, f"{found[0]}: {found[1]}")
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
    from fmri_rdm.distributed import check_ddp_launch, is_global_zero
    from fmri_rdm.parallel import configure_job
    from fmri_rdm.preflight import check_run_config

    out = Path(cfg.paths.output_dir)
    try:
        check_run_config(cfg)
        check_ddp_launch(cfg.get("trainer") or {}, multirun=_sweep_name() is not None)
        resources = configure_job(cfg)
    except Exception as err:
        _user_error_exit(err, out, cfg)
        return None
    from fmri_rdm.experiment import RunInterrupted, run

    try:
        metrics = run(cfg, sweep_name=_sweep_name())
    except RunInterrupted as stop:
        _record_failure(out, cfg, f"interrupted: {stop}", resume_from=stop.checkpoint)
        print(f"interrupted: {stop}", file=sys.stderr)
        sys.exit(stop.exit_status)
    except KeyboardInterrupt:
        _record_failure(out, cfg, "interrupted: Ctrl-C outside training")
        print("interrupted: Ctrl-C outside training; nothing to resume", file=sys.stderr)
        sys.exit(130)
    except Exception as err:
        _user_error_exit(err, out, cfg)
        return None
    finally:
        resources.release()
    if is_global_zero():
        print_results(metrics)
        log.info("run directory: %s", out)
    value = metrics["optimized_metric"]["value"]
    return None if value is None else float(value)


__all__ = [
    "full_error_requested",
    "hydra_main",
    "one_line",
    "print_results",
    "run_training",
    "user_error",
]
