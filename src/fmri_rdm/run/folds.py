"""One fold of an experiment: the learner's data, its fit, and its scores beside baselines."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.errors import ConfigError
from fmri_rdm.learners.base import FoldData, Learner
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa import scores as ev
from fmri_rdm.rsa.splits import image_disjoint_split, split_pairs
from fmri_rdm.run.inputs import Inputs

log = logging.getLogger(__name__)

TRAIN_SCORE_PAIRS = 200_000  # training pairs scored per fold (a seeded sample)


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


@dataclass
class TestPairs:
    """A fold's held-out images and the pairs among them: (P,) i, j and their targets y."""

    images: np.ndarray
    i: np.ndarray
    j: np.ndarray
    y: np.ndarray


def pair_targets(inputs: Inputs, task: str) -> np.ndarray:
    """(P,) targets of the run's pairs: RDM values, or bool "dissimilar" labels for a classifier."""
    if task == "regression":
        return inputs.y
    binary = rdm_lib.binarize_rdm(inputs.rdm, inputs.metric)
    return binary[rdm_lib.condensed_index(inputs.i, inputs.j, inputs.n_images)]


def fold_data(
    cfg: DictConfig,
    inputs: Inputs,
    learner: Learner,
    targets: np.ndarray,
    fold: int,
    split: tuple[np.ndarray, np.ndarray],
    logger: Any = None,
    resume_from: Path | None = None,
) -> tuple[FoldData, TestPairs]:
    """The fold's training images and pairs (what the learner sees), with an image-disjoint
    validation split for learners that use one (none when evaluation.val_size = 0), and its
    test pairs. targets: (P,) `pair_targets` of the run's pairs, computed once per run."""
    n, seed = inputs.n_images, int(cfg.seed) + fold
    train_imgs, test_imgs = split
    val_size = float(cfg.evaluation.val_size)
    if learner.uses_validation and val_size > 0:
        fit_pos, val_pos = image_disjoint_split(len(train_imgs), val_size, seed=seed)
        fit_imgs, val_imgs = train_imgs[fit_pos], train_imgs[val_pos]
    else:
        fit_imgs, val_imgs = train_imgs, train_imgs[:0]
    y = targets
    fit_mask, val_mask = split_pairs(inputs.i, inputs.j, fit_imgs, val_imgs, n)
    train_mask, test_mask = split_pairs(inputs.i, inputs.j, train_imgs, test_imgs, n)
    if not fit_mask.any() or not test_mask.any():
        raise ConfigError(
            f"fold {fold} has no training or no test pairs with distribution="
            f"{cfg.distribution.name}: use more images or fewer folds (evaluation.k_folds)"
        )
    data = FoldData(
        fold=fold,
        seed=seed,
        metric=inputs.metric,
        table=inputs.table,
        train_images=train_imgs,
        fit_images=fit_imgs,
        val_images=val_imgs,
        fit_i=inputs.i[fit_mask],
        fit_j=inputs.j[fit_mask],
        fit_y=y[fit_mask],
        val_i=inputs.i[val_mask],
        val_j=inputs.j[val_mask],
        val_y=y[val_mask],
        train_i=inputs.i[train_mask],
        train_j=inputs.j[train_mask],
        train_y=y[train_mask],
        responses=inputs.responses,
        output_dir=Path(cfg.paths.output_dir),
        logger=logger or None,
        resume_from=resume_from,
    )
    test = TestPairs(test_imgs, inputs.i[test_mask], inputs.j[test_mask], y[test_mask])
    return data, test


def encoding_baseline(
    cfg: DictConfig,
    data: FoldData,
    i: np.ndarray,
    j: np.ndarray,
    learner: Learner,
    prediction: np.ndarray,
) -> np.ndarray:
    """The voxelwise ridge encoding model's predictions of the test pairs (i, j), fitted on the
    same training images: the field's standard every regression run is reported beside. When
    the run's learner is that very model (same settings), its `prediction` is reused rather
    than fitted twice (minutes per fold at full scale)."""
    from fmri_rdm.learners.encoding import EncodingLearner, himalaya_backend

    accelerator = str(cfg.trainer.get("accelerator", "cpu"))
    model = EncodingLearner(metric=data.metric, backend=himalaya_backend("auto", accelerator))
    inner = getattr(learner, "inner", learner)  # a calibrated learner: only r and rho are used
    if isinstance(inner, EncodingLearner) and inner.settings() == model.settings():
        return prediction
    model.fit(data)
    return model.predict(data.table, i, j)


