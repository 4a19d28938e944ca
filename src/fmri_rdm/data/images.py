"""Image decoding (`load_images`) and per-image dominant pure colour (`dominant_colors`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from fmri_rdm.errors import ConfigError, DataError

COLOR_NAMES: tuple[str, str, str] = ("red", "green", "blue")
NO_COLOR = -1
_PROGRESS_MIN = 200  # show a progress bar above this many images
_PIXELS_PER_CHUNK = 1 << 23  # dominant_colors works on ~8 M pixels at a time


def _decode(path: str | os.PathLike[str], size: int | None, grayscale: bool) -> np.ndarray:
    try:
        with Image.open(path) as raw:
            img = raw.convert("L" if grayscale else "RGB")  # forces a full decode
        if size is not None:
            img = img.resize((size, size), Image.Resampling.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"cannot decode image {path} ({' '.join(str(exc).split())[:120]}): the file is "
            "unreadable or truncated; replace it"
        ) from exc
    return arr[..., None] if grayscale else arr


def load_images(
    paths: Sequence[str | os.PathLike[str]], size: int | None = None, *, grayscale: bool = False
) -> np.ndarray:
    """Decode images into uint8 (N, H, W, C), C = 3 (RGB) or 1 (grayscale).

    With `size`, each image is resized (bilinear) to size x size; without it all images must
    already share one shape.
    """
    if size is not None and int(size) < 1:
        raise ConfigError(f"image size must be a positive number of pixels, got {size}")
    n = len(paths)
    if n == 0:
        channels = 1 if grayscale else 3
        return np.zeros((0, size or 0, size or 0, channels), dtype=np.uint8)
    out: np.ndarray | None = None
    bar = tqdm(paths, desc="loading images", unit="img", disable=n <= _PROGRESS_MIN)
    for k, path in enumerate(bar):  # one decode per file; the pixels themselves are vectorized
        arr = _decode(path, None if size is None else int(size), grayscale)
        if out is None:
            out = np.empty((n, *arr.shape), dtype=np.uint8)
        elif arr.shape != out.shape[1:]:
            raise DataError(
                f"image {path} is {arr.shape[1]}x{arr.shape[0]} but the first image is "
                f"{out.shape[2]}x{out.shape[1]}: pass size=... to resize them all"
            )
        out[k] = arr
    assert out is not None
    return out


def dominant_colors(images: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """Per-image dominant pure colour, int8 (N,): -1 none, 0 red, 1 green, 2 blue.

    Each pixel of uint8 `images` (N, H, W, 3) goes to the nearest of (255,0,0), (0,255,0),
    (0,0,255) in RGB Euclidean distance (exact ties: no colour); an image gets the colour that
    holds a share >= `threshold` of its pixels.
    """
    if images.ndim != 4 or images.shape[-1] != 3:
        raise DataError(f"dominant_colors needs RGB images (N, H, W, 3), got shape {images.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"threshold must lie in (0, 1], got {threshold}")
    n, h, w, _ = images.shape
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    counts = np.zeros((n, 3), dtype=np.int64)
    chunk = max(1, _PIXELS_PER_CHUNK // max(1, h * w))
    for start in range(0, n, chunk):  # chunks of images bound the boolean temporaries
        x = images[start : start + chunk].reshape(-1, h * w, 3)
        # |p - 255 e_c|^2 = |p|^2 - 510 p_c + 255^2, so the nearest pure colour is the channel
        # with the largest value and a tie in distance is exactly a tie in that maximum: exact
        # uint8 comparisons replace the distance arithmetic (no overflow, no int32 copies).
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        nearest = [(r > g) & (r > b), (g > r) & (g > b), (b > r) & (b > g)]
        counts[start : start + chunk] = np.stack([m.sum(axis=1) for m in nearest], axis=1)
    share = counts / float(h * w)
    best = share.argmax(axis=1)
    hit = share[np.arange(n), best] >= threshold
    return np.where(hit, best, NO_COLOR).astype(np.int8)
