"""Plots that show the images themselves: extreme RDM pairs and colour-class examples."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmri_rdm.data.images import load_images
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.plots._base import binarization_threshold, new_figure
from fmri_rdm.plots.rdm_plots import check_rdm
from fmri_rdm.rsa.pairs import COLOR_NAMES, DEFAULT_COLORS
from fmri_rdm.rsa.rdm import check_metric, condensed_to_pairs

IMAGE_SIZE = 128  # pixels per side of the thumbnails
_GAP = 6  # white pixels between the two images of a pair
PathLike = str | os.PathLike[str]


def select_extreme_pairs(rdm: np.ndarray, metric: str, k: int = 3) -> dict[str, np.ndarray]:
    """Condensed positions of the k lowest, k closest-to-threshold and k highest values.

    The threshold is that of `binarize_rdm` (1 for correlation, the median for euclidean).
    Returns {"lowest": ascending d, "closest": ascending |d - threshold|, "highest": descending
    d}, each (min(k, L),) int64 (ties by position). argpartition, then a sort of k values.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rdm = np.asarray(rdm)
    length = rdm.shape[0]
    if length == 0:
        raise DataError("the RDM is empty (fewer than 2 images): no pairs to show")
    k = min(k, length)
    gap = np.abs(rdm - binarization_threshold(rdm, metric))  # rdm dtype: no float64 copy
    low = np.argpartition(rdm, k - 1)[:k]
    high = np.argpartition(rdm, length - k)[length - k :]
    close = np.argpartition(gap, k - 1)[:k]
    # order the k picks by value, ties by position (the euclidean median ties two pairs)
    low = low[np.lexsort((low, rdm[low]))]
    high = high[np.lexsort((high, -rdm[high].astype(np.float64)))]
    close = close[np.lexsort((close, gap[close]))]
    return {"lowest": low, "closest": close, "highest": high}


def _load(paths: Sequence[PathLike], indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thumbnails of the distinct `indices` (sorted, with the images in that order)."""
    unique = np.unique(indices)
    return unique, load_images([paths[int(u)] for u in unique], size=IMAGE_SIZE)


def _blank(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def extreme_pairs(
    rdm: np.ndarray,
    n_images: int,
    paths: Sequence[PathLike],
    metric: str,
    *,
    k: int = 3,
    ids: Sequence[str] | None = None,
    supplied: bool = False,
) -> Figure:
    """Images of the k lowest-, k threshold-nearest and k highest-dissimilarity pairs.

    One row per kind, one panel per pair (its two images side by side), titled with the
    images' stimulus ids (`ids`, (n_images,); default their RDM row) and d. paths: the
    n_images image files in RDM order. supplied: an RDM given as data (titled so, not by the
    run's metric).
    """
    check_metric(metric)
    rdm = check_rdm(rdm, n_images)
    if len(paths) != n_images:
        raise DataError(f"{len(paths)} image paths for an RDM of {n_images} images")
    chosen = select_extreme_pairs(rdm, metric, k)
    kinds = list(chosen)
    flat = np.concatenate([chosen[kind] for kind in kinds])
    i, j = condensed_to_pairs(flat, n_images)
    unique, images = _load(paths, np.concatenate([i, j]))
    img_i = images[np.searchsorted(unique, i)]
    img_j = images[np.searchsorted(unique, j)]
    gap = np.full((*img_i.shape[:2], _GAP, 3), 255, dtype=np.uint8)
    pairs = np.concatenate([img_i, gap, img_j], axis=2)  # (P, H, 2W + gap, 3)

    mid = "d ≈ 1\n(r ≈ 0)" if metric == "correlation" else "d ≈ median"
    row_names = {"lowest": "lowest d\n(most similar)", "closest": mid}
    row_names["highest"] = "highest d\n(most dissimilar)"
    cols = chosen["lowest"].shape[0]
    fig = new_figure(3.2 * cols + 0.8, 1.95 * len(kinds) + 0.7)
    axes = np.asarray(fig.subplots(len(kinds), cols, squeeze=False))
    values = rdm[flat]

    def name(k: int) -> str:
        return f"image {k}" if ids is None else str(ids[k])

    for p, ax in enumerate(axes.ravel()):  # one panel per shown pair (3k panels at most)
        row = p // cols
        ax.imshow(pairs[p], interpolation="nearest")
        ax.set_title(f"{name(i[p])} & {name(j[p])}: d = {values[p]:.3f}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # a frame groups the two images of one pair
            spine.set(color="0.55", linewidth=2.5)
        if p % cols == 0:
            ax.set_ylabel(row_names[kinds[row]], fontsize=11)
    which = "supplied" if supplied else metric
    fig.suptitle(f"Extreme image pairs of the {which} RDM ({n_images:,} images)", fontsize=13)
    return fig


def color_examples(
    paths: Sequence[PathLike],
    labels: np.ndarray,
    colors: Sequence[str] = DEFAULT_COLORS,
    *,
    per_class: int = 6,
) -> Figure:
    """Up to `per_class` example images (the first ones) of each dominant-colour class.

    labels: (N,) int8 per image, -1 none, 0 red, 1 green, 2 blue (`dominant_colors`).
    One row per colour in `colors`, `per_class` panels per row (blank where a class is short).
    """
    labels = np.asarray(labels)
    if labels.shape != (len(paths),):
        raise DataError(f"{labels.shape} colour labels for {len(paths)} image paths")
    unknown = [c for c in colors if c not in COLOR_NAMES]
    if unknown or not colors:
        raise ConfigError(f"unknown colour(s) {unknown}; valid colours: {', '.join(COLOR_NAMES)}")
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    members = [np.flatnonzero(labels == COLOR_NAMES.index(c)) for c in colors]
    shown = [m[:per_class] for m in members]
    unique, images = _load(paths, np.concatenate(shown))

    fig = new_figure(1.9 * per_class + 0.9, 2.1 * len(colors) + 0.7)
    axes = np.asarray(fig.subplots(len(colors), per_class, squeeze=False))
    for row, (color, idx) in enumerate(zip(colors, shown, strict=True)):
        for col, ax in enumerate(axes[row]):
            _blank(ax)
            if col < idx.shape[0]:
                ax.imshow(images[np.searchsorted(unique, idx[col])], interpolation="nearest")
                ax.set_title(f"image {idx[col]}", fontsize=9)
            elif col == 0:
                ax.text(0.5, 0.5, "no images", ha="center", va="center", transform=ax.transAxes)
        axes[row, 0].set_ylabel(f"{color}\n({members[row].shape[0]:,} images)", fontsize=11)
    fig.suptitle(f"Images per dominant colour ({len(paths):,} images)", fontsize=13)
    return fig
