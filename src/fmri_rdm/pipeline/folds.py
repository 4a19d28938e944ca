"""One fold of an experiment: the learner's data, its test pairs, and the timed fit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import FitReport, FoldData, Learner
from fmri_rdm.models.calibration import predict_both
from fmri_rdm.pipeline.inputs import Inputs
from fmri_rdm.pipeline.settings import RunSettings
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa.splits import PairSplit, image_disjoint_split, split_pairs
from fmri_rdm.runtime.progress import stage


@dataclass
class TestPairs:
    """A fold's held-out images and the pairs among them with their targets."""

    images: np.ndarray
    pairs: PairSplit


@dataclass
class FittedFold:
    """A fitted learner's report, its fit time and its predictions of the fold's test pairs
    (calibrated, and raw: the learner's own, which the correlations are scored on)."""

    report: FitReport
    seconds: float
    prediction: np.ndarray
    raw: np.ndarray | None = None  # None: `prediction` is the learner's own


@dataclass
class FoldResult:
    """Scores, test predictions and what the plots need of one fold."""

    scores: dict[str, Any]
    i: np.ndarray
    j: np.ndarray
    target: np.ndarray
    prediction: np.ndarray
    train_target: np.ndarray | None = None
    train_prediction: np.ndarray | None = None
    history: dict[str, list[float | None]] = field(default_factory=dict)
    statistics: Any = None  # stats.report.FoldStatistics of a regression fold
    raw: np.ndarray | None = None  # uncalibrated test predictions (predictions.npz fold<k>_raw)


def _fit_and_val_images(
    settings: RunSettings, learner: Learner, train_imgs: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """An image-disjoint validation split of the training images for learners that use one
    (none when evaluation.val_size = 0)."""
    val_size = settings.evaluation.val_size
    if learner.uses_validation and val_size > 0:
        fit_pos, val_pos = image_disjoint_split(len(train_imgs), val_size, seed=seed)
        return train_imgs[fit_pos], train_imgs[val_pos]
    return train_imgs, train_imgs[:0]


def fold_data(
    settings: RunSettings,
    inputs: Inputs,
    learner: Learner,
    targets: np.ndarray,
    fold: int,
    split: tuple[np.ndarray, np.ndarray],
    logger: Any = None,
    resume_from: Path | None = None,
) -> tuple[FoldData, TestPairs]:
    """The fold's training images and pairs (what the learner sees) and its test pairs.
    targets: (P,) the task's targets of the run's pairs, computed once per run."""
    n, seed = inputs.n_images, settings.seed + fold
    train_imgs, test_imgs = split
    fit_imgs, val_imgs = _fit_and_val_images(settings, learner, train_imgs, seed)
    run_pairs = PairSplit(inputs.i, inputs.j, targets)
    fit_mask, val_mask = split_pairs(inputs.i, inputs.j, fit_imgs, val_imgs, n)
    train_mask, test_mask = split_pairs(inputs.i, inputs.j, train_imgs, test_imgs, n)
    if not fit_mask.any() or not test_mask.any():
        raise ConfigError(
            f"fold {fold} has no training or no test pairs with distribution="
            f"{settings.distribution}: use more images or fewer folds (evaluation.k_folds)"
        )
    data = FoldData(
        fold=fold,
        seed=seed,
        # models compare features with the measured metric's feature metric (euclidean for
        # the trial metrics: rsa.rdm.feature_metric); the targets stay the measured RDM's
        metric=rdm_lib.feature_metric(inputs.metric),
        table=inputs.table,
        train_images=train_imgs,
        fit_images=fit_imgs,
        val_images=val_imgs,
        fit=run_pairs.take(fit_mask),
        val=run_pairs.take(val_mask),
        train=run_pairs.take(train_mask),
        # RDM data has no responses: an empty (N, 0) table (encoding is refused and the
        # read-out switched off for it in `run.data_kind`)
        responses=inputs.responses
        if inputs.responses is not None
        else np.zeros((n, 0), np.float32),
        output_dir=settings.output_dir,
        logger=logger or None,
        resume_from=resume_from,
    )
    return data, TestPairs(test_imgs, run_pairs.take(test_mask))


def fit_fold(learner: Learner, data: FoldData, table: np.ndarray, test: TestPairs) -> FittedFold:
    """Fit the learner on the fold (timed), save it in the run directory, predict the test
    pairs."""
    start = time.perf_counter()
    with stage("fit"):
        report = learner.fit(data)
    seconds = time.perf_counter() - start
    with stage("save"):
        learner.save(data.output_dir, data.fold)
    with stage("predict"):
        raw, prediction = predict_both(learner, table, test.pairs.i, test.pairs.j)
    return FittedFold(report, seconds, prediction, None if raw is prediction else raw)


def fold_sizes(data: FoldData, test: TestPairs) -> dict[str, int]:
    """The fold's image and pair counts (metrics.json)."""
    return {
        "fold": data.fold,
        "n_images_train": len(data.fit_images),
        "n_images_val": len(data.val_images),
        "n_images_test": len(test.images),
        "n_pairs_train": len(data.fit),
        "n_pairs_val": len(data.val),
        "n_pairs_test": len(test.pairs),
    }
