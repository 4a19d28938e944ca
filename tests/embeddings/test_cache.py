"""The on-disk embedding cache: hits, misses on any key change, corruption, atomic writes."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fmri_rdm.embeddings import build_embeddings, cache_path, cached_embeddings
from fmri_rdm.embeddings.clip import ClipEmbedder

from .conftest import SMALL_MODEL, write_images


class FakeEmbedder:
    """Deterministic, instant embeddings from the file names; counts its calls."""

    backend = "fake"
    cacheable = True

    def __init__(self, scale: float = 1.0, delay: float = 0.0) -> None:
        self.scale, self.delay, self.calls = scale, delay, 0

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        self.calls += 1
        time.sleep(self.delay)
        seeds = [int(Path(p).stem.split("_")[-1]) for p in paths]
        return np.array([[s, s * self.scale, 1.0] for s in seeds], dtype=np.float32)

    def cache_key(self) -> dict[str, Any]:
        return {"backend": self.backend, "scale": self.scale}

    def describe(self) -> dict[str, Any]:
        return {"backend": "fake", "model": None, "pretrained": None, "random_init": False}


@pytest.fixture
def paths(tmp_path: Path) -> list[Path]:
    return write_images(tmp_path / "images", 4)


def _entries(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in (cache_dir / "embeddings").iterdir())


def test_miss_then_hit(paths: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache_dir, embedder = tmp_path / "cache", FakeEmbedder()
    with caplog.at_level(logging.INFO, logger="fmri_rdm.embeddings.cache"):
        first = cached_embeddings(embedder, paths, cache_dir)
        second = cached_embeddings(embedder, paths, cache_dir)
    assert embedder.calls == 1
    np.testing.assert_array_equal(first, second)
    assert "miss" in caplog.text and "hit" in caplog.text
    names = _entries(cache_dir)
    assert len(names) == 2 and names[0].endswith(".json") and names[1].endswith(".npy")
    assert cache_path(embedder, paths, cache_dir).name == names[1]


def test_any_key_change_recomputes(paths: list[Path], tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cached_embeddings(FakeEmbedder(scale=1.0), paths, cache_dir)
    other = FakeEmbedder(scale=2.0)
    out = cached_embeddings(other, paths, cache_dir)
    assert other.calls == 1 and out[1, 1] == 2.0
    again = FakeEmbedder(scale=1.0)
    cached_embeddings(again, paths[:3], cache_dir)  # a subset: taken from the cached rows
    assert again.calls == 0
    os.utime(paths[0], ns=(1, 1))  # an image changed on disk
    cached_embeddings(again, paths, cache_dir)
    assert again.calls == 1 and len(_entries(cache_dir)) == 8


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_shape"])
def test_damaged_file_is_recomputed_with_warning(
    paths: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    cache_dir, embedder = tmp_path / "cache", FakeEmbedder()
    good = cached_embeddings(embedder, paths, cache_dir)
    target = cache_path(embedder, paths, cache_dir)
    if damage == "garbage":
        target.write_bytes(b"definitely not npy")
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:-8])
    else:
        np.save(target, np.zeros((3, 3), np.float32))
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.embeddings.cache"):
        out = cached_embeddings(embedder, paths, cache_dir)
    assert embedder.calls == 2 and "recomputing" in caplog.text
    np.testing.assert_array_equal(out, good)
    np.testing.assert_array_equal(np.load(target), good)  # repaired on disk


def test_interrupted_write_leaves_nothing(
    paths: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_write(f: Any, array: np.ndarray, **kwargs: Any) -> None:
        f.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", half_write)
    with pytest.raises(KeyboardInterrupt):
        cached_embeddings(FakeEmbedder(), paths, tmp_path / "cache")
    assert _entries(tmp_path / "cache") == []  # no .npy, no temp file


def _worker(paths: list[Path], cache_dir: Path, queue: Any) -> None:
    queue.put(cached_embeddings(FakeEmbedder(delay=0.3), paths, cache_dir).tolist())


def test_two_concurrent_writers(paths: list[Path], tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(paths, tmp_path / "c", queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert results[0] == results[1]
    names = _entries(tmp_path / "c")
    assert len(names) == 2 and not any(n.endswith(".tmp") for n in names)


def test_clip_cache_hit_is_fast_and_loads_no_model(images: list[Path], tmp_path: Path) -> None:
    make = lambda: ClipEmbedder(SMALL_MODEL, pretrained=None, num_workers=0, device="cpu")  # noqa: E731
    first = build_embeddings(make(), images, tmp_path)
    fresh = make()
    start = time.perf_counter()
    second = build_embeddings(fresh, images, tmp_path)
    assert time.perf_counter() - start < 1.0
    assert fresh._loaded is None  # the hit never created the model
    np.testing.assert_array_equal(first, second)
    changed = ClipEmbedder(SMALL_MODEL, None, normalize=False, num_workers=0, device="cpu")
    assert cache_path(changed, images, tmp_path) != cache_path(fresh, images, tmp_path)


def test_a_subset_of_cached_images_is_not_embedded_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`data.n_images=120` after a 600-image run: the rows of the cached set, in the order
    asked, equal to embedding them afresh; an image the cache lacks embeds everything asked."""
    paths = write_images(tmp_path / "images", 6)
    cache_dir, embedder = tmp_path / "cache", FakeEmbedder()
    full = cached_embeddings(embedder, paths, cache_dir)
    subset = [paths[4], paths[1], paths[2]]
    with caplog.at_level(logging.INFO, logger="fmri_rdm.embeddings.cache"):
        taken = cached_embeddings(embedder, subset, cache_dir)
    assert embedder.calls == 1
    assert "embeddings of 3 images taken from the cache of 6 images" in caplog.text
    np.testing.assert_array_equal(taken, full[[4, 1, 2]])
    np.testing.assert_array_equal(taken, FakeEmbedder().embed(subset))
    cached_embeddings(embedder, subset, cache_dir)  # now a direct hit on its own entry
    assert embedder.calls == 1
    extra = write_images(tmp_path / "more", 7)[6]  # not in any cached set
    cached_embeddings(embedder, [paths[0], extra], cache_dir)
    assert embedder.calls == 2
    other = FakeEmbedder(scale=3.0)  # another model: never served from the first one's rows
    cached_embeddings(other, subset, cache_dir)
    assert other.calls == 1
