"""Procedural scenes for the synthetic dataset, and the image features its responses use.

Every drawing step is a whole-image numpy expression over the pixel grid (no pixel loops).
Coordinates are in [0, 1): x to the right, y downwards (small y = upper visual field).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from fmri_rdm.runtime.threads import available_cores

CATEGORIES = ("faces", "bodies", "places", "words")
N_ORIENT = 4  # orientation channels of the contrast-energy features
GRID = 16  # contrast energy is pooled on a GRID x GRID grid of image blocks
N_COLOR = 8  # 6 saturation-weighted hue bins, mean saturation, mean value
OBJ_GRID = 4  # object masks are pooled on an OBJ_GRID x OBJ_GRID grid (coarse position)
N_OBJECT = OBJ_GRID * OBJ_GRID + 1  # per category: area fraction per coarse cell, sqrt(area)

T = TypeVar("T")
Grid = tuple[np.ndarray, np.ndarray]  # yy, xx: (S, S) pixel-centre coordinates


@dataclass(frozen=True)
class SceneSet:
    """Rendered scenes: `images` uint8 (N, S, S, 3); `tint` int8 (N,) planted colour (-1 none,
    0 red, 1 green, 2 blue); `areas` (N, 4) visible area fraction per category;
    `objects` (N, 4, N_OBJECT) object features."""

    images: np.ndarray
    tint: np.ndarray
    areas: np.ndarray
    objects: np.ndarray


def _smooth_field(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth random field (S, S): a (cells+1)^2 Gaussian lattice, bilinearly upsampled."""
    coarse = rng.standard_normal((cells + 1, cells + 1))
    t = np.linspace(0.0, cells, size, endpoint=False)
    i0 = t.astype(np.int64)
    f = t - i0
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]
    return rows[:, i0] * (1 - f) + rows[:, i0 + 1] * f


def _ellipse(g: Grid, cx: float, cy: float, rx: float, ry: float, angle: float = 0.0) -> np.ndarray:
    yy, xx = g
    c, s = np.cos(angle), np.sin(angle)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def _background(rng: np.random.Generator, g: Grid) -> np.ndarray:
    """Textured background (S, S, 3): smooth luminance, spatially varying hue, fine grain."""
    size = g[0].shape[0]
    lum = 0.5 + 0.12 * _smooth_field(rng, size, int(rng.integers(2, 6)))
    lum += 0.04 * _smooth_field(rng, size, 24) + 0.02 * rng.standard_normal((size, size))
    # Each channel gets its own smooth field, so no single hue dominates an untinted image.
    chroma = np.stack([_smooth_field(rng, size, 3) for _ in range(3)], axis=-1)
    return lum[..., None] + 0.08 * chroma


def _gratings(rng: np.random.Generator, img: np.ndarray, g: Grid) -> None:
    """Add 1-3 windowed gratings or edges (square waves) at random places and orientations."""
    yy, xx = g
    for _ in range(int(rng.integers(1, 4))):
        theta, phase = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        freq = rng.uniform(3, 20)  # cycles per image
        cx, cy, radius = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.08, 0.3)
        wave = np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)) + phase)
        if rng.random() < 0.4:
            wave = np.sign(wave)
        window = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
        img += (rng.uniform(0.15, 0.45) * window * wave)[..., None]


def _face(rng: np.random.Generator, img: np.ndarray, g: Grid) -> np.ndarray:
    cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.07, 0.2)
    head = _ellipse(g, cx, cy, r, 1.15 * r)
    img[head] = rng.uniform([0.55, 0.35, 0.25], [0.95, 0.75, 0.6])
    for dx in (-0.38 * r, 0.38 * r):
        img[_ellipse(g, cx + dx, cy - 0.2 * r, 0.14 * r, 0.1 * r)] = 0.05
    img[_ellipse(g, cx, cy + 0.5 * r, 0.4 * r, 0.07 * r)] = (0.45, 0.1, 0.1)
    return head


def _body(rng: np.random.Generator, img: np.ndarray, g: Grid) -> np.ndarray:
    cx, cy, s = rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.65), rng.uniform(0.1, 0.28)
    spread, stance = rng.uniform(0.3, 0.9), rng.uniform(0.0, 0.35)
    parts = [
        _ellipse(g, cx, cy, 0.22 * s, 0.45 * s),  # torso
        _ellipse(g, cx - 0.33 * s, cy, 0.07 * s, 0.42 * s, -spread),  # arms
        _ellipse(g, cx + 0.33 * s, cy, 0.07 * s, 0.42 * s, spread),
        _ellipse(g, cx - 0.13 * s, cy + 0.75 * s, 0.08 * s, 0.45 * s, stance),  # legs
        _ellipse(g, cx + 0.13 * s, cy + 0.75 * s, 0.08 * s, 0.45 * s, -stance),
    ]
    body = np.logical_or.reduce(parts)
    img[body] = rng.uniform(0.05, 0.9, 3)
    head = _ellipse(g, cx, cy - 0.62 * s, 0.17 * s, 0.19 * s)
    img[head] = rng.uniform([0.55, 0.35, 0.25], [0.95, 0.75, 0.6])
    return body | head


