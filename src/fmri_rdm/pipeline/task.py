"""The two tasks a learner can have: regressing RDM values, or classifying pairs as similar /
dissimilar. A `Task` owns everything that differs between them (targets, scores, baselines,
ceilings, the optimised metric, the plots), and `task_of` is the one place that chooses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from fmri_rdm.models.base import FoldData, Learner, TaskName
from fmri_rdm.models.calibration import predict_both
from fmri_rdm.pipeline.baselines import (
    encoding_baseline,
    noise_free_ceiling,
    noise_free_label_ceiling,
    session_ceiling,
)
from fmri_rdm.pipeline.folds import FittedFold, FoldResult, TestPairs, fold_sizes
from fmri_rdm.pipeline.inputs import Inputs
from fmri_rdm.pipeline.settings import RunSettings
from fmri_rdm.reporting.results import RunMetrics
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa import scores as ev
from fmri_rdm.rsa.measures import measure_scores
from fmri_rdm.runtime.progress import stage, stage_seconds

TRAIN_SCORE_PAIRS = 200_000  # training pairs scored per fold (a seeded sample)


@dataclass
class ScoringContext:
    """What scoring a fold reads besides the fold: the run's settings and inputs, and, when
    the run asked for them, the inter-subject ceiling (`stats.ceiling.InterSubjectCeiling`)
    and the cross-subject transfer targets."""

    settings: RunSettings
    inputs: Inputs
    inter_subject: Any = None
    transfer: Any = None  # run.transfer.Transfer: other subjects' RDMs of shared test images
    statistics_device: str = "cpu"  # stats.backend.statistics_device


class Task:
    """What the experiment loop asks of a task; `RegressionTask`, `ClassificationTask`."""

    name: ClassVar[TaskName]
    headline: ClassVar[str]  # the score of plots and of optimized_metric=auto
    # whether predictions are dissimilarities (comparable with another subject's RDM)
    predicts_dissimilarities: ClassVar[bool]

    def targets(self, inputs: Inputs) -> np.ndarray:
        """(P,) targets of the run's pairs."""
        raise NotImplementedError

    def prepare(self, learner: Learner, settings: RunSettings, fresh: Any) -> Learner:
        """The learner the fold fits (the learner itself by default). fresh: makes another
        unfitted one."""
        return learner

    def optimized_metric(self, requested: str) -> str:
        """`optimized_metric`, where `auto` means the task's headline test score."""
        return f"test.{self.headline}.mean" if requested == "auto" else requested

    def score(
        self,
        ctx: ScoringContext,
        learner: Learner,
        data: FoldData,
        test: TestPairs,
        fitted: FittedFold,
    ) -> FoldResult:
        """The fold's scores beside its baselines and ceilings."""
        raise NotImplementedError

    def finish(self, summary: RunMetrics, results: list[FoldResult]) -> None:
        """Run-level additions to the summary (nothing by default)."""

    def all_pairs(
        self, ctx: ScoringContext, learner: Learner, seed: int, resample: bool = True
    ) -> dict | None:
        """metrics.json's `all_pairs` of a fixed model (None: the task has none); resample:
        with its bootstrap interval and permutation p."""
        return None

    def scatter(self, result: FoldResult) -> dict[str, Any]:
        """The run plots this task draws for a fold (`plots.save_run_plots` arguments)."""
        return {"confusion": result.scores.get("confusion_matrix")}


