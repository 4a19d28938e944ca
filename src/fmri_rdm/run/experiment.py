"""Stage 3: image-disjoint folds, one learner per fold, scores beside their baselines.

`run(cfg)` is the whole experiment; `train.py` only wraps it for Hydra. The loop knows models
only through the learner protocol (`fmri_rdm.learners`): it builds each fold's data, fits,
predicts the test pairs and scores them with the baselines that make a score interpretable.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.learners import build_learner, learner_class
from fmri_rdm.learners.callbacks import RunInterrupted
from fmri_rdm.reporting.loggers import RunLoggers
from fmri_rdm.reporting.results import RunMetrics
from fmri_rdm.rsa.splits import image_disjoint_folds, image_disjoint_split
from fmri_rdm.run.folds import FoldResult, fold_data, fold_scores, pair_targets
from fmri_rdm.run.inputs import Inputs, prepare_inputs
from fmri_rdm.runtime.artifacts import write_json, write_npz
from fmri_rdm.runtime.distributed import is_global_zero
from fmri_rdm.runtime.progress import RunProgress

log = logging.getLogger(__name__)

__all__ = ["RunInterrupted", "make_folds", "run", "selected_folds", "summarize"]


def resume_fold(cfg: DictConfig, selected: list[int]) -> tuple[int, Path] | None:
    """(fold, checkpoint) that `ckpt_path` resumes: the fold in the file name
    (`fold<k>-last.ckpt`), or the only fold the run trains."""
    value = cfg.get("ckpt_path")
    if value in (None, ""):
        return None
    path = Path(str(value)).expanduser()
    if not learner_class(cfg.model).resumable:
        raise ConfigError(
            f"ckpt_path resumes neural training; model={cfg.model.name} has no checkpoints"
        )
    if not path.is_file():
        raise DataError(
            f"checkpoint ckpt_path={value} not found: give a checkpoints/fold<k>-last.ckpt "
            "of the interrupted run"
        )
    named = re.match(r"fold(\d+)-", path.name)
    if named is None and len(selected) != 1:
        raise ConfigError(
            f"cannot tell which fold ckpt_path={value} belongs to: name it fold<k>-....ckpt "
            "or run that fold only with evaluation.folds=[k]"
        )
    fold = int(named.group(1)) if named else selected[0]
    if fold not in selected:
        raise ConfigError(
            f"ckpt_path={value} resumes fold {fold}, which this run does not train "
            f"(folds {selected}): fix evaluation.folds or evaluation.k_folds"
        )
    return fold, path


def selected_folds(evaluation: DictConfig) -> list[int]:
    """The folds a run trains: `evaluation.folds`, or all of them."""
    n_folds = max(1, int(evaluation.k_folds))
    chosen = evaluation.get("folds")
    selected = list(range(n_folds)) if chosen is None else [int(f) for f in chosen]
    unknown = [f for f in selected if not 0 <= f < n_folds]
    if unknown or not selected:
        what = f"folds {unknown} do not exist" if unknown else "no fold selected"
        raise ConfigError(
            f"evaluation.folds={selected}: {what} with evaluation.k_folds={evaluation.k_folds}; "
            f"choose among 0..{n_folds - 1} (or null for all)"
        )
    return selected


def make_folds(n_images: int, evaluation: DictConfig, seed: int) -> list[tuple]:
    """K image-disjoint folds, or one image-disjoint train/test split when k_folds == 1."""
    k = int(evaluation.k_folds)
    if not 1 <= k <= max(1, n_images // 2):  # a test fold needs 2 images for one pair
        raise ConfigError(
            f"evaluation.k_folds={k} is impossible with {n_images} images: use 1 (one "
            f"train/test split with evaluation.test_size) or 2..{n_images // 2} folds"
        )
    if k == 1:
        return [image_disjoint_split(n_images, evaluation.test_size, seed=seed)]
    return image_disjoint_folds(n_images, k, seed=seed)


def summarize(
    cfg: DictConfig, inputs: Inputs, folds: list[FoldResult], seconds: dict, task: str
) -> RunMetrics:
    """The run's metrics.json (`reporting.results`): run facts, per-fold scores, mean ± std,
    baselines, timings."""
    return RunMetrics.from_folds(
        [f.scores for f in folds],
        model=str(cfg.model.name),
        task=task,
        embeddings=inputs.embedder_info,
        data_source=str(cfg.data.source),
        subject=inputs.subject,
        roi=inputs.roi,
        metric=inputs.metric,
        distribution=str(cfg.distribution.name),
        n_images=inputs.n_images,
        n_voxels=inputs.n_voxels,
        n_pairs=len(inputs.i),
        k_folds=int(cfg.evaluation.k_folds),
        seed=int(cfg.seed),
        seconds=seconds,
        optimized_metric=optimized_metric_name(cfg, task),
    )


def optimized_metric_name(cfg: DictConfig, task: str) -> str:
    """`optimized_metric`, where `auto` means test Pearson (regression) or ROC-AUC (classifiers)."""
    name = str(cfg.get("optimized_metric", "auto"))
    if name == "auto":
        return "test.roc_auc.mean" if task == "classification" else "test.pearson.mean"
    return name


def run(cfg: DictConfig, sweep_name: str | None = None) -> dict[str, Any]:
    """The whole experiment; writes metrics.json, predictions.npz and plots/ into the run
    directory. `sweep_name` groups the runs of one multirun in wandb."""
    started = time.perf_counter()
    out = Path(cfg.paths.output_dir)
    loggers = RunLoggers(cfg, sweep_name)
    out.mkdir(parents=True, exist_ok=True)
    writer = is_global_zero()  # DDP: ranks > 0 share the run directory and write nothing
    # resolved (paths, env defaults) so predict.py and later readers need no Hydra runtime
    if writer:
        (out / "run_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    try:
        selected = selected_folds(cfg.evaluation)
        resume = resume_fold(cfg, selected)  # config mistakes fail before the data is read
        task = learner_class(cfg.model).task
        inputs = prepare_inputs(cfg)
        ceiling = _inter_subject_ceiling(cfg, inputs)
        folds = make_folds(inputs.n_images, cfg.evaluation, int(cfg.seed))
        targets = pair_targets(inputs, task)  # RDM values or binary labels, once per run
        start = time.perf_counter()
        results = []
        progress = RunProgress(len(selected), started)  # a line per fold: elapsed, time left
        for fold in selected:
            log.info("fold %d/%d", fold + 1, len(folds))
            progress.start(fold)  # times the fold's stages (fit, predict, statistics, ...)
            learner = build_learner(cfg)
            ckpt = resume[1] if resume is not None and resume[0] == fold else None
            data, test = fold_data(
                cfg, inputs, learner, targets, fold, folds[fold], loggers.for_fold(fold), ckpt
            )
            results.append(fold_scores(cfg, inputs, learner, data, test, ceiling))
            progress.done()
        seconds = dict(inputs.seconds, training=time.perf_counter() - start)
        seconds["total"] = time.perf_counter() - started
        summary = summarize(cfg, inputs, results, seconds, task)
        if task == "regression":
            summary.add_statistics([r.statistics for r in results])
        if ceiling is not None:
            summary.inter_subject = ceiling.info()
        metrics = summary.to_json()
        arrays: dict[str, np.ndarray] = {"image_indices": inputs.image_indices}
        for res in results:
            f = res.scores["fold"]
            arrays |= {f"fold{f}_i": res.i, f"fold{f}_j": res.j}
            arrays |= {f"fold{f}_target": res.target, f"fold{f}_prediction": res.prediction}
        plots: dict[str, Path] = {}
        if writer:
            write_npz(out / "predictions.npz", arrays)
            write_json(out / "metrics.json", metrics)
            plots = _plots(out / "plots", inputs, results, metrics, task)
    except BaseException as err:
        loggers.finish(None, failed=f"{type(err).__name__}: {err}")
        raise
    first = results[0]
    shown = slice(0, 10_000)
    loggers.finish(
        summary,
        plots,
        {
            "i": first.i[shown],
            "j": first.j[shown],
            "target": first.target[shown],
            "prediction": first.prediction[shown],
        },
    )
    return metrics


def _inter_subject_ceiling(cfg: DictConfig, inputs: Inputs) -> Any:
    """The leave-one-subject-out ceiling from the other subjects' RDMs on the shared images,
    when `evaluation.noise_ceiling=inter_subject` (None otherwise)."""
    from fmri_rdm.stats.ceiling import inter_subject_ceiling, wants_inter_subject

    if not wants_inter_subject(str(cfg.evaluation.noise_ceiling)):
        return None
    return inter_subject_ceiling(
        inputs.root,
        inputs.subject,
        inputs.roi,
        inputs.metric,
        inputs.paths,
        inputs.rdm,
        standardize=bool(cfg.data.standardize),
    )


def _plots(
    plot_dir: Path, inputs: Inputs, results: list[FoldResult], metrics: dict, task: str
) -> dict[str, Path]:
    """The run's figures (first fold's scatter; all folds' curves and scores)."""
    from fmri_rdm.plots import save_run_plots

    first = results[0]
    train = None
    if first.train_target is not None and first.train_prediction is not None:
        train = (first.train_target, first.train_prediction)
    histories = [r.history for r in results if r.history]
    regression = task == "regression"
    return save_run_plots(
        plot_dir,
        rdm=inputs.rdm,
        n_images=inputs.n_images,
        metric=inputs.metric,
        paths=inputs.paths,
        metrics=metrics,
        histories=histories or None,
        train_scatter=train if regression else None,
        test_scatter=(first.target, first.prediction) if regression else None,
        confusion=first.scores.get("confusion_matrix"),
        color_labels=inputs.color_labels,
        colors=inputs.colors,
    )
