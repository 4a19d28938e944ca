"""What every embedding backend shares: the embedder protocol and the image-loading pipeline.

The pipeline is a torch DataLoader whose worker processes decode the PNG/JPEG files with PIL and
apply the model's own preprocessing, so the main process only runs the forward pass.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from fmri_rdm.data.images import to_rgb
from fmri_rdm.errors import ConfigError, DataError

log = logging.getLogger(__name__)

Transform = Callable[[Image.Image], torch.Tensor]


@runtime_checkable
class Embedder(Protocol):
    """An image embedder: Hydra instantiates one from `conf/embeddings/*.yaml`.

    `cacheable` is False for backends whose output is already on disk (the file backend).
    """

    cacheable: bool

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """Embed images, in order: float32 (N, D), N = len(paths) (uint8 (N, C, H, W) pixels)."""
        ...

    def cache_key(self) -> dict[str, Any]:
        """Everything that changes the output (JSON-serialisable)."""
        ...

    def describe(self) -> dict[str, Any]:
        """At least `backend`, `model`, `pretrained` (str or None) and `random_init`."""
        ...


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; anything else is passed to torch.device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(f"embeddings.device={device!r} is not a torch device ({e})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"embeddings.device={device!r} but CUDA is not available; use 'auto'")
    return resolved


def precision_tag(device: torch.device) -> str:
    """The numeric precision the forward pass runs in on `device` (part of the cache key)."""
    return "bf16-autocast" if device.type == "cuda" else "fp32"


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on CUDA only: on CPU, bf16 matmuls are slower than fp32 on most machines."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def check_paths(paths: Sequence[Path]) -> list[Path]:
    """Fail before any model is loaded if an image is missing."""
    checked = [Path(p) for p in paths]
    if not checked:
        raise DataError("no images to embed (empty path list)")
    missing = [p for p in checked if not p.is_file()]
    if missing:
        raise DataError(f"{len(missing)} image file(s) missing, first: {missing[0]}")
    return checked


class ImageDataset(Dataset[tuple[torch.Tensor | None, str]]):
    """Decodes one image per item; a failure is returned, not raised (see `_collate`)."""

    def __init__(self, paths: Sequence[Path], transform: Transform) -> None:
        self.paths = list(paths)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor | None, str]:
        path = self.paths[index]
        try:
            with Image.open(path) as image:
                return self.transform(to_rgb(image)), ""  # alpha, 16-bit: data.images
        except Exception as e:  # any decoder/transform failure is the file's fault
            return None, f"cannot read image {path}: {type(e).__name__}: {e}".replace("\n", " ")


def _collate(items: list[tuple[torch.Tensor | None, str]]) -> torch.Tensor | str:
    """Stack a batch, or return the first error message as a plain string.

    Raising inside a worker would reach the main process as a multi-line traceback text
    re-wrapped by torch; returning the message keeps the user's error one readable line.
    """
    for tensor, error in items:
        if tensor is None:
            return error
    return torch.stack([tensor for tensor, _ in items if tensor is not None])


def make_loader(
    paths: Sequence[Path], transform: Transform, batch_size: int, num_workers: int, pin: bool
) -> DataLoader[Any]:
    """A DataLoader over `paths` in order; batches are float tensors (B, 3, H, W)."""
    if batch_size < 1 or num_workers < 0:
        raise ConfigError(f"batch_size={batch_size} must be >= 1, num_workers={num_workers} >= 0")
    n_batches = -(-len(paths) // batch_size)
    # Idle workers cost a process start each; never start more than there are batches.
    workers = min(num_workers, n_batches)
    return DataLoader(
        ImageDataset(paths, transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=pin,
        prefetch_factor=4 if workers > 0 else None,
        multiprocessing_context=_worker_context() if workers > 0 else None,
    )


def _worker_context() -> Any:
    """The platform's standard start method, named explicitly: inside a joblib (loky) worker,
    e.g. a `hydra/launcher=joblib` job, the default context is loky's, which cannot start
    DataLoader workers ("'Process' object has no attribute 'env'")."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


def device_batches(
    loader: DataLoader[Any], device: torch.device, desc: str | None
) -> Iterator[torch.Tensor]:
    """Yield the loader's batches on `device`; a bad image -> DataError.

    A progress bar (images/s, on terminals only) unless `desc` is None.
    """
    total = len(loader.dataset)  # type: ignore[arg-type]
    off = None if desc is not None else True  # tqdm: None = auto (off when not a TTY)
    with tqdm(total=total, unit="img", desc=desc, disable=off, leave=False) as bar:
        for batch in loader:
            if isinstance(batch, str):
                raise DataError(batch)
            yield batch.to(device, non_blocking=True)
            bar.update(batch.shape[0])


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm: (N, D) -> (N, D); an all-zero row stays zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, np.finfo(x.dtype).tiny)).astype(np.float32, copy=False)
