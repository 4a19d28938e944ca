"""User-facing errors, and the interruption of a run.

Library code raises these; only the entry points (`train.py`, `predict.py`, the `python -m` CLIs)
turn them into one readable line and exit status 2. Anything else is a bug and keeps its traceback.
"""

import signal


class FmriRdmError(Exception):
    """An error the user can fix: the message says what is wrong, where, and how to fix it."""


class DataError(FmriRdmError):
    """The data on disk is missing, malformed or inconsistent."""


class ConfigError(FmriRdmError):
    """A configuration value is invalid or impossible to satisfy."""


class EmbeddingError(FmriRdmError):
    """Embeddings cannot be computed or loaded (e.g. weights unavailable offline)."""


class RunInterrupted(Exception):
    # not an FmriRdmError: nothing to fix, the run stopped on a signal; the front doors print
    # how to resume and exit with 128 + the signal number
    """Training stopped by Ctrl-C or SIGTERM; `checkpoint` resumes it (None: nothing to resume)."""

    def __init__(self, signum: int, fold: int, epoch: int, checkpoint: str | None) -> None:
        self.signum, self.fold, self.epoch, self.checkpoint = signum, fold, epoch, checkpoint
        how = (
            f"resume with the same command plus ckpt_path={checkpoint}"
            if checkpoint
            else "no epoch of this fold finished, so there is nothing to resume: run it again"
        )
        super().__init__(
            f"{signal.Signals(signum).name} stopped fold {fold} during epoch {epoch}; {how}"
        )

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def one_line(what: object, limit: int | None = None) -> str:
    """A message (or an exception's) on one line: whitespace, newlines included, collapsed to
    single spaces; an exception without a message gives its type name; at most `limit` chars."""
    text = " ".join(str(what).split())
    if not text and isinstance(what, BaseException):
        text = type(what).__name__
    return text if limit is None else text[:limit]
