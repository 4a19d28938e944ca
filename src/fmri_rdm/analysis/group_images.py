"""Which images runs of different subjects share, and their test pairs on those images.

A run's predictions.npz holds per fold the test pairs (`fold<k>_i`, `fold<k>_j`: positions in
the run's selected images), targets and predictions, and `image_indices` (rows of the subject's
stimuli). Runs are matched across subjects by stimulus id, whatever each subject's row order:
`stimulus_ids` of the predictions.npz (runs since the data-source interface), else its
`nsd_ids`, else the ids the run's data source gives (from its run_config.yaml).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmri_rdm.errors import FmriRdmError, one_line
from fmri_rdm.stats.paired import PREDICTIONS_FILE, Fold, load_folds
from fmri_rdm.stats.two_factor import FoldPairs

RUN_CONFIG = "run_config.yaml"
MIN_SHARED_IMAGES = 3  # as the inter-subject ceiling: fewer make no RDM to correlate


@dataclass
class RunImages:
    """One run's test folds with the stimulus id of every pair image (i, j as str ids)."""

    folds: list[Fold]


def run_stimulus_ids(run_dir: Path, image_indices: np.ndarray | None) -> np.ndarray:
    """(N,) str stimulus ids of the run's selected images, in the run's order.

    Raises FmriRdmError (DataError / ConfigError) with the reason when they cannot be found.
    """
    from omegaconf import OmegaConf

    from fmri_rdm.data.source import run_subject, source_of
    from fmri_rdm.errors import DataError

    with np.load(Path(run_dir) / PREDICTIONS_FILE) as data:
        if "stimulus_ids" in data.files:
            return np.asarray(data["stimulus_ids"]).astype(str)
        if "nsd_ids" in data.files:
            return np.asarray(data["nsd_ids"], dtype=np.int64).astype(str)
    config = Path(run_dir) / RUN_CONFIG
    if not config.is_file():
        raise DataError(f"{config} not found: cannot tell which images the run used")
    cfg = OmegaConf.load(config)
    source = source_of(cfg, create=False)
    ids = source.stimuli(run_subject(cfg)).ids
    if image_indices is None or (image_indices.size and image_indices.max() >= len(ids)):
        raise DataError(f"the run's image_indices do not fit the images under {source.root}")
    return np.asarray(ids)[image_indices].astype(str)


def load_run_images(run_dir: Path) -> RunImages:
    """The run's test folds with pair images as stimulus ids (FmriRdmError when not possible)."""
    indices, folds = load_folds(Path(run_dir))
    ids = run_stimulus_ids(Path(run_dir), indices)
    return RunImages(
        [Fold(ids[f.i], ids[f.j], f.target, f.prediction, f.raw) for _, f in sorted(folds.items())]
    )


def try_load(run_dirs: Sequence[Path]) -> tuple[dict[Path, RunImages], str]:
    """({run dir: RunImages}, note): an empty dict and the first reason when any run fails."""
    out = {}
    for d in run_dirs:
        try:
            out[d] = load_run_images(d)
        except (FmriRdmError, OSError, KeyError, ValueError) as err:
            return {}, f"{d}: {one_line(err)}"
    return out, ""


def shared_images(runs: Sequence[RunImages]) -> np.ndarray:
    """Sorted stimulus ids that are test images in every run (in some fold of each)."""
    common: np.ndarray | None = None
    for run in runs:
        ids = np.unique(np.concatenate([np.concatenate([f.i, f.j]) for f in run.folds]))
        common = ids if common is None else np.intersect1d(common, ids)
    return np.asarray([] if common is None else common).astype(str)


def shared_pairs(run: RunImages, shared: np.ndarray) -> list[FoldPairs]:
    """Per fold (a, b, target, prediction) of the test pairs whose two images are in `shared`
    (a, b: positions in `shared`); folds without such pairs are left out. The prediction is the
    raw one where the run saved it: the 2-factor bootstrap scores correlations only."""
    out = []
    for f in run.folds:
        keep = np.isin(f.i, shared) & np.isin(f.j, shared)
        if keep.sum() >= 3:  # a correlation needs 3 pairs
            a, b = np.searchsorted(shared, f.i[keep]), np.searchsorted(shared, f.j[keep])
            prediction = f.correlated[keep].astype(np.float64)
            out.append((a, b, f.target[keep].astype(np.float64), prediction))
    return out