class RegressionTask(Task):
    name: ClassVar[TaskName] = "regression"
    headline: ClassVar[str] = "pearson"
    predicts_dissimilarities: ClassVar[bool] = True

    def targets(self, inputs: Inputs) -> np.ndarray:
        return inputs.y

    def prepare(self, learner: Learner, settings: RunSettings, fresh: Any) -> Learner:
        """Predictions mapped onto the targets' scale (`evaluation.calibration`)."""
        from fmri_rdm.models.calibration import wrap

        return wrap(learner, settings.evaluation.calibration, fresh)

    def score(
        self,
        ctx: ScoringContext,
        learner: Learner,
        data: FoldData,
        test: TestPairs,
        fitted: FittedFold,
    ) -> FoldResult:
        inputs, evaluation = ctx.inputs, ctx.settings.evaluation
        t, prediction = test.pairs, fitted.prediction
        raw = prediction if fitted.raw is None else fitted.raw  # correlations: raw (issue 35)
        sample = np.random.default_rng(data.seed).permutation(len(data.fit))[:TRAIN_SCORE_PAIRS]
        train = data.fit.take(sample)
        with stage("predict"):
            train_raw, train_pred = predict_both(learner, inputs.table, train.i, train.j)
        zero = self._zero_training(inputs, test)
        baselines = ev.regression_baselines(
            data.fit.y, t.y, prediction, zero, seed=data.seed, raw=raw
        )
        if evaluation.encoding_baseline and inputs.responses is not None:
            with stage("encoding_baseline"):
                encoded_prediction = encoding_baseline(ctx.settings, data, t.i, t.j, learner, raw)
            encoded = ev.regression_scores(t.y, encoded_prediction)
            baselines |= {
                "encoding_pearson": encoded["pearson"],
                "encoding_spearman": encoded["spearman"],
            }
        with stage("statistics"):
            statistics = self._statistics(ctx, data, test, prediction, raw)
        ceiling = noise_free_ceiling(inputs, t.i, t.j, t.y) | session_ceiling(inputs, t.i, t.j)
        if ctx.inter_subject is not None:
            ceiling |= ctx.inter_subject.bounds(t.i, t.j)
        scores = {
            **fold_sizes(data, test),
            **fitted.report.facts,
            "seconds": {"fit": fitted.seconds, **stage_seconds()},  # + predict, statistics, ...
            "test": ev.regression_scores(t.y, prediction, raw)
            | measure_scores(evaluation.measures, t.y, raw, t.i, t.j),
            "train": ev.regression_scores(train.y, train_pred, train_raw),
            "baselines": baselines,
            "noise_ceiling": ceiling,
            **statistics.as_metrics(),
        }
        history = fitted.report.history
        result = FoldResult(
            scores, t.i, t.j, t.y, prediction, train.y, train_pred, history, statistics
        )
        result.raw = fitted.raw
        return result

    @staticmethod
    def _zero_training(inputs: Inputs, test: TestPairs) -> np.ndarray:
        return rdm_lib.rdm_values(inputs.baseline_rdm, test.pairs.i, test.pairs.j, inputs.n_images)

    @staticmethod
    def _statistics(
        ctx: ScoringContext, data: FoldData, test: TestPairs, prediction: Any, raw: Any
    ) -> Any:
        from fmri_rdm.stats.report import fold_statistics

        evaluation, t = ctx.settings.evaluation, test.pairs
        return fold_statistics(
            ctx.inputs.rdm,
            ctx.inputs.n_images,
            t.i,
            t.j,
            t.y,
            prediction,
            test.images,
            seed=data.seed,
            n_boot=evaluation.n_bootstrap,
            n_perm=evaluation.n_permutations,
            level=evaluation.ci_level,
            device=ctx.statistics_device,
            raw=raw,
        )

    def all_pairs(
        self, ctx: ScoringContext, learner: Learner, seed: int, resample: bool = True
    ) -> dict | None:
        """A fixed model's correlations on ALL of the run's pairs, with its bootstrap interval
        and permutation p over all images, and the ceilings on the same pairs (metrics.json
        `all_pairs`, `stats.report.all_pairs_metrics`)."""
        from fmri_rdm.stats.report import all_pairs_metrics

        inputs, evaluation = ctx.inputs, ctx.settings.evaluation
        i, j, y = inputs.i, inputs.j, inputs.y
        raw, _ = predict_both(learner, inputs.table, i, j)
        out = all_pairs_metrics(
            inputs.rdm,
            inputs.n_images,
            i,
            j,
            y,
            raw,
            seed=seed,
            n_boot=evaluation.n_bootstrap if resample else 0,
            n_perm=evaluation.n_permutations if resample else 0,
            level=evaluation.ci_level,
            device=ctx.statistics_device,
        )
        ceiling = noise_free_ceiling(inputs, i, j, y) | session_ceiling(inputs, i, j)
        if ctx.inter_subject is not None:
            ceiling |= ctx.inter_subject.bounds(i, j)
        return out | {"noise_ceiling": ceiling}

    def finish(self, summary: RunMetrics, results: list[FoldResult]) -> None:
        summary.add_statistics([r.statistics for r in results])

    def scatter(self, result: FoldResult) -> dict[str, Any]:
        train = None
        if result.train_target is not None and result.train_prediction is not None:
            train = (result.train_target, result.train_prediction)
        return {"train_scatter": train, "test_scatter": (result.target, result.prediction)}


class ClassificationTask(Task):
    name: ClassVar[TaskName] = "classification"
    headline: ClassVar[str] = "roc_auc"
    predicts_dissimilarities: ClassVar[bool] = False

    def targets(self, inputs: Inputs) -> np.ndarray:
        binary = rdm_lib.binarize_rdm(inputs.rdm, inputs.metric)
        return binary[rdm_lib.condensed_index(inputs.i, inputs.j, inputs.n_images)]

    def score(
        self,
        ctx: ScoringContext,
        learner: Learner,
        data: FoldData,
        test: TestPairs,
        fitted: FittedFold,
    ) -> FoldResult:
        inputs, t, decision = ctx.inputs, test.pairs, fitted.prediction
        zero = rdm_lib.rdm_values(inputs.baseline_rdm, t.i, t.j, inputs.n_images)
        scores = {
            **fold_sizes(data, test),
            **fitted.report.facts,
            "seconds": {"fit": fitted.seconds, **stage_seconds()},
            "test": ev.classification_scores(t.y, decision > 0, decision),
            "confusion_matrix": ev.confusion(t.y, decision > 0),
            "baselines": ev.classification_baselines(
                data.train.y, t.y, decision > 0, zero, seed=data.seed
            ),
            "noise_ceiling": noise_free_label_ceiling(inputs, t.i, t.j, t.y),
        }
        target, predicted = t.y.astype(np.float32), decision.astype(np.float32)
        return FoldResult(scores, t.i, t.j, target, predicted)


TASKS: dict[str, Task] = {task.name: task for task in (RegressionTask(), ClassificationTask())}


def task_of(learner_class: Any) -> Task:
    """The task a learner class declares (`Learner.task`)."""
    return TASKS[str(learner_class.task)]
