"""Image embeddings: backends (`clip`, `thingsvision`, `file`, `pixels`), an on-disk cache,
`embedding_rdm`.

Training code:
    embedder = embedder_for(cfg)   # conf/embeddings/*.yaml, or pixels for `model.input: pixels`
    X = build_embeddings(embedder, image_paths, cache_dir)   # float32 (N, D) / uint8 pixels
    layers = extract_layers(embedder, image_paths, ["visual.transformer.resblocks.3", "visual"],
                            cache_dir)   # thingsvision: several layers in one pass (layers.py)
    metrics["embeddings"] = embedder.describe()
Prediction on new images uses the same call with the run's saved `embeddings` config: the same
model, weights, layer and preprocessing, hence the same embedding space (the file backend can only
serve images its file has rows for).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.embeddings.base import Embedder
from fmri_rdm.embeddings.cache import cache_path, cached_embeddings, load_cached
from fmri_rdm.embeddings.clip import ClipEmbedder
from fmri_rdm.embeddings.file import FileEmbedder
from fmri_rdm.embeddings.layers import extract_layers, swept_layers
from fmri_rdm.embeddings.pixels import PixelEmbedder
from fmri_rdm.errors import ConfigError, DataError, FmriRdmError

log = logging.getLogger(__name__)

__all__ = [
    "ClipEmbedder",
    "Embedder",
    "FileEmbedder",
    "PixelEmbedder",
    "ThingsvisionEmbedder",
    "build_embeddings",
    "cache_path",
    "cached_embeddings",
    "embedder_for",
    "embedding_rdm",
    "extract_layers",
    "instantiate_embedder",
]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing this package never imports thingsvision (and its TF shim).
    if name == "ThingsvisionEmbedder":
        from fmri_rdm.embeddings.thingsvision_backend import ThingsvisionEmbedder

        return ThingsvisionEmbedder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def instantiate_embedder(cfg: Any) -> Embedder:
    """Hydra-instantiate `cfg` (a node with `_target_`); our errors come out unwrapped."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        embedder = instantiate(cfg)
    except InstantiationException as e:
        if isinstance(e.__cause__, FmriRdmError):
            raise e.__cause__ from None
        raise ConfigError(f"cannot build the embedder: {' '.join(str(e).split())}") from e
    if not isinstance(embedder, Embedder):
        raise ConfigError(f"embeddings._target_ built a {type(embedder).__name__}, not an embedder")
    return embedder


def embedder_for(cfg: Any) -> Embedder:
    """The backend a run's model reads: `model.input: pixels` (the Siamese CNN) gets the images
    at the model's size and colour, every other model the configured `embeddings`."""
    model = cfg.model
    if model.get("input", "embeddings") == "pixels":
        net = model.get("net") or model  # runs made before `model.net` kept the keys flat
        return PixelEmbedder(int(net.image_size), int(net.in_channels))
    return instantiate_embedder(cfg.embeddings)


def build_embeddings(
    embedder: Embedder, paths: Sequence[Path], cache_dir: Path | None
) -> np.ndarray:
    """Embeddings of `paths`, float32 (N, D) (uint8 (N, C, H, W) from `pixels`): cached under
    `cache_dir` unless the backend reads a file already or decodes pixels (or cache_dir is
    None)."""
    if cache_dir is None or not getattr(embedder, "cacheable", True):
        return embedder.embed(paths)
    layers = swept_layers(embedder)  # a layer sweep: every swept layer in one pass, cached
    if layers:
        own = load_cached(cache_path(embedder, paths, cache_dir), len(paths))
        if own is not None:  # the usual case for every job but the first
            return own
        try:
            return extract_layers(embedder, paths, layers, Path(cache_dir))[layers[0]]
        except ConfigError as err:  # another job's layer is wrong: that job will say so
            log.warning("layer sweep: %s; extracting %s alone", err, layers[0])
    return cached_embeddings(embedder, paths, Path(cache_dir))


def embedding_rdm(embeddings: np.ndarray, metric: str) -> np.ndarray:
    """Dissimilarities between embeddings, (N, D) -> condensed float32 (N*(N-1)/2,) in scipy
    pdist order: the zero-training baseline, same metric as the brain RDM."""
    from fmri_rdm.rsa.rdm import compute_rdm

    if embeddings.ndim != 2 or embeddings.shape[0] < 2:
        raise DataError(f"embedding_rdm needs (N >= 2, D) embeddings, got {embeddings.shape}")
    return compute_rdm(embeddings, metric)
