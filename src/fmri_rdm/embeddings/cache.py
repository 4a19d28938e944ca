"""Content-keyed on-disk cache of embeddings: `<cache_dir>/embeddings/<sha256>.npy` + `.json`.

The key hashes the embedder's `cache_key()` with every image file's name, size and mtime, so any
change of model, weights, layer, preprocessing or images recomputes. Files are written to a
temporary name in the same folder and renamed with os.replace (atomic), so a killed extraction
never leaves a file that a later run would read as valid, and two concurrent writers both
finish with one complete file (the last rename wins; both hold the same content). A lock file
per model and image set (`extraction_lock`) makes concurrent jobs wait for one extraction
instead of repeating it. A set of images that a cached set holds (a smaller `data.n_images`)
is taken from that cache's rows rather than embedded again (`covering`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.embeddings.base import Embedder
from fmri_rdm.errors import DataError
from fmri_rdm.runtime.artifacts import atomic_write
from fmri_rdm.runtime.console import HEADLINE

log = logging.getLogger(__name__)

CACHE_SUBDIR = "embeddings"
LOCK_SUBDIR = "embeddings.locks"


def image_fingerprint(paths: Sequence[Path]) -> list[list[Any]]:
    """[name, size, mtime_ns] per image, in order (stat only, no reading)."""
    rows = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError as e:
            raise DataError(f"cannot stat image {path}: {e.strerror}") from None
        rows.append([Path(path).name, stat.st_size, stat.st_mtime_ns])
    return rows


def cache_digest(key: dict[str, Any], paths: Sequence[Path]) -> str:
    """sha256 hex of the embedder key and the image fingerprints (canonical JSON)."""
    material = {"embedder": key, "images": image_fingerprint(paths)}
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(embedder: Embedder, paths: Sequence[Path], cache_dir: Path) -> Path:
    """Where `embedder`'s embeddings of `paths` are (or would be) cached."""
    return Path(cache_dir) / CACHE_SUBDIR / f"{cache_digest(embedder.cache_key(), paths)}.npy"


def _load_valid(path: Path, n_images: int) -> np.ndarray | None:
    """The cached array if it is readable and (n_images, D) float32, else None (+ WARNING)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        log.warning("embedding cache %s is unreadable (%s): recomputing", path.name, e)
        return None
    if array.ndim != 2 or array.shape[0] != n_images or array.dtype != np.float32:
        log.warning(
            "embedding cache %s holds %s %s, expected (%d, D) float32: recomputing",
            path.name,
            array.shape,
            array.dtype,
            n_images,
        )
        return None
    return array


def _sidecar(embedder: Embedder, shape: tuple[int, ...], paths: Sequence[Path]) -> bytes:
    info = {
        "key": embedder.cache_key(),
        "describe": embedder.describe(),
        "shape": list(shape),
        "dtype": "float32",
        "n_images": len(paths),
        "first_image": str(paths[0]) if paths else None,
        # what each row is: lets a run on a subset of these images reuse them (`covering`)
        "images": image_fingerprint(paths),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(info, indent=2, sort_keys=True, default=str).encode()


@contextlib.contextmanager
def extraction_lock(cache_dir: Path, key: dict[str, Any], paths: Sequence[Path]) -> Iterator[None]:
    """Hold an exclusive lock (flock) for extracting `key` on `paths`, so concurrent jobs
    (a joblib sweep, several SLURM jobs on one file system) wait for one extraction instead
    of running it twice. Released when the block ends or the process dies."""
    folder = Path(cache_dir) / LOCK_SUBDIR  # beside the cache: its folder holds arrays only
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{cache_digest(key, paths)}.lock").open("ab") as handle:
        start = time.perf_counter()
        fcntl.flock(handle, fcntl.LOCK_EX)
        waited = time.perf_counter() - start
        if waited > 1.0:
            log.info("waited %.1f s for another job's extraction of the same model", waited)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_cached(target: Path, n_images: int) -> np.ndarray | None:
    """The valid cached array at `target` (logged as a hit), or None."""
    start = time.perf_counter()
    if not target.is_file():
        return None
    array = _load_valid(target, n_images)
    if array is not None:
        log.info(
            "embedding cache hit: %s %s (%.3f s)",
            target.name[:16],
            array.shape,
            time.perf_counter() - start,
        )
    return array


def store(
    embedder: Embedder, array: np.ndarray, paths: Sequence[Path], cache_dir: Path
) -> np.ndarray:
    """Check `embedder`'s output for `paths` and write it (and its sidecar) atomically."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != len(paths):
        raise DataError(f"embedder returned {array.shape} for {len(paths)} images")
    target = cache_path(embedder, paths, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda f: np.save(f, array, allow_pickle=False))
    sidecar = _sidecar(embedder, array.shape, paths)
    atomic_write(target.with_suffix(".json"), lambda f: f.write(sidecar))
    log.info("embedding cache written: %s", target)
    return array


def _canonical(key: Any) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)


def covering(embedder: Embedder, paths: Sequence[Path], cache_dir: Path) -> np.ndarray | None:
    """`embedder`'s cached embeddings of `paths` taken from a cached set of images that holds
    them all (`data.n_images=120` after a 600-image run of the same images), else None.

    An image is the same when its name, size and mtime are (as in the cache key); only caches
    whose sidecar lists its images (written by this version on) can serve."""
    wanted = [tuple(row) for row in image_fingerprint(paths)]
    key = _canonical(embedder.cache_key())
    folder = Path(cache_dir) / CACHE_SUBDIR
    sidecars = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for sidecar in sidecars:
        try:
            info = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or "images" not in info or _canonical(info.get("key")) != key:
            continue
        rows = {tuple(row): k for k, row in enumerate(info["images"])}
        if not all(w in rows for w in wanted):
            continue
        array = _load_valid(sidecar.with_suffix(".npy"), len(rows))
        if array is None:
            continue
        log.info(
            "embeddings of %d images taken from the cache of %d images (%s)",
            len(paths),
            len(rows),
            sidecar.stem[:16],
        )
        return np.ascontiguousarray(array[[rows[w] for w in wanted]])
    return None


def cached_embeddings(embedder: Embedder, paths: Sequence[Path], cache_dir: Path) -> np.ndarray:
    """`embedder.embed(paths)`, cached on disk: float32 (N, D). Concurrent callers with the same
    embedder and images extract once: the others wait for the lock and read the cache."""
    target = cache_path(embedder, paths, cache_dir)
    array = load_cached(target, len(paths))
    if array is not None:
        return array
    with extraction_lock(cache_dir, embedder.cache_key(), paths):
        array = load_cached(target, len(paths))  # written while this job waited
        if array is not None:
            return array
        subset = covering(embedder, paths, Path(cache_dir))
        if subset is not None:  # stored under its own key: the next run is a direct hit
            return store(embedder, subset, paths, cache_dir)
        log.info(
            "embedding cache miss: embedding %d images with %s (cached for later runs)",
            len(paths),
            embedder.describe().get("model") or type(embedder).__name__,
            extra=HEADLINE,
        )
        return store(embedder, embedder.embed(paths), paths, cache_dir)
