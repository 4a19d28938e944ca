"""A quiet terminal by default: one line per fold and the results table.

`quiet_console(verbose)` (train.py, once Hydra has set up logging) keeps the console handlers
to warnings, errors and the lines marked `HEADLINE` (a fold's progress line, the run
directory, a long first-time step such as generating data or embedding images); everything
else still goes to the run's log file (`<run>/train.log`). Lightning's start-up lines (GPU/TPU,
the litlogger tip) are INFO records and so drop out too; the progress bar shows the epoch
without the metrics (they are in the logger and the fold lines); wandb's offline summary is
silenced. `verbose=true` (or `-v`, or Hydra's `hydra.verbose`) keeps it all.

A library deprecation notice that says nothing about the user's run (torch's `LeafSpec`
inside Lightning) is dropped in both modes.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HEADLINE = {"headline": True}  # `log.info(..., extra=HEADLINE)`: shown in the quiet console

_state = {"verbose": True}  # library use (tests, scripts) stays verbose unless asked
_formats: dict[int, logging.Formatter | None] = {}  # a handler's own format, while quiet

# deprecations raised inside libraries, not by anything the user wrote or can change
_LIBRARY_NOISE = (r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",)
# advice about Lightning's own logging cadence: the curves are in the logger either way
_QUIET_NOISE = (r"The number of training batches .* is smaller than the logging interval.*",)


class _QuietFilter(logging.Filter):
    """Warnings and up, and INFO records marked HEADLINE."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or bool(getattr(record, "headline", False))


class _QuietFormatter(logging.Formatter):
    """A headline as it is (`fold 2/5 done in ...`); a warning or error led by its level."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def _console_handlers() -> list[logging.Handler]:
    """The root logger's handlers that write to the terminal (not to a file)."""
    return [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]


def ignore_library_noise() -> None:
    for pattern in _LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def quiet_console(verbose: bool) -> None:
    """Quiet (`verbose=False`) or full console output for this process."""
    _state["verbose"] = bool(verbose)
    ignore_library_noise()
    if not verbose:
        for pattern in _QUIET_NOISE:
            warnings.filterwarnings("ignore", message=pattern)
    for handler in _console_handlers():
        for old in [f for f in handler.filters if isinstance(f, _QuietFilter)]:
            handler.removeFilter(old)
        if not verbose:
            handler.addFilter(_QuietFilter())
            if not isinstance(handler.formatter, _QuietFormatter):
                _formats[id(handler)] = handler.formatter
                handler.setFormatter(_QuietFormatter())
        elif isinstance(handler.formatter, _QuietFormatter):
            handler.setFormatter(_formats.pop(id(handler), None))


def is_verbose() -> bool:
    return _state["verbose"]


def verbose_requested(cfg: Any) -> bool:
    """`verbose=true`, or Hydra's own `hydra.verbose` (true or a list of loggers)."""
    if bool(cfg.get("verbose", False)):
        return True
    try:
        from hydra.core.hydra_config import HydraConfig

        return bool(HydraConfig.get().verbose)
    except ValueError:  # not inside a Hydra app
        return False


def expand_verbose_flag(argv: list[str]) -> list[str]:
    """`-v` / `--verbose` on the command line is `verbose=true` (Hydra would refuse them)."""
    return ["verbose=true" if a in ("-v", "--verbose") else a for a in argv]


def progress_bar(trainer_config: Any) -> tuple[list[Any], dict[str, Any]]:
    """(callbacks, trainer arguments) for training progress in the quiet console: on a
    terminal, a bar per epoch without metrics (Lightning's wraps them into a narrow column);
    piped, no bar (a bar that is not redrawn prints a block per fold). Nothing changes when
    verbose or when the trainer config turns the bar off."""
    if is_verbose() or not bool(trainer_config.get("enable_progress_bar", True)):
        return [], {}
    if not sys.stdout.isatty():
        return [], {"enable_progress_bar": False}
    from pytorch_lightning.callbacks import RichProgressBar

    class EpochBar(RichProgressBar):
        def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
            return {}

    return [EpochBar(leave=False)], {}


LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"  # Hydra's job log format


class _ShownAbove(logging.Filter):
    """On the caller's own handlers: the library's records below the level they had before
    `run_log` lifted it (what they showed before is what they show now)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == "fmri_rdm" or record.name.startswith("fmri_rdm.")
        return not own or record.levelno >= self.level


@contextlib.contextmanager
def run_log(path: Path) -> Iterator[None]:
    """`<run>/train.log` for a run started outside Hydra (the API), as train.py's: every
    `fmri_rdm` record from INFO up, in Hydra's format. What the caller's own logging shows
    does not change (its handlers keep filtering at the library's former level)."""
    library = logging.getLogger("fmri_rdm")
    level, shown = library.level, library.getEffectiveLevel()
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    guard = _ShownAbove(shown)
    others = [h for h in logging.getLogger().handlers]
    for h in others:
        h.addFilter(guard)
    library.addHandler(handler)
    library.setLevel(min(shown, logging.INFO))
    try:
        yield
    finally:
        library.setLevel(level)
        library.removeHandler(handler)
        handler.close()
        for h in others:
            h.removeFilter(guard)
