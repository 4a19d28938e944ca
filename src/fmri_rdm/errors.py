"""User-facing errors.

Library code raises these; only the entry points (`train.py`, `predict.py`, the `python -m` CLIs)
turn them into one readable line and exit status 2. Anything else is a bug and keeps its traceback.
"""


class FmriRdmError(Exception):
    """An error the user can fix: the message says what is wrong, where, and how to fix it."""


class DataError(FmriRdmError):
    """The data on disk is missing, malformed or inconsistent."""


class ConfigError(FmriRdmError):
    """A configuration value is invalid or impossible to satisfy."""


class EmbeddingError(FmriRdmError):
    """Embeddings cannot be computed or loaded (e.g. weights unavailable offline)."""


def one_line(what: object, limit: int | None = None) -> str:
    """A message (or an exception's) on one line: whitespace, newlines included, collapsed to
    single spaces; an exception without a message gives its type name; at most `limit` chars."""
    text = " ".join(str(what).split())
    if not text and isinstance(what, BaseException):
        text = type(what).__name__
    return text if limit is None else text[:limit]
