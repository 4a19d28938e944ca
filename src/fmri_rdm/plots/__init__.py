"""Figures of the data and of a run (matplotlib, Agg canvases only: no pyplot, no window).

Every plotting function returns a `matplotlib.figure.Figure`; `save_figure` writes one as PNG
and `save_run_plots` writes all that apply to a run under stable file names.
"""

from fmri_rdm.plots._base import binarization_threshold, new_figure, save_figure
from fmri_rdm.plots.image_plots import color_examples, extreme_pairs, select_extreme_pairs
from fmri_rdm.plots.rdm_plots import default_subset, rdm_heatmap, rdm_histogram
from fmri_rdm.plots.results import (
    confusion_matrix,
    fold_summary,
    predicted_vs_true,
    training_curves,
)
from fmri_rdm.plots.run_plots import PLOT_NAMES, save_run_plots

__all__ = [
    "PLOT_NAMES",
    "binarization_threshold",
    "color_examples",
    "confusion_matrix",
    "default_subset",
    "extreme_pairs",
    "fold_summary",
    "new_figure",
    "predicted_vs_true",
    "rdm_heatmap",
    "rdm_histogram",
    "save_figure",
    "save_run_plots",
    "select_extreme_pairs",
    "training_curves",
]
