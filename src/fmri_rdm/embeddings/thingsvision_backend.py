"""Activations of any module of an open_clip model, read through thingsvision.

thingsvision's own `get_extractor('OpenCLIP', ...)` always downloads weights (and needs the `clip`
package), so the model is built here by open_clip (tag, local checkpoint or random init, exactly
as the clip backend does) and handed to `get_extractor_from_model`. Module names are those of the
whole CLIP model: 'visual' (= encode_image), 'visual.transformer.resblocks.6', ...
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import io
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from fmri_rdm.embeddings.base import autocast, check_paths, device_batches, make_loader
from fmri_rdm.embeddings.clip import OpenClipEmbedder
from fmri_rdm.errors import ConfigError, EmbeddingError

log = logging.getLogger(__name__)


def _encode_image(extractor: Any, batch: torch.Tensor) -> torch.Tensor:
    """thingsvision forward_fn (bound as a method): run the image tower only."""
    return extractor.model.encode_image(batch)


def _flatten(extractor: Any, act: torch.Tensor) -> torch.Tensor:
    """thingsvision flatten_fn (bound as a method): (B, ...) -> (B, P); reshape, not view,
    because hooked activations may be non-contiguous."""
    return act.reshape(act.shape[0], -1)


class _Batches:
    """Re-iterable batches with len(), as thingsvision's extract_features requires.

    thingsvision first calls next(iter(batches)) to sniff the batch format and throws that
    iterator away; with a DataLoader that would start the workers and decode the first batches
    twice. Here the sniffed batch is kept and the next iteration continues from it.
    """

    def __init__(self, loader: DataLoader[Any], device: torch.device) -> None:
        self.loader, self.device = loader, device
        self._pending: tuple[torch.Tensor, Iterator[torch.Tensor]] | None = None

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self._pending is not None:
            first, rest = self._pending
            self._pending = None
            yield first
            yield from rest
            return
        # thingsvision draws its own progress bar (batches), so none here.
        rest = device_batches(self.loader, self.device, desc=None)
        head = next(rest, None)
        if head is None:
            return
        self._pending = (head, rest)
        yield head
        # Reached only when the consumer keeps iterating: it gets the batches it asked for.
        self._pending = None
        yield from rest


def _import_thingsvision() -> Any:
    from fmri_rdm.embeddings import _thingsvision_compat

    _thingsvision_compat.apply()
    try:
        import thingsvision
    except ImportError as e:
        raise EmbeddingError(
            f"cannot import thingsvision ({e}); install it with "
            "`pip install --no-deps thingsvision==2.7.3` (see Makefile)"
        ) from e
    return thingsvision


class ThingsvisionEmbedder(OpenClipEmbedder):
    """Activations of `module_name` of an open_clip model: float32 (N, D), L2-normalised by default.

    `flatten_acts=True` turns (N, tokens, width) activations into (N, tokens*width); with False the
    module must already give (N, D).
    """

    backend = "thingsvision"

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        pretrained: str | None = "openai",
        module_name: str = "visual",
        flatten_acts: bool = True,
        normalize: bool = True,
        batch_size: int = 64,
        num_workers: int = 2,
        device: str = "auto",
        offline: bool = False,
    ) -> None:
        super().__init__(
            model_name, pretrained, normalize, batch_size, num_workers, device, offline
        )
        self.module_name = module_name
        self.flatten_acts = bool(flatten_acts)

    def cache_key(self) -> dict[str, Any]:
        return {**super().cache_key(), "module": self.module_name, "flatten": self.flatten_acts}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "module": self.module_name, "flatten": self.flatten_acts}

    def _check_module(self, model: torch.nn.Module) -> None:
        names = [name for name, _ in model.named_modules() if name]
        if self.module_name not in names:
            close = difflib.get_close_matches(self.module_name, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"{self.model_name} has no module {self.module_name!r} "
                f"(e.g. 'visual', 'visual.transformer.resblocks.6'){hint}"
            )

    def _extractor(self, model: torch.nn.Module) -> Any:
        thingsvision = _import_thingsvision()
        # thingsvision print()s its device choice; keep stdout for the user's own output.
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            extractor = thingsvision.get_extractor_from_model(
                model=model,
                device=str(self.device),
                backend="pt",
                forward_fn=_encode_image,
                flatten_fn=_flatten,
            )
        log.debug("thingsvision: %s", printed.getvalue().strip())
        return extractor

    def for_module(self, module_name: str) -> ThingsvisionEmbedder:
        """The same model, weights and settings read at `module_name` (sharing the loaded
        model): the embedder whose cache key a layer of a one-pass extraction is stored under."""
        other = copy.copy(self)
        other.module_name = str(module_name)
        return other

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """Embed images in order: (N,) paths -> float32 (N, D)."""
        return self.embed_modules(paths, [self.module_name])[self.module_name]

    def embed_modules(self, paths: Sequence[Path], module_names: Sequence[str]) -> dict[str, Any]:
        """Several modules in one forward pass over the images: {module: float32 (N, D_m)},
        each exactly what `for_module(module).embed(paths)` gives (hooks on every module)."""
        names = list(dict.fromkeys(str(m) for m in module_names))  # unique, in order
        checked = check_paths(paths)
        model, preprocess = self.load()
        for name in names:
            self.for_module(name)._check_module(model)
        extractor = self._extractor(model)
        start = time.perf_counter()
        pin = self.device.type == "cuda"
        loader = make_loader(checked, preprocess, self.batch_size, self.num_workers, pin)
        batches = _Batches(loader, self.device)
        with (
            contextlib.redirect_stdout(io.StringIO()),
            torch.inference_mode(),
            autocast(self.device),
        ):
            # 'tensor' output: bf16 activations (CUDA autocast) have no numpy dtype.
            features = extractor.extract_features(
                batches=batches,
                module_names=names,
                flatten_acts=self.flatten_acts,
                output_type="tensor",
            )
        out = {}
        for name in names:
            layer = features[name]
            if layer.ndim != 2:
                raise ConfigError(
                    f"module {name!r} gives activations of shape "
                    f"{tuple(layer.shape)}; set embeddings.flatten_acts=true"
                )
            out[name] = self._finish(layer.float().cpu().numpy(), len(checked), start, name)
        return out
