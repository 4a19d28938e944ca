"""Figure plumbing shared by every plot: Agg-backed figures, metric labels, saving.

Figures are plain `matplotlib.figure.Figure` objects with their own `FigureCanvasAgg`: nothing
goes through pyplot, so no global figure registry or backend is touched and no window opens.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fmri_rdm.rsa.rdm import check_metric

DPI = 120

# Axis label of a dissimilarity per RDM metric (responses are z-scored per voxel).
METRIC_LABELS = {
    "correlation": "dissimilarity (1 − Pearson r)",
    "euclidean": "Euclidean distance (z-scored responses)",
    "mahalanobis": "squared Mahalanobis distance / units",
    "crossnobis": "crossnobis (cross-validated Mahalanobis / units)",
    "poisson_cv": "cross-validated Poisson KL divergence / units",
}


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure of `width` x `height` inches drawn by its own Agg canvas."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


# A supplied RDM (RDM data): its metric is the data's own, not the run's `metric`
SUPPLIED_LABEL = "dissimilarity (as supplied)"


def metric_label(metric: str, supplied: bool = False) -> str:
    """Axis label for dissimilarities of `metric` (raises ConfigError on an unknown metric);
    `supplied`: an RDM given as data, of a metric the run does not know."""
    check_metric(metric)
    return SUPPLIED_LABEL if supplied else METRIC_LABELS[metric]


def binarization_threshold(rdm: np.ndarray, metric: str) -> float:
    """The `binarize_rdm` cut: "dissimilar" means d > this (1 for correlation, else the median)."""
    if check_metric(metric) == "correlation":
        return 1.0
    return float(np.median(rdm))


def threshold_label(metric: str) -> str:
    """How the binarisation threshold is defined, for titles and legends."""
    return "d > 1 (r < 0)" if check_metric(metric) == "correlation" else "d > median"


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write `fig` as a PNG at ~120 dpi, creating the folder; returns the path.

    The figure stays usable; nothing global (pyplot's registry) is touched or closed.
    """
    from fmri_rdm.runtime.artifacts import writing

    out = Path(path)
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=DPI, format="png", facecolor="white")
    return out
