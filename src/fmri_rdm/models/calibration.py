"""Calibrated distances: a regression learner's predictions mapped onto the target scale.

The encoding model and classical RSA predict dissimilarities on another scale than the measured
RDM (the RDM of predicted responses, or of raw embeddings), so their R² and MSE say nothing.
`CalibratedLearner` wraps any regression learner: after the inner fit, an affine map
y ≈ a + b·p is fitted by least squares on (a seeded sample of) the fold's training pairs, with
b > 0; it serves the scale-dependent scores (R², MSE) only: the run scores Pearson and Spearman
on the raw predictions (`predict_both`), since a clamped slope (1e-6 of the natural one) would
leave the mapped values too little spread for a correlation (issue 35). Calibrated predictions
are float64. The map is saved beside the inner learner as
`calibration_fold{k}.json`; a run without that file (older runs) loads uncalibrated.

`evaluation.calibration` chooses the pairs: `train` (all of the fold's training pairs), `cv`
(the training pairs predicted out of sample: `CV_FOLDS` image-disjoint refits of the learner on
the other training images, `cross_fitted`), `val`
(the validation pairs of a learner that holds some out; its training pairs otherwise), `none`,
or `auto`: the learner class's `calibration_default` (`train` when it has none, as classical
RSA, which fits nothing; `cv` for the encoding model, whose in-sample predictions are too good;
`none` for FR-RSA, fitted on the targets by least squares already; see `default_pairs`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.models.base import (
    FitReport,
    FoldData,
    Learner,
    ModelConfig,
    TaskName,
    saved_fold_numbers,
)
from fmri_rdm.rsa.splits import PairSplit
from fmri_rdm.runtime.artifacts import write_json
from fmri_rdm.runtime.once import warn_once
from fmri_rdm.runtime.progress import stage

log = logging.getLogger(__name__)

CALIBRATION_MODES = ("auto", "train", "cv", "val", "none")
CV_FOLDS = 5  # image-disjoint groups of the training images for cross-fitted calibration
CALIBRATION_PAIRS = 200_000  # training pairs the affine map is fitted on (a seeded sample)
MIN_SLOPE = 1e-6  # relative to std(y)/std(p): the smallest slope kept positive
FILE = "calibration_fold{fold}.json"


def calibration_mode(mode: str) -> str:
    """`evaluation.calibration`, checked."""
    if mode not in CALIBRATION_MODES:
        raise ConfigError(
            f"evaluation.calibration={mode!r} is not one of {', '.join(CALIBRATION_MODES)}"
        )
    return mode


def fit_affine(prediction: np.ndarray, target: np.ndarray) -> tuple[float, float, bool]:
    """(slope b, intercept a, clamped) of the least-squares fit target ≈ a + b·prediction with
    b > 0, in float64. prediction, target: (P,).

    When the unconstrained slope is not positive (predictions not positively related to the
    targets on the training pairs) the constrained optimum is the smallest admissible slope:
    b = MIN_SLOPE·std(y)/std(p), a = ȳ − b·p̄ (clamped = True). Constant predictions get b = 1
    and a = ȳ − p̄ (a shift; clamped = True).
    """
    p = np.asarray(prediction, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    keep = np.isfinite(p) & np.isfinite(y)
    if keep.sum() < 2:
        raise DataError("calibration needs at least 2 training pairs with finite predictions")
    p, y = p[keep], y[keep]
    pc, yc = p - p.mean(), y - y.mean()
    var_p = float(pc @ pc)
    if var_p <= 0.0 or not np.isfinite(var_p):
        return 1.0, float(y.mean() - p.mean()), True
    slope = float(pc @ yc) / var_p
    floor = MIN_SLOPE * float(np.sqrt((yc @ yc) / var_p)) or MIN_SLOPE
    clamped = not slope > floor
    if clamped:
        slope = floor
    return slope, float(y.mean() - slope * p.mean()), clamped


def _pairs(data: FoldData, which: str) -> PairSplit:
    """The pairs the map is fitted on: the training pairs, or the validation pairs."""
    if which == "val" and len(data.val):
        return data.val
    if which == "val":
        log.warning("calibration on validation pairs: the fold has none, using its training pairs")
    return data.train


def cross_fitted(
    data: FoldData, fresh: Callable[[], Learner], sample: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, targets) of the training pairs `sample` (positions into `data.train`) that
    lie within one of CV_FOLDS image-disjoint groups of the training images, each predicted by
    a fresh learner fitted on the other groups' images and pairs: out-of-sample predictions,
    which a fitted model's own training pairs are not (in-sample they are too good, and a map
    fitted there overshoots on test pairs)."""
    images = np.asarray(data.train_images)
    groups = np.full(len(data.table), -1, dtype=np.int64)
    groups[np.random.default_rng(data.seed).permutation(images)] = np.arange(len(images)) % CV_FOLDS
    train = data.train
    gi, gj = groups[train.i], groups[train.j]
    preds, targets = [], []
    for g in range(CV_FOLDS):
        rest = images[groups[images] != g]
        inside = (gi != g) & (gj != g)
        held = sample[(gi[sample] == g) & (gj[sample] == g)]
        if not inside.any() or held.size == 0:
            continue
        inner_pairs = train.take(inside)
        sub = replace(
            data,
            train_images=rest,
            fit_images=rest,
            val_images=rest[:0],
            fit=inner_pairs,
            val=PairSplit.empty(inner_pairs),
            train=inner_pairs,
        )
        model = fresh()
        model.fit(sub)
        preds.append(model.predict(data.table, train.i[held], train.j[held]))
        targets.append(train.y[held])
    return np.concatenate(preds), np.concatenate(targets)


