"""Image decoding (`load_images`) and per-image dominant pure colour (`dominant_colors`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from fmri_rdm.errors import ConfigError, DataError

log = logging.getLogger(__name__)

NO_COLOR = -1
# Files taken for images, in a dataset folder and in predict.py's: every format PIL decodes that
# an image set plausibly uses (Algonauts ships .png; new images for prediction may be any).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
_PROGRESS_MIN = 200  # show a progress bar above this many images
_PIXELS_PER_CHUNK = 1 << 16  # dominant_colors: pixels per run (its masks stay in cache)


_BACKGROUND = (255, 255, 255)  # what a transparent pixel becomes (as a viewer shows it)


def to_rgb(image: Image.Image) -> Image.Image:
    """An RGB copy of any PIL image, decoded in full.

    Palette, grayscale, CMYK and 1-bit images convert as PIL does; an alpha channel (RGBA, LA,
    a palette with transparency) is composited over white instead of being dropped (which
    would show whatever colour the transparent pixels happen to hold); 16-bit grayscale is
    scaled to 8 bits (PIL's own conversion saturates every value above 255 to white).
    """
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        if mode != "I" or values.max(initial=0) > 255:
            values = values / 257.0  # 0..65535 -> 0..255
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files of a folder, sorted by name: files with an image suffix, except hidden
    ones (`.DS_Store`, macOS `._name.png` resource forks); other files (`Thumbs.db`,
    `README.txt`) and sub-folders are skipped, and said so at debug level."""
    entries = sorted(Path(folder).iterdir())
    images = [
        p
        for p in entries
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    if len(images) < len(entries):
        skipped = [p.name for p in entries if p not in set(images)]
        log.debug("skipping %d non-image entries in %s: %s", len(skipped), folder, skipped[:5])
    return images


def _decode(path: str | os.PathLike[str], size: int | None, grayscale: bool) -> np.ndarray:
    try:
        with Image.open(path) as raw:
            img = to_rgb(raw)  # forces a full decode
            if grayscale:
                img = img.convert("L")
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


def _nearest_counts(flat: np.ndarray, rows: int, m0: np.ndarray) -> np.ndarray:
    """Pixels of each of `rows` equal-sized images in `flat` whose nearest pure colour is red,
    green, blue: (rows, 3) int64.

    `flat` is the images' interleaved RGB bytes, one contiguous uint8 run of L bytes. Every
    comparison runs on the whole run at once, against the run shifted by one or two bytes: at a
    pixel's first byte k = 3p, f[k], f[k+1], f[k+2] are its r, g, b, so "r > max(g, b)" is
    f[k] > max(f[k+1], f[k+2]) there. The other positions mix neighbouring pixels and are
    masked out by `m0` (True at k = 3p). All passes are contiguous SIMD byte operations; the
    per-image counts are popcounts of the masks read as uint64 words.
    """
    size = flat.shape[0]
    per_row = size // rows
    mx1 = np.maximum(flat[:-1], flat[1:])  # at 3p: max(r, g); at 3p + 1: max(g, b)
    mx2 = np.maximum(flat[:-2], flat[2:])  # at 3p: max(r, b)
    tests = ((flat[:-2], mx1[1:]), (flat[1:-1], mx2), (flat[2:], mx1[:-1]))  # r, g, b wins
    mask = np.zeros(size, dtype=bool)  # the last two bytes are never a pixel's first
    stride = -(-per_row // 8) * 8  # per-image rows padded to whole uint64 words
    padded = np.zeros((rows, stride), dtype=bool) if rows > 1 and stride != per_row else None
    counts = np.empty((rows, 3), dtype=np.int64)
    for c, (value, others) in enumerate(tests):
        np.greater(value, others, out=mask[: size - 2])
        mask[: size - 2] &= m0[: size - 2]
        if rows == 1:
            counts[0, c] = np.count_nonzero(mask)
            continue
        if padded is None:
            words = mask.view(np.uint64).reshape(rows, -1)
        else:
            padded[:, :per_row] = mask.reshape(rows, per_row)
            words = padded.view(np.uint64)
        counts[:, c] = np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    return counts


def dominant_colors(images: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """Per-image dominant pure colour, int8 (N,): -1 none, 0 red, 1 green, 2 blue.

    Each pixel of uint8 `images` (N, H, W, 3) goes to the nearest of (255,0,0), (0,255,0),
    (0,0,255) in RGB Euclidean distance (exact ties: no colour); an image gets the colour that
    holds a share >= `threshold` of its pixels.

    |p - 255 e_c|^2 = |p|^2 - 510 p_c + 255^2, so the nearest pure colour is the channel with
    the largest value and a tie in distance is exactly a tie in that maximum: exact uint8
    comparisons replace the distance arithmetic. Images are processed in runs of about
    `_PIXELS_PER_CHUNK` pixels, so that the byte masks stay in cache.
    """
    if images.ndim != 4 or images.shape[-1] != 3:
        raise DataError(f"dominant_colors needs RGB images (N, H, W, 3), got shape {images.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"threshold must lie in (0, 1], got {threshold}")
    n, h, w, _ = images.shape
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    hw = h * w
    if hw == 0:
        return np.full(n, NO_COLOR, dtype=np.int8)
    flat = np.ascontiguousarray(images, dtype=np.uint8).reshape(n, 3 * hw)
    counts = np.zeros((n, 3), dtype=np.int64)
    if hw >= _PIXELS_PER_CHUNK:  # large images: each one in pieces of whole pixels
        m0 = np.zeros(3 * _PIXELS_PER_CHUNK, dtype=bool)
        m0[::3] = True
        for k in range(n):
            for start in range(0, 3 * hw, 3 * _PIXELS_PER_CHUNK):
                piece = flat[k, start : start + 3 * _PIXELS_PER_CHUNK]
                counts[k] += _nearest_counts(piece, 1, m0)[0]
    else:  # small images: several whole images per run
        per_run = max(1, _PIXELS_PER_CHUNK // hw)
        m0 = np.zeros(3 * hw * per_run, dtype=bool)
        m0[::3] = True
        for start in range(0, n, per_run):
            run = flat[start : start + per_run]
            counts[start : start + run.shape[0]] = _nearest_counts(run.ravel(), run.shape[0], m0)
    share = counts / float(hw)
    best = share.argmax(axis=1)
    hit = share[np.arange(n), best] >= threshold
    return np.where(hit, best, NO_COLOR).astype(np.int8)
