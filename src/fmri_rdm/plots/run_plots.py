"""`save_run_plots`: every applicable plot of a run, each failure logged without losing the rest."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from fmri_rdm.errors import DataError, FmriRdmError
from fmri_rdm.plots._base import save_figure
from fmri_rdm.plots.image_plots import color_examples, extreme_pairs
from fmri_rdm.plots.rdm_plots import check_rdm, rdm_heatmap, rdm_histogram
from fmri_rdm.plots.results import (
    confusion_matrix,
    fold_summary,
    predicted_vs_true,
    training_curves,
)
from fmri_rdm.rsa.pairs import DEFAULT_COLORS
from fmri_rdm.rsa.rdm import check_metric

log = logging.getLogger(__name__)

# Failures of one plot that should not cost the others: unreadable images (DataError), odd
# data matplotlib refuses (ValueError, RuntimeError), a full disk (OSError). Anything else
# (TypeError, AttributeError, ...) is a bug in the caller or here and propagates.
PLOT_ERRORS: tuple[type[BaseException], ...] = (FmriRdmError, ValueError, RuntimeError, OSError)

PLOT_NAMES = (
    "rdm_heatmap",
    "rdm_histogram",
    "extreme_pairs",
    "training_curves",
    "predicted_vs_true",
    "fold_summary",
    "confusion_matrix",
    "color_examples",
)


def save_run_plots(
    plot_dir: str | os.PathLike[str],
    *,
    rdm: np.ndarray,
    n_images: int,
    metric: str,
    paths: Sequence[str | os.PathLike[str]],
    metrics: Mapping[str, Any],
    histories: Sequence[Mapping[str, Sequence[float | None]]] | None = None,
    train_scatter: tuple[np.ndarray, np.ndarray] | None = None,
    test_scatter: tuple[np.ndarray, np.ndarray] | None = None,
    confusion: Sequence[Sequence[int]] | None = None,
    color_labels: np.ndarray | None = None,
    colors: Sequence[str] = DEFAULT_COLORS,
    score: str | None = None,
    sort_labels: Sequence[str] | None = None,
    rdm_title: str | None = None,
    scatter_fold: str | None = None,
    ids: Sequence[str] | None = None,
    supplied: bool = False,
    images: bool = True,
) -> dict[str, Path]:
    """Write every applicable plot as `<plot_dir>/<name>.png`; returns {name: path} written.

    `score` is the test score of the fold summary (None: read from the metrics). Arguments are
    checked first (ConfigError/DataError: a caller bug, nothing is written). Then each plot is
    drawn and saved on its own: a plotting failure is logged as a warning naming
    the plot and the others are still written. Optional inputs left None skip their plot.
    sort_labels: (N,) a metadata column the RDM heatmap groups the images by (`plots.sort_by`).
    rdm_title: the heatmap's title (what RDM it is: subject, ROI); scatter_fold: which fold
    the predicted-vs-true pairs come from (`fold 1 of 5`). ids: (N,) the stimulus ids the
    extreme pairs are named by (default: RDM rows). supplied: the RDM was given as data (RDM
    data): labelled as supplied, not with the run's metric. images=False: the
    stimuli have no image files (paths are names only), so no plot shows images.
    """
    check_metric(metric)
    rdm = check_rdm(rdm, n_images)
    if len(paths) != n_images:
        raise DataError(f"{len(paths)} image paths for an RDM of {n_images} images")
    if color_labels is not None and np.shape(color_labels) != (n_images,):
        raise DataError(f"{np.shape(color_labels)} colour labels for {n_images} images")
    out = Path(plot_dir)
    out.mkdir(parents=True, exist_ok=True)

    jobs: dict[str, Callable[[], Figure]] = {
        "rdm_heatmap": lambda: rdm_heatmap(
            rdm, n_images, metric, title=rdm_title, sort_labels=sort_labels, supplied=supplied
        ),
        "rdm_histogram": lambda: rdm_histogram(rdm, metric, supplied=supplied),
    }
    if images:
        jobs["extreme_pairs"] = lambda: extreme_pairs(
            rdm, n_images, paths, metric, ids=ids, supplied=supplied
        )
    if histories and any(histories):
        jobs["training_curves"] = lambda: training_curves(histories)
    if train_scatter is not None or test_scatter is not None:
        jobs["predicted_vs_true"] = lambda: predicted_vs_true(
            train_scatter, test_scatter, metric, scatter_fold, supplied
        )
    if metrics.get("folds"):
        jobs["fold_summary"] = lambda: fold_summary(metrics, score)
    if confusion is not None:
        jobs["confusion_matrix"] = lambda: confusion_matrix(confusion)
    if color_labels is not None:
        jobs["color_examples"] = lambda: color_examples(paths, color_labels, colors)

    return _draw_each(jobs, out)


def _draw_each(jobs: Mapping[str, Callable[[], Figure]], out: Path) -> dict[str, Path]:
    """Draw and save each plot on its own: a failure is a warning naming it, the rest go on."""
    written: dict[str, Path] = {}
    for name, draw in jobs.items():  # a handful of plots, each isolated
        try:
            fig = draw()
            written[name] = save_figure(fig, out / f"{name}.png")
        except PLOT_ERRORS as exc:
            log.warning("plot %s failed and was skipped (%s: %s)", name, type(exc).__name__, exc)
    log.info("wrote %d plot(s) to %s", len(written), out)
    return written
