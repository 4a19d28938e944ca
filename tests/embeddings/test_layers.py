"""Several layers in one forward pass: equal to each layer read alone, cached under each
layer's own key, extracted once by concurrent jobs, chosen from the sweep's overrides."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from fmri_rdm.embeddings import build_embeddings, cached_embeddings, extract_layers
from fmri_rdm.embeddings import layers as layers_lib
from fmri_rdm.embeddings.thingsvision_backend import ThingsvisionEmbedder
from fmri_rdm.errors import ConfigError
from fmri_rdm.runtime.sweep import Sweep

from .conftest import SMALL_MODEL

BLOCKS = ["visual.transformer.resblocks.1", "visual.transformer.resblocks.3", "visual"]


def _tv(module_name: str = "visual") -> ThingsvisionEmbedder:
    return ThingsvisionEmbedder(
        SMALL_MODEL, pretrained=None, module_name=module_name, batch_size=4, num_workers=0,
        device="cpu",
    )  # fmt: skip


def _hooked_reference(embedder: ThingsvisionEmbedder, paths: list[Path], block: int) -> Any:
    """Plain torch, no thingsvision: a forward hook on the block, flattened, L2-normalised
    in float64."""
    from PIL import Image

    model, preprocess = embedder.load()
    seen: list[torch.Tensor] = []
    handle = model.visual.transformer.resblocks[block].register_forward_hook(
        lambda module, args, out: seen.append(out.detach().clone())
    )
    try:
        batch = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in paths])
        with torch.inference_mode():
            model.encode_image(batch)
    finally:
        handle.remove()
    flat = seen[0].reshape(len(paths), -1).double().numpy()
    return flat / np.linalg.norm(flat, axis=1, keepdims=True)


def test_one_pass_equals_each_layer_alone(images: list[Path]) -> None:
    embedder = _tv()
    out = extract_layers(embedder, images, BLOCKS)
    assert list(out) == BLOCKS
    for name in BLOCKS:
        assert out[name].dtype == np.float32
        np.testing.assert_allclose(out[name], _tv(name).embed(images), atol=1e-5)
    np.testing.assert_allclose(out[BLOCKS[1]], _hooked_reference(embedder, images, 3), atol=1e-5)
    with pytest.raises(ConfigError, match="did you mean"):
        extract_layers(embedder, images, ["visual.transformer.resblock.3"])


def test_layers_are_cached_under_each_single_layer_key(images, tmp_path, monkeypatch) -> None:
    calls: list[list[str]] = []
    real = ThingsvisionEmbedder.embed_modules

    def spy(self: ThingsvisionEmbedder, paths: Sequence[Path], names: Sequence[str]) -> Any:
        calls.append(list(names))
        return real(self, paths, names)

    monkeypatch.setattr(ThingsvisionEmbedder, "embed_modules", spy)
    first = extract_layers(_tv(), images, BLOCKS[:2], tmp_path)
    assert calls == [BLOCKS[:2]]  # one pass for both
    alone = cached_embeddings(_tv(BLOCKS[1]), images, tmp_path)  # a single-layer run: a hit
    assert calls == [BLOCKS[:2]]
    np.testing.assert_array_equal(alone, first[BLOCKS[1]])
    again = extract_layers(_tv(), images, BLOCKS, tmp_path)
    assert calls == [BLOCKS[:2], ["visual"]]  # only the layer not cached yet
    np.testing.assert_array_equal(again[BLOCKS[0]], first[BLOCKS[0]])


class _SlowLayers:
    """A layered embedder whose pass takes a while and counts itself (no network needed)."""

    cacheable = True
    passes: ClassVar[list[list[str]]] = []

    def __init__(self, module_name: str = "a") -> None:
        self.module_name = module_name

    def for_module(self, module_name: str) -> _SlowLayers:
        other = copy.copy(self)
        other.module_name = module_name
        return other

    def cache_key(self) -> dict[str, Any]:
        return {"backend": "slow", "model": "m", "module": self.module_name}

    def describe(self) -> dict[str, Any]:
        return self.cache_key()

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        return self.embed_modules(paths, [self.module_name])[self.module_name]

    def embed_modules(self, paths: Sequence[Path], names: Sequence[str]) -> dict[str, Any]:
        _SlowLayers.passes.append(list(names))
        time.sleep(0.3)
        return {n: np.full((len(paths), 2), ord(n[0]), np.float32) for n in names}


def test_concurrent_jobs_extract_once(images, tmp_path) -> None:
    _SlowLayers.passes = []
    results: dict[str, Any] = {}

    def job(name: str) -> None:
        results[name] = extract_layers(_SlowLayers(name), images, ["a", "b"], tmp_path)[name]

    threads = [threading.Thread(target=job, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_SlowLayers.passes) == 1  # the second job waited, then read the cache
    assert results["a"][0, 0] == ord("a") and results["b"][0, 0] == ord("b")


def test_a_layer_sweep_extracts_every_swept_layer_in_the_first_job(images, tmp_path, monkeypatch):
    _SlowLayers.passes = []
    overrides = ("embeddings=thingsvision", "embeddings.module_name=b,a,c", "seed=1")
    sweep = Sweep(tmp_path, job=1, n_jobs=3, overrides=overrides)
    monkeypatch.setattr("fmri_rdm.runtime.sweep.current_sweep", lambda: sweep)
    assert layers_lib.swept_layers(_SlowLayers("a")) == ["a", "b", "c"]
    assert layers_lib.swept_layers(_SlowLayers("z")) == []  # not this sweep's layer
    out = build_embeddings(_SlowLayers("a"), images, tmp_path)
    assert _SlowLayers.passes == [["a", "b", "c"]] and out[0, 0] == ord("a")
    build_embeddings(_SlowLayers("c"), images, tmp_path)  # the next job: a cache hit
    assert len(_SlowLayers.passes) == 1
    monkeypatch.setattr("fmri_rdm.runtime.sweep.current_sweep", lambda: None)
    assert layers_lib.swept_layers(_SlowLayers("a")) == []  # a single run: its layer only
