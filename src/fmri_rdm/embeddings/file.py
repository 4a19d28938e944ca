"""Precomputed embeddings from a `.npy` file (N, D), one row per image in sorted-path order."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError, DataError, EmbeddingError

log = logging.getLogger(__name__)


class FileEmbedder:
    """Reads embeddings instead of computing them; needs no cache (the file is the cache).

    It cannot embed images it has no row for: prediction on new images needs a file for them too.
    """

    backend = "file"
    cacheable = False

    def __init__(self, path: str | Path) -> None:
        if path in (None, "", "???"):
            raise ConfigError("embeddings=file needs embeddings.path=/path/to/embeddings.npy")
        self.path = Path(path).expanduser()
        self._array: np.ndarray | None = None

    def load(self) -> np.ndarray:
        """The whole file as float32 (N, D); read once per embedder."""
        if self._array is None:
            self._array = _read_npy(self.path)
            log.info("loaded embeddings %s from %s", self._array.shape, self.path)
        return self._array

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """(N,) paths -> float32 (N, D): the file's rows, checked against the image count."""
        array = self.load()
        if array.shape[0] != len(paths):
            raise DataError(
                f"{self.path} has {array.shape[0]} rows but there are {len(paths)} images; "
                "the file must hold one row per image, in sorted image order"
            )
        return array

    def cache_key(self) -> dict[str, Any]:
        return {"backend": self.backend, "sha256": _file_sha256(self.path)}

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": None,
            "pretrained": None,
            "random_init": False,
            "path": str(self.path),
        }


def _read_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"embeddings file not found: {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"cannot read embeddings file {path}: {e}") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f"embeddings file {path} must hold a 2-D (N, D) array, got {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"embeddings file {path} has non-numeric dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
    if bad.size:
        shown = ", ".join(str(r) for r in bad[:10]) + (" ..." if bad.size > 10 else "")
        raise DataError(
            f"embeddings file {path} has NaN/inf in {bad.size} of {len(array)} rows "
            f"(rows {shown}, 0-based, in sorted image order): recompute those embeddings"
        )
    return array


def _file_sha256(path: Path) -> str:
    if not path.is_file():
        raise EmbeddingError(f"embeddings file not found: {path}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()
