"""The RDM itself: a heatmap of an image subset beside its binary version, and its histogram."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from fmri_rdm.errors import DataError
from fmri_rdm.plots._base import (
    binarization_threshold,
    metric_label,
    new_figure,
    threshold_label,
)
from fmri_rdm.rsa.rdm import binarize_rdm, check_metric, n_items, square_rdm

_BINARY_CMAP = ListedColormap(["#c6dbef", "#08306b"])  # similar (light), dissimilar (dark)
_N_TICKS = 6


def check_rdm(rdm: np.ndarray, n_images: int) -> np.ndarray:
    """`rdm` as an array, after checking it is the condensed RDM of `n_images` images."""
    rdm = np.asarray(rdm)
    n = n_items(rdm)
    if n != n_images:
        raise DataError(f"the RDM covers {n} images, but n_images is {n_images}")
    return rdm


def default_subset(n_images: int, max_images: int) -> np.ndarray:
    """At most `max_images` evenly spaced image indices in [0, n_images), ascending int64."""
    if max_images < 2:
        raise ValueError(f"max_images must be >= 2, got {max_images}")
    picks = np.linspace(0, n_images - 1, min(n_images, max_images))
    return np.unique(np.round(picks).astype(np.int64))


def sorted_subset(labels: Sequence[str], max_images: int) -> np.ndarray:
    """Image indices grouped by `labels` (N,) (stable: within a group in their own order),
    at most `max_images` of them evenly spaced along that order; int64."""
    order = np.argsort(np.asarray(labels, dtype=str), kind="stable")
    return order[default_subset(order.size, max_images)].astype(np.int64)


def _group_ticks(ax: Axes, labels: np.ndarray) -> None:
    """Group names at the centres of their runs and lines between runs (`plots.sort_by`)."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], labels.size]
    centres = (starts + ends - 1) / 2
    ax.set_xticks(centres, [str(labels[s]) for s in starts], rotation=90, fontsize=7)
    ax.set_yticks(centres, [str(labels[s]) for s in starts], fontsize=7)
    for b in starts[1:] - 0.5:
        ax.axhline(b, color="white", lw=0.6)
        ax.axvline(b, color="white", lw=0.6)


NAMED_TICKS_MAX = 20  # up to this many images, every one is a tick labelled with its name


def _index_ticks(ax: Axes, subset: np.ndarray, names: Sequence[str] | None = None) -> None:
    """A few ticks on both axes, labelled with the original image indices; every image by
    name when `names` (one per shown image) are given and few."""
    k = subset.shape[0]
    if names is not None and k <= NAMED_TICKS_MAX:
        ax.set_xticks(range(k), list(names), rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(k), list(names), fontsize=8)
        return
    pos = np.unique(np.round(np.linspace(0, k - 1, min(k, _N_TICKS))).astype(np.int64))
    labels = [str(v) for v in subset[pos]]
    ax.set_xticks(pos, labels)
    ax.set_yticks(pos, labels)
    ax.set_xlabel("image index")
    ax.set_ylabel("image index")