def _noise_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> dict:
    """The measured RDM scored against the noise-free one on the same pairs (synthetic data)."""
    if inputs.rdm_noise_free is None:
        return {}
    truth = rdm_lib.rdm_values(inputs.rdm_noise_free, i, j, inputs.n_images)
    scores = ev.regression_scores(y, truth)
    # noise shrinks measured distances towards 1, so only the rank/linear agreement is a ceiling
    return {"pearson": scores["pearson"], "spearman": scores["spearman"]}


def _classification_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> dict:
    """The noise-free RDM's labels scored against the measured ones (synthetic data)."""
    if inputs.rdm_noise_free is None:
        return {}
    truth_binary = rdm_lib.binarize_rdm(inputs.rdm_noise_free, inputs.metric)
    truth = truth_binary[rdm_lib.condensed_index(i, j, inputs.n_images)]
    return ev.classification_scores(y, truth, truth.astype(float))


def fold_scores(
    cfg: DictConfig,
    inputs: Inputs,
    learner: Learner,
    data: FoldData,
    test: TestPairs,
    ceiling: Any = None,
) -> FoldResult:
    """Fit the learner on the fold, save it, and score its test predictions (with bootstrap
    intervals, permutation p-values and, given `ceiling`, the inter-subject noise ceiling)."""
    from fmri_rdm.stats.report import fold_statistics

    n = inputs.n_images
    start = time.perf_counter()
    report = learner.fit(data)
    fit_seconds = time.perf_counter() - start
    learner.save(data.output_dir, data.fold)
    ti, tj, ty, test_imgs = test.i, test.j, test.y, test.images
    prediction = learner.predict(inputs.table, ti, tj)
    baseline = rdm_lib.rdm_values(inputs.baseline_rdm, ti, tj, n)
    sizes = {
        "fold": data.fold,
        "n_images_train": len(data.fit_images),
        "n_images_val": len(data.val_images),
        "n_images_test": len(test_imgs),
        "n_pairs_train": len(data.fit_i),
        "n_pairs_val": len(data.val_i),
        "n_pairs_test": len(ti),
    }
    if learner.task == "classification":
        scores = {
            **sizes,
            **report.facts,
            "seconds": {"fit": fit_seconds},
            "test": ev.classification_scores(ty, prediction > 0, prediction),
            "confusion_matrix": ev.confusion(ty, prediction > 0),
            "baselines": ev.classification_baselines(
                data.train_y, ty, prediction > 0, baseline, seed=data.seed
            ),
            "noise_ceiling": _classification_ceiling(inputs, ti, tj, ty),
        }
        return FoldResult(scores, ti, tj, ty.astype(np.float32), prediction.astype(np.float32))

    sample = np.random.default_rng(data.seed).permutation(len(data.fit_i))[:TRAIN_SCORE_PAIRS]
    fi, fj, fy = data.fit_i[sample], data.fit_j[sample], data.fit_y[sample]
    train_pred = learner.predict(inputs.table, fi, fj)
    baselines = ev.regression_baselines(data.fit_y, ty, prediction, baseline, seed=data.seed)
    if bool(cfg.evaluation.encoding_baseline):
        encoded = ev.regression_scores(
            ty, encoding_baseline(cfg, data, ti, tj, learner, prediction)
        )
        baselines |= {
            "encoding_pearson": encoded["pearson"],
            "encoding_spearman": encoded["spearman"],
        }
    evaluation = cfg.evaluation
    statistics = fold_statistics(
        inputs.rdm,
        n,
        ti,
        tj,
        ty,
        prediction,
        test_imgs,
        seed=data.seed,
        n_boot=int(evaluation.n_bootstrap),
        n_perm=int(evaluation.n_permutations),
        level=float(evaluation.ci_level),
    )
    noise_ceiling = _noise_ceiling(inputs, ti, tj, ty)
    if ceiling is not None:
        noise_ceiling |= ceiling.bounds(ti, tj)
    scores = {
        **sizes,
        **report.facts,
        "seconds": {"fit": fit_seconds},
        "test": ev.regression_scores(ty, prediction),
        "train": ev.regression_scores(fy, train_pred),
        "baselines": baselines,
        "noise_ceiling": noise_ceiling,
        **statistics.as_metrics(),
    }
    return FoldResult(scores, ti, tj, ty, prediction, fy, train_pred, report.history, statistics)
