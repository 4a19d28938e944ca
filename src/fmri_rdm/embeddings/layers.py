"""Several layers of one network in one forward pass: layer sweeps and scripts.

A layer sweep (`python train.py -m embeddings=thingsvision embeddings.module_name=A,B,C ...`)
would run the images through the same network once per job. Instead, the first job to need
one of those layers extracts every layer the sweep asks for (the values of
`embeddings.module_name` in the sweep directory's multirun.yaml) in one pass, and caches each
under its own key (the same key a single-layer run of that layer uses); the other jobs find
their layer in the cache. A lock per model and image set (`cache.extraction_lock`) makes jobs
that start together (joblib) wait for that one extraction instead of repeating it.

Scripts and notebooks: `extract_layers(embedder, paths, ["visual.transformer.resblocks.3",
"visual"], cache_dir)` -> {layer: float32 (N, D_layer)}.

Memory: the pass holds every requested layer at once, N x D x 4 bytes each (a flattened
ViT-B-32 block at 9841 images: 50 x 768 x 4 x 9841 = 1.5 GB per layer).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from fmri_rdm.embeddings.base import Embedder
from fmri_rdm.embeddings.cache import cache_path, extraction_lock, load_cached, store
from fmri_rdm.errors import ConfigError

log = logging.getLogger(__name__)

SWEPT_KEY = "embeddings.module_name"


class LayeredEmbedder(Embedder, Protocol):
    """An embedder that reads a named module and can read several in one pass."""

    module_name: str

    def for_module(self, module_name: str) -> LayeredEmbedder: ...

    def embed_modules(
        self, paths: Sequence[Path], module_names: Sequence[str]
    ) -> dict[str, np.ndarray]: ...


def is_layered(embedder: Any) -> bool:
    return all(hasattr(embedder, a) for a in ("module_name", "for_module", "embed_modules"))


def _model_key(embedder: LayeredEmbedder) -> dict[str, Any]:
    """The cache key without the layer: one lock for every layer of one model."""
    return {k: v for k, v in embedder.cache_key().items() if k != "module"}


def extract_layers(
    embedder: Embedder,
    paths: Sequence[Path],
    module_names: Sequence[str],
    cache_dir: Path | None = None,
) -> dict[str, np.ndarray]:
    """{layer: float32 (N, D_layer)} for every name in `module_names`, from one forward pass
    over the layers not cached yet (all of them when `cache_dir` is None)."""
    names = list(dict.fromkeys(str(m) for m in module_names))
    if not names:
        raise ConfigError("extract_layers needs at least one module name")
    if not is_layered(embedder):
        raise ConfigError(f"{type(embedder).__name__} cannot read named layers")
    layered = cast(LayeredEmbedder, embedder)
    if cache_dir is None:
        return layered.embed_modules(paths, names)
    layers = {name: layered.for_module(name) for name in names}
    found = _cached(layers, paths, Path(cache_dir))
    if len(found) == len(names):
        return {name: found[name] for name in names}
    with extraction_lock(Path(cache_dir), _model_key(layered), paths):
        found = _cached(layers, paths, Path(cache_dir))  # another job may have just written
        missing = [name for name in names if name not in found]
        if missing:
            log.info(
                "extracting %d layer(s) of %s in one pass: %s",
                len(missing),
                embedder.cache_key().get("model"),
                ", ".join(missing),
            )
            for name, array in layered.embed_modules(paths, missing).items():
                found[name] = store(layers[name], array, paths, Path(cache_dir))
    return {name: found[name] for name in names}


def _cached(layers: dict[str, Any], paths: Sequence[Path], cache_dir: Path) -> dict[str, Any]:
    """The layers already in the cache."""
    found = {}
    for name, layer in layers.items():
        array = load_cached(cache_path(layer, paths, cache_dir), len(paths))
        if array is not None:
            found[name] = array
    return found


def swept_layers(embedder: Any) -> list[str]:
    """The layers the current sweep asks this embedder's model for (this job's first), when
    it sweeps `embeddings.module_name` over several values including this job's; else []."""
    from fmri_rdm.runtime.sweep import current_sweep, swept_values

    if not is_layered(embedder):
        return []
    sweep = current_sweep()
    if sweep is None:
        return []
    values = swept_values(sweep.overrides, SWEPT_KEY) or []
    mine = str(embedder.module_name)
    if len(set(values)) < 2 or mine not in values:
        return []
    return [mine, *(v for v in dict.fromkeys(values) if v != mine)]


__all__ = ["LayeredEmbedder", "extract_layers", "is_layered", "swept_layers"]