def _place(rng: np.random.Generator, img: np.ndarray, g: Grid) -> np.ndarray:
    """Ground plane below a horizon, perspective lines to a vanishing point, a box building."""
    yy, xx = g
    hy, vx = rng.uniform(0.35, 0.7), rng.uniform(0.2, 0.8)
    ground = yy > hy
    shade = 0.6 + 0.4 * (yy - hy) / (1 - hy)  # nearer ground is brighter
    img[ground] = (rng.uniform(0.2, 0.7, 3) * shade[ground][:, None]).astype(img.dtype)
    angles = rng.uniform(0.15, np.pi - 0.15, int(rng.integers(4, 9)))[:, None, None]
    dist = np.abs((xx - vx) * np.sin(angles) - (yy - hy) * np.cos(angles))  # (k, S, S)
    img[np.any(dist < 0.006, axis=0) & ground] = 0.1
    x0, w, h = rng.uniform(0.0, 0.6), rng.uniform(0.15, 0.4), rng.uniform(0.15, 0.3)
    box = (xx > x0) & (xx < x0 + w) & (yy > hy - h) & (yy <= hy)
    img[box] = rng.uniform(0.3, 0.8, 3)
    cell = rng.uniform(0.03, 0.06)
    windows = box & ((xx - x0) % cell < 0.5 * cell) & ((yy - hy + h) % cell < 0.5 * cell)
    img[windows] = 0.15
    return ground | box


def _words(rng: np.random.Generator, img: np.ndarray, g: Grid) -> np.ndarray:
    """A light sign holding rows of small dark bars (letters)."""
    yy, xx = g
    n_rows, row_h, cell_w = (
        int(rng.integers(1, 4)),
        rng.uniform(0.035, 0.06),
        rng.uniform(0.02, 0.035),
    )
    w, h = rng.uniform(0.2, 0.5), n_rows * row_h
    left, top = rng.uniform(0.02, 0.98 - w), rng.uniform(0.02, 0.98 - h)
    sign = (xx >= left) & (xx < left + w) & (yy >= top) & (yy < top + h)
    img[sign] = rng.uniform(0.8, 1.0)
    u, v = (xx - left) / cell_w, (yy - top) / row_h
    letters = rng.random((n_rows, int(w / cell_w) + 1)) < 0.8  # which letter cells are inked
    inked = letters[
        np.clip(v.astype(np.int64), 0, n_rows - 1),
        np.clip(u.astype(np.int64), 0, letters.shape[1] - 1),
    ]
    bars = sign & inked & (u % 1 > 0.2) & (u % 1 < 0.65) & (v % 1 > 0.25) & (v % 1 < 0.75)
    img[bars] = 0.05
    return sign


_PAINTERS: dict[str, Callable[[np.random.Generator, np.ndarray, Grid], np.ndarray]] = {
    "faces": _face,
    "bodies": _body,
    "places": _place,
    "words": _words,
}


def _object_features(visible: np.ndarray) -> tuple[float, np.ndarray]:
    """Area fraction and (N_OBJECT,) features (coarse area map, sqrt area) of a mask (S, S)."""
    area = float(visible.mean())
    if area < 0.002:  # a few pixels left after occlusion: the object is not there
        return 0.0, np.zeros(N_OBJECT)
    b = visible.shape[0] // OBJ_GRID
    cells = (
        visible[: b * OBJ_GRID, : b * OBJ_GRID].reshape(OBJ_GRID, b, OBJ_GRID, b).mean(axis=(1, 3))
    )
    return area, np.append(cells.ravel(), np.sqrt(area))


