"""CLIP image embeddings through open_clip: a pretrained tag, a local checkpoint, or random weights.

Where the weights come from (and the fast offline failure) is `weights.py`; this module turns a
loaded model into embeddings, and `OpenClipEmbedder` is shared with the thingsvision backend.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from fmri_rdm.embeddings.base import (
    Transform,
    autocast,
    check_paths,
    device_batches,
    l2_normalize,
    make_loader,
    precision_tag,
    resolve_device,
)
from fmri_rdm.embeddings.weights import (
    RANDOM_INIT_SEED,
    WeightSource,
    checkpoint_sha256,
    expected_preprocess,
    load_open_clip,
    quick_gelu_for,
    resolve_weights,
)

log = logging.getLogger(__name__)


class OpenClipEmbedder:
    """Shared by the open_clip-based backends: weights, device, describe() and cache_key()."""

    backend = "clip"
    cacheable = True

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        pretrained: str | None = "openai",
        normalize: bool = True,
        batch_size: int = 64,
        num_workers: int = 2,
        device: str = "auto",
        offline: bool = False,
    ) -> None:
        self.model_name = model_name
        self.pretrained = None if pretrained is None else str(pretrained)
        self.normalize = bool(normalize)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.device = resolve_device(device)
        self.offline = bool(offline)
        self._source: WeightSource | None = None
        self._loaded: tuple[torch.nn.Module, Transform] | None = None

    @property
    def source(self) -> WeightSource:
        if self._source is None:
            self._source = resolve_weights(self.model_name, self.pretrained)
            if self._source.kind == "random":
                # Here, not at model creation: a cache hit never creates the model.
                log.warning(
                    "%s has RANDOM weights (embeddings.pretrained=null, seed %d): not a "
                    "pretrained CLIP model",
                    self.model_name,
                    RANDOM_INIT_SEED,
                )
        return self._source

    def load(self) -> tuple[torch.nn.Module, Transform]:
        """Create the model once per embedder (random init warns on every run)."""
        if self._loaded is None:
            start = time.perf_counter()
            self._loaded = load_open_clip(self.model_name, self.source, self.device, self.offline)
            log.info("loaded %s in %.1f s", self.describe_weights(), time.perf_counter() - start)
        return self._loaded

    def describe_weights(self) -> str:
        src = self.source
        return f"{self.model_name} ({src.kind}{'' if src.value is None else ' ' + src.value})"

    def _weights_key(self) -> dict[str, Any]:
        src = self.source
        if src.kind == "checkpoint":
            assert src.value is not None
            return {"pretrained": "checkpoint", "checkpoint_sha256": checkpoint_sha256(src.value)}
        if src.kind == "random":
            return {"pretrained": None, "random_init_seed": RANDOM_INIT_SEED}
        return {"pretrained": src.value}

    def cache_key(self) -> dict[str, Any]:
        import open_clip

        return {
            "backend": self.backend,
            "model": self.model_name,
            **self._weights_key(),
            "quick_gelu": quick_gelu_for(self.model_name, self.source),
            "normalize": self.normalize,
            "preprocess": expected_preprocess(self.model_name, self.source),
            "precision": precision_tag(self.device),
            "open_clip": open_clip.__version__,
        }

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model_name,
            "pretrained": self.pretrained,
            "random_init": self.source.kind == "random",
            **{k: v for k, v in self._weights_key().items() if k != "pretrained"},
            "normalize": self.normalize,
            "device": str(self.device),
            "precision": precision_tag(self.device),
        }

    def _finish(
        self, features: np.ndarray, n_images: int, start: float, what: str = ""
    ) -> np.ndarray:
        """float32 (N, D), L2-normalised if asked; logs the throughput."""
        seconds = time.perf_counter() - start
        log.info(
            "%s: embedded %d images -> %s in %.1f s (%.1f img/s)",
            f"{self.backend} {what}".strip(),
            n_images,
            features.shape,
            seconds,
            n_images / max(seconds, 1e-9),
        )
        features = features.astype(np.float32, copy=False)
        return l2_normalize(features) if self.normalize else features


class ClipEmbedder(OpenClipEmbedder):
    """`encode_image` of an open_clip model. Outputs (N, D) float32, L2-normalised by default.

    For an OpenAI checkpoint given as a file path, name the model 'ViT-B-32-quickgelu' (the tag
    'openai' sets QuickGELU automatically).
    """

    backend = "clip"

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """Embed images in order: (N,) paths -> float32 (N, D)."""
        checked = check_paths(paths)
        model, preprocess = self.load()
        start = time.perf_counter()
        pin = self.device.type == "cuda"
        loader = make_loader(checked, preprocess, self.batch_size, self.num_workers, pin)
        encode = cast(Callable[[torch.Tensor], torch.Tensor], model.encode_image)
        chunks = []
        with torch.inference_mode(), autocast(self.device):
            for batch in device_batches(loader, self.device, f"clip {self.model_name}"):
                chunks.append(encode(batch).float().cpu())
        return self._finish(torch.cat(chunks).numpy(), len(checked), start)
