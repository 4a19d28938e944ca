"""Files of the run directory, written atomically (temp file in the same folder + rename).

A crash or a kill never leaves a half-written `metrics.json` that a sweep or `compare` would
later read as a finished run.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """An OSError inside the block names `path` (a failed write() names no file, mkstemp names
    its temp file): re-raised as OSError(errno, strerror, path), which the entry points turn
    into one line naming the path and the cause (`entry.wrapper.user_error`)."""
    try:
        yield
    except OSError as err:
        if err.filename is not None and Path(err.filename) == Path(path):
            raise
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write `path` through `write(handle)` into a temp file of the same folder, fsync, rename."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays and Paths to plain JSON types; NaN/inf to null."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write `data` as indented JSON, atomically."""
    text = json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n"
    atomic_write(Path(path), lambda h: h.write(text.encode()))


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays to a compressed .npz, atomically."""

    def save(handle: IO[bytes]) -> None:
        np.savez_compressed(handle, allow_pickle=False, **dict(arrays))

    atomic_write(Path(path), save)


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """`lookup(m, "test.pearson.mean")` == m["test"]["pearson"]["mean"]; KeyError if absent."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node
