"""The experiment loop: image-disjoint folds, one learner per fold, scores beside baselines.

`run(cfg)` is the whole experiment; `train.py` only wraps it for Hydra. The loop knows models
only through the learner protocol (`fmri_rdm.models`) and tasks through `run.task`: per fold
it builds the learner's data, fits and saves the learner, predicts the test pairs, and lets
the task score them beside the baselines that make a score interpretable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.data.source import recorded_config, source_of
from fmri_rdm.errors import RunInterrupted
from fmri_rdm.models.base import fits_nothing
from fmri_rdm.pipeline.data_kind import adapt_to_data, data_facts
from fmri_rdm.pipeline.folds import FoldResult, fit_fold, fold_data
from fmri_rdm.pipeline.inputs import Inputs, prepare_inputs
from fmri_rdm.pipeline.outputs import sort_labels, write_outputs
from fmri_rdm.pipeline.selection import make_folds, resume_fold, selected_folds
from fmri_rdm.pipeline.settings import ALL_PAIRS_AUTO_MAX, RunSettings
from fmri_rdm.pipeline.task import ScoringContext, Task, task_of
from fmri_rdm.pipeline.transfer import build_transfer
from fmri_rdm.reporting.loggers import RunLoggers
from fmri_rdm.reporting.results import RunMetrics
from fmri_rdm.runtime.artifacts import writing
from fmri_rdm.runtime.distributed import is_global_zero
from fmri_rdm.runtime.once import new_run
from fmri_rdm.runtime.progress import RunProgress
from fmri_rdm.stats.backend import statistics_device

log = logging.getLogger(__name__)

__all__ = ["RunInterrupted", "make_folds", "resume_fold", "run", "selected_folds", "summarize"]


def summarize(
    settings: RunSettings, inputs: Inputs, folds: list[FoldResult], seconds: dict, task: Task
) -> RunMetrics:
    """The run's metrics.json (`reporting.results`): run facts, per-fold scores, mean ± std,
    baselines, timings."""
    return RunMetrics.from_folds(
        [f.scores for f in folds],
        model=settings.model_name,
        task=task.name,
        embeddings=inputs.embedder_info,
        data_source=settings.data_source,
        subject=inputs.subject,
        roi=inputs.roi,
        metric=inputs.metric,
        distribution=settings.distribution,
        n_images=inputs.n_images,
        n_voxels=inputs.n_voxels,
        n_pairs=len(inputs.i),
        k_folds=settings.evaluation.k_folds,
        seed=settings.seed,
        seconds=seconds,
        optimized_metric=task.optimized_metric(settings.optimized_metric),
    )


def _inter_subject_ceiling(settings: RunSettings, inputs: Inputs) -> Any:
    """The leave-one-subject-out ceiling from the other subjects' RDMs on the shared images,
    when `evaluation.noise_ceiling=inter_subject` (None otherwise)."""
    from fmri_rdm.stats.ceiling import inter_subject_ceiling, wants_inter_subject

    if not wants_inter_subject(settings.evaluation.noise_ceiling) or inputs.time is not None:
        return None  # time-resolved data: the ceiling per window (pipeline/time_ceiling.py)
    assert inputs.source is not None
    return inter_subject_ceiling(
        inputs.source,
        inputs.subject,
        inputs.roi,
        inputs.metric,
        inputs.stimulus_ids,
        inputs.rdm,
        standardize=settings.standardize,
        noise=inputs.noise,
        per_partition=inputs.per_partition,
    )


def _fold_loop(
    new_learner: Callable[[], Any],
    task: Task,
    ctx: ScoringContext,
    loggers: RunLoggers,
    selected: list[int],
    resume: tuple[int, Path] | None,
    started: float,
) -> tuple[list[FoldResult], Any]:
    """Fit, save, predict and score every selected fold; (results, the last fold's learner)."""
    settings, inputs = ctx.settings, ctx.inputs
    folds = make_folds(inputs.n_images, settings.evaluation, settings.seed)
    targets = task.targets(inputs)  # RDM values or binary labels, once per run
    results = []
    progress = RunProgress(len(selected), started)  # a line per fold: elapsed, time left
    for fold in selected:
        log.info("fold %d/%d", fold + 1, len(folds))
        # times the fold's stages (fit, predict, statistics, ...); a fold that raises leaves
        # no stage timer behind
        with progress.fold(fold):
            learner = task.prepare(new_learner(), settings, new_learner)
            ckpt = resume[1] if resume is not None and resume[0] == fold else None
            data, test = fold_data(
                settings, inputs, learner, targets, fold, folds[fold], loggers.for_fold(fold), ckpt
            )
            fitted = fit_fold(learner, data, inputs.table, test)
            result = task.score(ctx, learner, data, test, fitted)
            if ctx.transfer is not None:  # the fitted learner on other subjects' RDMs
                result.scores["transfer"] = ctx.transfer.fold(
                    learner, inputs.table, test.images, data.seed
                )
            results.append(result)
    return results, learner


def _all_pairs(
    task: Task, ctx: ScoringContext, learner: Any, seed: int, seconds: dict[str, float]
) -> dict | None:
    """A fixed model's scores on all pairs (`task.all_pairs`), timed as seconds.all_pairs:
    at full scale their resamples cover every pair, many times a fold's, so above
    `evaluation.all_pairs_statistics`'s limit they are left out, loudly."""
    inputs, evaluation = ctx.inputs, ctx.settings.evaluation
    n_pairs = len(inputs.i)
    resample = evaluation.resamples_all_pairs(n_pairs)
    if resample:
        log.info(
            "all %d pairs of %d images (fixed model): %d bootstrap resamples, %d permutations",
            n_pairs, inputs.n_images, evaluation.n_bootstrap, evaluation.n_permutations,
        )  # fmt: skip
    elif evaluation.n_bootstrap or evaluation.n_permutations:
        log.warning(
            "all %d pairs (fixed model): scores and ceilings without a bootstrap interval or "
            "permutation p (over %d pairs with evaluation.all_pairs_statistics=%s; `always` "
            "computes them, about %.0f min on 2 cores); the fold scores have theirs",
            n_pairs, ALL_PAIRS_AUTO_MAX, evaluation.all_pairs_statistics,
            n_pairs / 48.4e6 * 6.5,  # 393 s at 48.4 M pairs (docs/measurements)
        )  # fmt: skip
    start = time.perf_counter()
    out = task.all_pairs(ctx, learner, seed, resample)
    seconds["all_pairs"] = time.perf_counter() - start
    if out is not None:
        made = [name for name, k in (("bootstrap", evaluation.n_bootstrap),
                                     ("permutations", evaluation.n_permutations)) if k]  # fmt: skip
        out["statistics"] = " and ".join(made) if resample else "none"
    return out


def _add_run_facts(
    cfg: DictConfig,
    summary: RunMetrics,
    task: Task,
    ctx: ScoringContext,
    results: list[FoldResult],
    selected: list[int],
    source_name: str,
    data_record: dict[str, Any],
) -> None:
    """What metrics.json holds beside the fold scores: the task's run-level values, a learner's
    run facts, the inter-subject ceiling, the data kind, transfer, the time course."""
    settings, inputs, cls = ctx.settings, ctx.inputs, ctx.settings.learner
    task.finish(summary, results)
    run_facts = getattr(cls, "run_facts", None)  # a learner's run-level results
    if callable(run_facts):
        folds = make_folds(inputs.n_images, settings.evaluation, settings.seed)
        summary.extra |= run_facts(cfg, inputs, folds)
    if ctx.inter_subject is not None:
        summary.inter_subject = ctx.inter_subject.info()
    if source_name == "folder":  # Algonauts runs keep their metrics.json as before
        summary.extra["data"] = data_facts(inputs, data_record)
    if ctx.transfer is not None:
        summary.transfer = ctx.transfer.summary([r.scores for r in results])
    if inputs.time is not None:  # time-resolved data: every window too
        from fmri_rdm.pipeline.time_course import time_course

        summary.extra["time_course"] = time_course(cfg, cls, task, ctx, selected)


def run(cfg: DictConfig, sweep_name: str | None = None) -> RunMetrics:
    """The whole experiment; writes metrics.json, predictions.npz and plots/ into the run
    directory and returns its metrics. `sweep_name` groups the runs of one multirun in wandb."""
    started = time.perf_counter()
    new_run()  # warnings shown once per run (runtime.once)
    settings = RunSettings.from_config(cfg)
    out = settings.output_dir
    loggers = RunLoggers(cfg, sweep_name)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    writer = is_global_zero()  # DDP: ranks > 0 share the run directory and write nothing
    # resolved (paths, env defaults) so predict.py and later readers need no Hydra runtime
    if writer:
        with writing(out / "run_config.yaml"):
            (out / "run_config.yaml").write_text(recorded_config(cfg))
    try:
        cls = settings.learner
        source = source_of(cfg)  # the data source's own from_config
        data_record = adapt_to_data(cfg, settings, source)  # RDM data: responses' uses are off
        settings = RunSettings.from_config(cfg)  # with what adapt_to_data switched off
        if writer and data_record.get("skipped"):
            (out / "run_config.yaml").write_text(recorded_config(cfg))

        def new_learner() -> Any:  # the one place the learner is built from the config
            return cls.from_config(cfg)

        new_learner()  # config mistakes fail before the data is read
        selected = selected_folds(settings.evaluation)
        resume = resume_fold(settings, cls, selected)
        task = task_of(cls)
        inputs = prepare_inputs(cfg, source, settings)
        sort_labels(inputs, settings.sort_by)  # an unknown column fails before training
        ceiling = _inter_subject_ceiling(settings, inputs)
        ctx = ScoringContext(
            settings,
            inputs,
            ceiling,
            build_transfer(cfg, inputs, task),
            statistics_device(settings.evaluation.statistics_device, settings.accelerator),
        )
        start = time.perf_counter()
        results, last = _fold_loop(new_learner, task, ctx, loggers, selected, resume, started)
        seconds = dict(inputs.seconds, training=time.perf_counter() - start)
        fixed = fits_nothing(cls)  # a fixed model: also scored on all pairs (issue 35)
        every = _all_pairs(task, ctx, last, settings.seed, seconds) if fixed else None
        seconds["total"] = time.perf_counter() - started
        summary = summarize(settings, inputs, results, seconds, task)
        _add_run_facts(cfg, summary, task, ctx, results, selected, source.name, data_record)
        summary.fits_nothing, summary.all_pairs = fixed, every
        plots = (
            write_outputs(out, inputs, results, summary, task, settings.sort_by) if writer else {}
        )
        if writer and inputs.time is not None:
            from fmri_rdm.plots.time_course import run_time_plots

            course, rdms = summary.extra["time_course"], inputs.time.rdms
            at = (cfg.evaluation.get("time") or {}).get("rdm_at_ms")
            plots |= run_time_plots(out / "plots", course, task.headline, rdms, at)
    except BaseException as err:
        loggers.finish(None, failed=f"{type(err).__name__}: {err}")
        raise
    first, shown = results[0], slice(0, 10_000)
    sample = {
        name: np.asarray(getattr(first, name))[shown] for name in ("i", "j", "target", "prediction")
    }
    loggers.finish(summary, plots, sample)
    return summary