def rdm_heatmap(
    rdm: np.ndarray,
    n_images: int,
    metric: str,
    *,
    subset: np.ndarray | None = None,
    max_images: int = 100,
    title: str | None = None,
    sort_labels: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    supplied: bool = False,
) -> Figure:
    """The continuous RDM of an image subset beside its binary (similar/dissimilar) version.

    rdm: (n_images(n_images-1)/2,) condensed. subset: image indices to show, in order (default
    at most `max_images` evenly spaced ones). The binary panel uses `binarize_rdm` on the whole
    RDM, so the euclidean median is that of all pairs, not of the subset. The colour scale
    spans the shown off-diagonal values (the zero diagonal is blank: it would squash every
    pair into one colour). names: one per image (e.g. file names), the tick labels when at
    most NAMED_TICKS_MAX images are shown. sort_labels: (N,) one label per image (a metadata
    column, `plots.sort_by`): images grouped by it, with the groups named on the axes.
    supplied: an RDM given as data (its values' metric unknown: labelled as supplied).
    """
    check_metric(metric)
    rdm = check_rdm(rdm, n_images)
    if subset is None and sort_labels is not None:
        subset = sorted_subset(sort_labels, max_images)
    items = default_subset(n_images, max_images) if subset is None else np.asarray(subset)
    items = items.astype(np.int64, copy=False)
    values = square_rdm(rdm, items)
    binary = square_rdm(binarize_rdm(rdm, metric), items)  # bool RDM -> 0/1 float matrix
    k = items.shape[0]

    fig = new_figure(12.5, 6.2)
    ax_val, ax_bin = fig.subplots(1, 2)
    off = ~np.eye(k, dtype=bool)
    shown_values = np.where(off, values, np.nan)  # NaN: drawn blank
    finite = shown_values[np.isfinite(shown_values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    im = ax_val.imshow(
        shown_values, cmap="viridis", interpolation="nearest", vmin=lo, vmax=hi if hi > lo else None
    )
    tick_names = None if names is None else [str(names[i]) for i in items]
    fig.colorbar(im, ax=ax_val, shrink=0.85, label=metric_label(metric, supplied))
    if k == n_images:
        shown = f"all {k:,} images"
    else:
        shown = f"{k:,} of {n_images:,} images\n({'evenly spaced' if subset is None else 'subset'})"
    ax_val.set_title(f"RDM of {shown}")

    grouped = None if sort_labels is None else np.asarray(sort_labels, dtype=str)[items]

    def ticks(ax: Axes) -> None:
        _index_ticks(ax, items, tick_names) if grouped is None else _group_ticks(ax, grouped)

    ticks(ax_val)

    norm = BoundaryNorm([-0.5, 0.5, 1.5], _BINARY_CMAP.N)
    im_bin = ax_bin.imshow(binary, cmap=_BINARY_CMAP, norm=norm, interpolation="nearest")
    bar = fig.colorbar(im_bin, ax=ax_bin, shrink=0.85)
    bar.set_ticks([0, 1], labels=["similar", "dissimilar"], rotation=90, va="center")
    share = float(binary[np.triu_indices(k, 1)].mean()) if k > 1 else float("nan")
    ax_bin.set_title(
        f"binary RDM: dissimilar = {threshold_label(metric)}\n{share:.0%} of shown pairs"
    )
    ticks(ax_bin)
    fig.suptitle(title or f"Representational dissimilarity matrix ({metric})", fontsize=13)
    return fig


def rdm_histogram(
    rdm: np.ndarray, metric: str, *, bins: int = 100, supplied: bool = False
) -> Figure:
    """Histogram of the condensed RDM's values with the binarisation threshold marked
    (supplied: an RDM given as data, labelled as such)."""
    check_metric(metric)
    rdm = np.asarray(rdm)
    n = n_items(rdm)
    if rdm.size == 0:
        raise DataError("the RDM is empty (fewer than 2 images): nothing to plot")
    threshold = binarization_threshold(rdm, metric)
    counts, edges = np.histogram(rdm, bins=bins)
    dissimilar = float(np.mean(rdm > threshold))  # the binarize_rdm share, one median only

    fig = new_figure(8.0, 4.8)
    ax = fig.subplots()
    ax.stairs(counts, edges, fill=True, color="#4c72b0", alpha=0.85, label="pairs")
    kind = "r = 0" if metric == "correlation" else "median of all pairs"
    ax.axvline(
        threshold,
        color="#c44e52",
        linestyle="--",
        linewidth=2,
        label=f"threshold d = {threshold:.3g} ({kind}): {dissimilar:.1%} of pairs above it",
    )
    ax.set_xlabel(metric_label(metric, supplied))
    ax.set_ylabel("number of image pairs")
    ax.set_title(f"RDM values: {rdm.size:,} pairs of {n:,} images ({metric})")
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig
