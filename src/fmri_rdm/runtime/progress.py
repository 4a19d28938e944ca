"""Progress a user can read on a long run, and where its time goes.

* `stage(name)`: a timer around one stage of a fold (fit, predict, encoding baseline,
  statistics, ...); the fold loop collects them per fold (`RunProgress.fold`), and
  `stage_seconds()` hands them to the fold's metrics (`folds[k].seconds`).
* `RunProgress`: `start(fold)` / `done()` around each fold; one line per finished fold, e.g.
  `fold 2/5 done in 41.2 s · run 1:32 elapsed, ~2:03 left · sweep job 3/12 (2 finished)`;
  the time left is the mean fold time so far times the folds still to run.

Stages are recorded in a context variable, so code that times a stage needs no handle passed
down to it, and a stage timed outside any fold (a script, a test) records nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from fmri_rdm.runtime.console import HEADLINE
from fmri_rdm.runtime.sweep import Sweep, current_sweep, finished_jobs

log = logging.getLogger(__name__)

_STAGES: ContextVar[dict[str, float] | None] = ContextVar("fmri_rdm_stages", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the wall time of the block to stage `name` of the current fold (if any)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        stages = _STAGES.get()
        if stages is not None:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - start


def stage_seconds() -> dict[str, float]:
    """The stage times recorded so far in the current fold (a copy; {} outside a fold)."""
    return dict(_STAGES.get() or {})


def clock(seconds: float) -> str:
    """A duration as `m:ss` or `h:mm:ss` (`41.2 s` under a minute)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunProgress:
    """The fold loop's progress: `with progress.fold(k): ...` around each fold.

    n_folds: folds this run trains; started: `time.perf_counter()` when the run began (data
    loading and embeddings count as elapsed time); sweep: the multirun this job belongs to
    (None: read from Hydra when `from_hydra`; a single run has none)."""

    def __init__(
        self, n_folds: int, started: float, sweep: Sweep | None = None, from_hydra: bool = True
    ) -> None:
        self.n_folds, self.started = int(n_folds), started
        self.sweep = current_sweep() if sweep is None and from_hydra else sweep
        self.fold_seconds: list[float] = []
        self.stages: dict[int, dict[str, float]] = {}
        self._fold, self._start = -1, started
        self._token: Token[dict[str, float] | None] | None = None

    def start(self, fold: int) -> None:
        """A fold begins: stages timed from now on are this fold's."""
        self._fold, self._start = fold, time.perf_counter()
        self.stages[fold] = {}
        self._token = _STAGES.set(self.stages[fold])

    def done(self) -> None:
        """The fold begun last has finished: log the progress line."""
        if self._token is not None:
            _STAGES.reset(self._token)
            self._token = None
        self.fold_seconds.append(time.perf_counter() - self._start)
        log.info("%s", self.line(), extra=HEADLINE)

    @contextmanager
    def fold(self, fold: int) -> Iterator[dict[str, float]]:
        """`start(fold)` ... `done()` around a block (no line when the block raises)."""
        self.start(fold)
        try:
            yield self.stages[fold]
        except BaseException:
            if self._token is not None:
                _STAGES.reset(self._token)
                self._token = None
            raise
        self.done()

    def seconds_left(self) -> float | None:
        """Mean fold time so far x folds left; None before the first fold ends."""
        if not self.fold_seconds:
            return None
        left = max(0, self.n_folds - len(self.fold_seconds))
        return left * sum(self.fold_seconds) / len(self.fold_seconds)

    def line(self) -> str:
        """`fold k/K done in ... · run ... elapsed, ~... left[ · sweep job j/J (n finished)]`."""
        done = len(self.fold_seconds)
        elapsed = time.perf_counter() - self.started
        left = self.seconds_left()
        text = f"fold {done}/{self.n_folds} done in {clock(self.fold_seconds[-1])}"
        text += f" · run {clock(elapsed)} elapsed"
        text += ", finishing" if not left else f", ~{clock(left)} left"
        if self.sweep is not None:
            total = "?" if self.sweep.n_jobs is None else str(self.sweep.n_jobs)
            finished = finished_jobs(self.sweep.dir)
            text += f" · sweep job {self.sweep.job + 1}/{total} ({finished} finished)"
        return text


__all__ = ["RunProgress", "clock", "stage", "stage_seconds"]