SLOPE_WARN = 2.0  # a target-scaled model's slope beyond [1/2, 2] is worth a warning
# losses that train a network's output on the targets' own scale (pearson alone does not)
TARGET_SCALED_LOSSES = ("mse", "mixed")


def slope_warning(fold: int, slope: float, intercept: float) -> str | None:
    """What a calibration slope far from 1 means, for a model trained on the targets' scale
    (None when the slope is within [1/SLOPE_WARN, SLOPE_WARN])."""
    if 1 / SLOPE_WARN <= slope <= SLOPE_WARN:
        return None
    if slope > 1:
        meaning = (
            f"its predictions spread over about 1/{slope:.0f} of the targets' range: the "
            "network learned little beyond the mean (too few epochs, too much dropout or "
            "weight decay?)"
        )
    else:
        meaning = (
            f"its predictions spread over about {1 / slope:.0f} times the targets' range "
            "(overfitting?)"
        )
    return (
        f"fold {fold}: calibration slope {slope:.3g} (calibrated = {intercept:.4g} + "
        f"{slope:.4g} x prediction) where ~1 is expected: {meaning}; Pearson and Spearman "
        "do not depend on it, R² and MSE are those of the calibrated predictions"
    )


def warn_far_slope(inner: Any, fold: int, slope: float, intercept: float) -> None:
    """Once per run: a network trained with an MSE loss should need no rescaling."""
    plan = getattr(inner, "plan", None)
    if getattr(plan, "loss", None) not in TARGET_SCALED_LOSSES:
        return  # other scales are expected (encoding model, rsa, a pearson loss)
    message = slope_warning(fold, slope, intercept)
    if message is not None:
        warn_once(log, "calibration slope", "%s (shown once per run)", message)


