"""Warnings that a run prints once, not once per fold.

A warning about a setting (e.g. the encoding model's alpha grid) is the same advice in every
fold; `warn_once` logs it the first time its key is seen in a run, and `new_run()` (called when
a run starts) forgets the keys, so each job of a sequential sweep warns for itself.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable

_seen: set[Hashable] = set()


def warn_once(log: logging.Logger, key: Hashable, message: str, *args: object) -> bool:
    """Log `message % args` as a warning unless `key` was warned about in this run.
    Returns whether it was logged."""
    if key in _seen:
        return False
    _seen.add(key)
    log.warning(message, *args)
    return True


def new_run() -> None:
    """Forget the warnings given so far (a new run starts)."""
    _seen.clear()