def render_scenes(rng: np.random.Generator, n: int, size: int, p_object: float = 0.4) -> SceneSet:
    """Render `n` scenes of size x size; a ninth of them each tinted red, green and blue."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    g: Grid = ((yy + 0.5) / size, (xx + 0.5) / size)
    k = round(n / 9)
    tint = np.full(n, -1, dtype=np.int8)
    tint[rng.permutation(n)[: 3 * k]] = np.repeat(np.arange(3, dtype=np.int8), k)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    areas, objects = np.zeros((n, len(CATEGORIES))), np.zeros((n, len(CATEGORIES), N_OBJECT))
    for i in range(n):  # one scene at a time; each drawing step is vectorized over pixels
        img = _background(rng, g)
        _gratings(rng, img, g)
        present = [c for c in CATEGORIES if rng.random() < p_object]
        rest = rng.permutation([c for c in present if c != "places"]).tolist()
        order = ["places"] * ("places" in present) + rest  # a place is scenery: painted first
        painted = {c: _PAINTERS[c](rng, img, g) for c in order}
        for j, c in enumerate(order):  # later objects occlude earlier ones
            later = [painted[o] for o in order[j + 1 :]]
            visible = painted[c] & ~np.logical_or.reduce(later) if later else painted[c]
            c_idx = CATEGORIES.index(c)
            areas[i, c_idx], objects[i, c_idx] = _object_features(visible)
        if tint[i] >= 0:  # pure-ish colour over a faint copy of the scene (objects stay visible)
            keep = rng.uniform(0.15, 0.35)
            img = (
                keep * np.clip(img, 0, 1) + (1 - keep) * rng.uniform(0.75, 1.0) * np.eye(3)[tint[i]]
            )
        images[i] = np.round(np.clip(img, 0.0, 1.0) * 255)
    return SceneSet(images, tint, areas, objects)


def _contrast_energy(lum: np.ndarray) -> np.ndarray:
    """Oriented contrast energy (GRID, GRID, N_ORIENT) of one luminance image (S, S)."""
    gy, gx = np.gradient(lum)
    theta = np.arange(N_ORIENT) * np.pi / N_ORIENT
    energy = (gx[..., None] * np.cos(theta) + gy[..., None] * np.sin(theta)) ** 2
    b = lum.shape[0] // GRID  # block side; a remainder strip at the edge is ignored
    pooled = energy[: b * GRID, : b * GRID].reshape(GRID, b, GRID, b, N_ORIENT).mean(axis=(1, 3))
    return np.sqrt(pooled)  # compressive, like contrast-response saturation


def _color_features(rgb: np.ndarray) -> np.ndarray:
    """(N_COLOR,): saturation-weighted hue histogram (6 bins), mean saturation, mean value."""
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    delta = mx - mn
    sat = np.where(mx > 0, delta / np.maximum(mx, 1e-6), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    d = np.maximum(delta, 1e-6)
    hue = np.where(mx == r, ((g - b) / d) % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4))
    bins = np.clip(hue.astype(np.int64), 0, 5)
    hist = np.bincount(bins.ravel(), weights=sat.ravel(), minlength=6) / sat.size
    return np.concatenate([hist, [sat.mean(), mx.mean()]])


def _pixel_features(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Early (n, GRID*GRID*N_ORIENT) and colour (n, N_COLOR) features of images (n, S, S, 3)."""
    n = images.shape[0]
    early = np.empty((n, GRID * GRID * N_ORIENT), dtype=np.float32)
    color = np.empty((n, N_COLOR), dtype=np.float32)
    for i in range(n):  # one image at a time bounds memory; each step is vectorized
        rgb = images[i].astype(np.float32) / 255.0
        early[i] = _contrast_energy(rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).ravel()
        color[i] = _color_features(rgb)
    return early, color


def image_features(scenes: SceneSet, workers: int | None = None) -> dict[str, np.ndarray]:
    """Feature groups (N, D) float32: early (GRID*GRID*N_ORIENT), color, one per category.

    Images are independent, so chunks of them run on `workers` threads (default: the cores
    this process may use); numpy releases the GIL in the array work, and the result is the
    same whatever the number of threads.
    """
    images = scenes.images
    parts = map_image_chunks(_pixel_features, images, workers)
    groups = {
        "early": np.concatenate([p[0] for p in parts]),
        "color": np.concatenate([p[1] for p in parts]),
    }
    for c_idx, c in enumerate(CATEGORIES):
        groups[c] = scenes.objects[:, c_idx].astype(np.float32)
    return groups


def map_image_chunks(
    fn: Callable[[np.ndarray], T], images: np.ndarray, workers: int | None
) -> list[T]:
    """`fn` over consecutive chunks of `images` (n, ...) on a thread pool; results in order.
    The work per image is array code or compression that releases the GIL, so threads scale
    where the generator runs on many cores (a full-size subject on a GPU node)."""
    workers = available_cores() if workers is None else max(1, int(workers))
    n_chunks = max(1, min(len(images), 4 * workers))
    chunks = np.array_split(images, n_chunks) if len(images) else [images]
    if workers == 1 or n_chunks == 1:
        return [fn(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, chunks))