class CalibratedLearner:
    """A regression learner whose predictions are a + b·(inner prediction), b > 0."""

    task: ClassVar[TaskName] = "regression"
    # the inner learner's (a subclass per inner class carries them, see `calibrated`)
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False
    config_schema: ClassVar[type] = ModelConfig  # the inner learner checks the model config

    def __init__(self, inner: Learner, pairs: str = "train") -> None:
        # only the regression task wraps its learners (`run.task.RegressionTask.prepare`)
        self.inner, self.pairs = inner, pairs
        self.slope, self.intercept = 1.0, 0.0
        self.fresh: Callable[[], Learner] | None = None  # an unfitted inner learner (cv)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Learner:
        """The run's learner (regression), calibrated as `evaluation.calibration` says."""
        from fmri_rdm.models import learner_class

        inner_class = learner_class(cfg.model)
        mode = str(cfg.evaluation.get("calibration", "auto"))
        return wrap(inner_class.from_config(cfg), mode, lambda: inner_class.from_config(cfg))

    def fit(self, data: FoldData) -> FitReport:
        report = self.inner.fit(data)
        if self.pairs == "cv":
            if self.fresh is None:
                raise ConfigError("cross-fitted calibration needs a learner factory (from_config)")
            sample = np.random.default_rng(data.seed).permutation(len(data.train))
            with stage("calibration"):  # part of the fit: CV_FOLDS refits on fewer images
                raw, target = cross_fitted(data, self.fresh, sample[: CV_FOLDS * CALIBRATION_PAIRS])
        else:
            pairs = _pairs(data, self.pairs)
            keep = np.random.default_rng(data.seed).permutation(len(pairs))[:CALIBRATION_PAIRS]
            chosen = pairs.take(keep)
            raw, target = self.inner.predict(data.table, chosen.i, chosen.j), chosen.y
        self.slope, self.intercept, clamped = fit_affine(raw, target)
        if clamped:  # the same advice in every fold: said once per run
            warn_once(
                log,
                ("calibration clamped", self.pairs),
                "fold %d: predictions are not positively related to the targets on the %s "
                "pairs; calibration keeps the smallest positive slope (%.3g) (said once per "
                "run; metrics.json folds[].calibration_clamped says which folds)",
                data.fold,
                self.pairs,
                self.slope,
            )
        warn_far_slope(self.inner, data.fold, self.slope, self.intercept)
        log.info(
            "fold %d: calibrated = %.4g + %.4g x prediction", data.fold, self.intercept, self.slope
        )
        report.facts |= {
            "calibration_slope": self.slope,
            "calibration_intercept": self.intercept,
            "calibration_pairs": self.pairs,
            "calibration_clamped": clamped,
        }
        return report

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(P,) float64 calibrated predictions (float32 would collapse a clamped map's values)."""
        return self.calibrate(self.predict_raw(table, i, j))

    def predict_raw(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(P,) float64 predictions of the inner learner, before the map."""
        return np.asarray(self.inner.predict(table, i, j), dtype=np.float64)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """a + b·raw in float64."""
        return self.intercept + self.slope * np.asarray(raw, dtype=np.float64)

    def save(self, run_dir: Path, fold: int) -> Path | None:
        saved = self.inner.save(run_dir, fold)
        path = Path(run_dir) / FILE.format(fold=fold)
        write_json(path, {"slope": self.slope, "intercept": self.intercept, "pairs": self.pairs})
        return saved if saved is not None else path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> Learner:
        return load_learner(run_dir, fold, cfg)

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, FILE)


def predict_both(
    learner: Learner, table: np.ndarray, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(raw, prediction), both (P,) float64, of the pairs (i, j): the learner's own predictions
    and the calibrated ones (the same array for a learner that is not calibrated). The inner
    learner predicts once."""
    if isinstance(learner, CalibratedLearner):
        raw = learner.predict_raw(table, i, j)
        return raw, learner.calibrate(raw)
    prediction = np.asarray(learner.predict(table, i, j), dtype=np.float64)
    return prediction, prediction


def wrap(inner: Learner, mode: str, fresh: Callable[[], Learner]) -> Learner:
    """A regression learner calibrated with `mode` (`evaluation.calibration`; `auto`: the
    learner class's default), or `inner` itself for `none`. fresh: makes an unfitted inner
    learner (the `cv` mode refits it on parts of the training images)."""
    mode = calibration_mode(mode)
    if mode == "auto":
        mode = default_pairs(type(inner))
        log.info("evaluation.calibration=auto: %s for %s", mode, type(inner).__name__)
    if mode == "none":
        return inner
    wrapper = calibrated(type(inner))(inner, mode)
    wrapper.fresh = fresh
    wrapped: Learner = wrapper
    return wrapped


def default_pairs(inner_class: type) -> str:
    """What `auto` means for a learner class: its `calibration_default` (train, val or none),
    `train` when it declares none. Learners fitted by least squares on the targets themselves
    declare `none`: a map fitted on their own training pairs is the identity (NNLS), or undoes
    the shrinkage their cross-validation chose (ridge), measured in the closing notes."""
    return str(getattr(inner_class, "calibration_default", "train"))


@cache
def calibrated(inner_class: type) -> type[CalibratedLearner]:
    """The wrapper class for learners of `inner_class`: its class-level protocol facts
    (resumable, uses_validation, fits_nothing) are the inner class's."""
    return type(
        f"Calibrated{inner_class.__name__}",
        (CalibratedLearner,),
        {
            "resumable": bool(getattr(inner_class, "resumable", False)),
            "uses_validation": bool(getattr(inner_class, "uses_validation", False)),
            "fits_nothing": bool(getattr(inner_class, "fits_nothing", False)),
        },
    )


def load_learner(run_dir: Path, fold: int, cfg: DictConfig) -> Learner:
    """The fitted learner of `fold` in `run_dir`, calibrated when the run saved a calibration
    for that fold (runs written before calibration existed load uncalibrated)."""
    from fmri_rdm.models import learner_class

    inner: Learner = learner_class(cfg.model).load(run_dir, fold, cfg)
    path = Path(run_dir) / FILE.format(fold=fold)
    if not path.is_file():
        return inner
    saved: dict[str, Any] = json.loads(path.read_text())
    learner = calibrated(type(inner))(inner, str(saved.get("pairs", "train")))
    learner.slope, learner.intercept = float(saved["slope"]), float(saved["intercept"])
    loaded: Learner = learner
    return loaded


def saved_folds(run_dir: Path, cfg: DictConfig) -> list[int]:
    """Folds with a fitted learner in `run_dir`: the calibrated folds when there are any (a
    learner that saves nothing, classical RSA, still has one calibration per fold)."""
    from fmri_rdm.models import learner_class

    calibrated = saved_fold_numbers(run_dir, FILE)
    folds: list[int] = calibrated or learner_class(cfg.model).saved_folds(run_dir)
    return folds
