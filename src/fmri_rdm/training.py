"""Stage 3: image-disjoint folds, one model per fold, scores beside their baselines.

`run(cfg)` is the whole experiment; `train.py` only wraps it for Hydra.
"""

from __future__ import annotations

import logging
import re
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fmri_rdm import evaluation as ev
from fmri_rdm import rdm as rdm_lib
from fmri_rdm.artifacts import lookup, write_json, write_npz
from fmri_rdm.datamodule import PairDataModule, PairSplit
from fmri_rdm.distributed import is_global_zero
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.inputs import Inputs, prepare_inputs
from fmri_rdm.loggers import RunLoggers
from fmri_rdm.pairs import image_disjoint_folds, image_disjoint_split, split_pairs

log = logging.getLogger(__name__)

# Keys of a model config that configure the run rather than the network's constructor.
_RUN_KEYS = ("name", "save_path", "load_path")


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


class EpochHistory(pl.Callback):
    """Per-epoch train/val scores of one fit, for the training-curve plot (any logger, or none)."""

    KEYS = ("train/loss", "val/loss", "val/pearson")

    def __init__(self) -> None:
        self.history: dict[str, list[float | None]] = {k: [] for k in self.KEYS}

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for key in self.KEYS:
            value = trainer.callback_metrics.get(key)
            self.history[key].append(None if value is None else float(value))


class RunInterrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM; `checkpoint` resumes it (None: nothing to resume)."""

    def __init__(self, signum: int, fold: int, epoch: int, checkpoint: str | None) -> None:
        self.signum, self.fold, self.epoch, self.checkpoint = signum, fold, epoch, checkpoint
        how = (
            f"resume with the same command plus ckpt_path={checkpoint}"
            if checkpoint
            else "no epoch of this fold finished, so there is nothing to resume: run it again"
        )
        super().__init__(
            f"{signal.Signals(signum).name} stopped fold {fold} during epoch {epoch}; {how}"
        )

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class EpochSeed(pl.Callback):
    """Reseeds every RNG before the first step of each epoch from (seed, epoch), so that a run
    resumed from a checkpoint draws the same dropout masks as an uninterrupted one (on resume
    Lightning creates the loader, which draws from the RNG, at another moment)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx != 0:
            return
        state = np.random.SeedSequence([self.seed, trainer.current_epoch]).generate_state(1)
        pl.seed_everything(int(state[0]), workers=True, verbose=False)


class FoldCheckpoint(pl.callbacks.ModelCheckpoint):
    """ModelCheckpoint that keeps the best-so-far score when a fold resumes into a new run
    directory (Lightning restores it only when the folder is unchanged). Lightning deletes
    files in its own folder only, so the interrupted run's files stay as they are."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict({**state_dict, "dirpath": self.dirpath})


def resume_fold(cfg: DictConfig, selected: list[int]) -> tuple[int, Path] | None:
    """(fold, checkpoint) that `ckpt_path` resumes: the fold in the file name
    (`fold<k>-last.ckpt`), or the only fold the run trains."""
    value = cfg.get("ckpt_path")
    if value in (None, ""):
        return None
    path = Path(str(value)).expanduser()
    if cfg.model.name == "svm":
        raise ConfigError("ckpt_path resumes neural training; the SVM has no checkpoints")
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


def _check_resume(path: Path, module: pl.LightningModule) -> None:
    """A resume checkpoint must be readable and hold this model's weights."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as err:  # truncated file, not a Lightning checkpoint, ...
        msg = " ".join(str(err).split())[:200]
        raise DataError(
            f"cannot read checkpoint {path} ({msg}): it is truncated or not a "
            "Lightning checkpoint of this project"
        ) from err
    ours = module.state_dict()
    if set(state) != set(ours) or any(state[k].shape != ours[k].shape for k in ours):
        raise ConfigError(
            f"checkpoint {path} holds a different model: resume with the config of the "
            "interrupted run (its .hydra/overrides.yaml)"
        )


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


def _model_kwargs(model_cfg: DictConfig) -> dict[str, Any]:
    container = OmegaConf.to_container(model_cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items() if k not in _RUN_KEYS}


def _noise_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> dict:
    """The measured RDM scored against the noise-free one on the same pairs (synthetic data)."""
    if inputs.rdm_noise_free is None:
        return {}
    truth = rdm_lib.rdm_values(inputs.rdm_noise_free, i, j, inputs.n_images)
    scores = ev.regression_scores(y, truth)
    # noise shrinks measured distances towards 1, so only the rank/linear agreement is a ceiling
    return {"pearson": scores["pearson"], "spearman": scores["spearman"]}


def _neural_fold(
    cfg: DictConfig,
    inputs: Inputs,
    fold: int,
    train_imgs,
    test_imgs,
    loggers: RunLoggers,
    resume: Path | None = None,
) -> FoldResult:
    n, seed = inputs.n_images, int(cfg.seed) + fold
    fit_pos, val_pos = image_disjoint_split(len(train_imgs), cfg.evaluation.val_size, seed=seed)
    fit_imgs, val_imgs = train_imgs[fit_pos], train_imgs[val_pos]
    fit_mask, val_mask = split_pairs(inputs.i, inputs.j, fit_imgs, val_imgs, n)
    _, test_mask = split_pairs(inputs.i, inputs.j, train_imgs, test_imgs, n)
    if not fit_mask.any() or not test_mask.any():
        raise ConfigError(
            f"fold {fold} has no training or no test pairs with distribution="
            f"{cfg.distribution.name}: use more images or fewer folds (evaluation.k_folds)"
        )

    def split(mask: np.ndarray) -> PairSplit:
        return PairSplit(inputs.i[mask], inputs.j[mask], inputs.y[mask])

    pl.seed_everything(seed, workers=True, verbose=False)
    table = torch.from_numpy(inputs.table)
    data = PairDataModule(
        table,
        split(fit_mask),
        val=split(val_mask) if val_mask.any() else None,
        test=split(test_mask),
        batch_size=int(cfg.training.batch_size),
        seed=seed,
    )
    kwargs = _model_kwargs(cfg.model)
    if cfg.model.name != "siamese_cnn":
        kwargs["in_dim"] = int(inputs.table.shape[1])
    if cfg.model.name == "mlp":
        # the sigmoid head covers the metric's range: [0, 2] for correlation distances
        top = 2.0 if inputs.metric == "correlation" else float(inputs.y[fit_mask].max()) * 1.1
        kwargs["output_scale"] = top
    net = instantiate(kwargs)
    from fmri_rdm.models.module import PairRegressionModule

    bounded = cfg.model.name == "mlp" and cfg.model.head == "sigmoid"
    fit_y = inputs.y[fit_mask]
    module = PairRegressionModule(
        net,
        loss=str(cfg.training.loss),
        alpha=float(cfg.training.alpha),
        optimizer=instantiate(cfg.training.optimizer),
        scheduler=instantiate(cfg.training.scheduler) if cfg.training.scheduler else None,
        # a sigmoid head already spans the metric's range; other heads learn z-scored targets
        target_mean=0.0 if bounded else float(fit_y.mean()),
        target_std=1.0 if bounded else float(fit_y.std()) or 1.0,
        net_config=kwargs,
    )
    out = Path(cfg.paths.output_dir)
    monitor = "val/loss" if val_mask.any() else "train/loss"
    ckpt_dir = out / "checkpoints"
    checkpoint = FoldCheckpoint(
        dirpath=ckpt_dir,
        filename=f"fold{fold}-best",
        monitor=monitor,
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    # fold<k>-last.ckpt after every epoch, what `ckpt_path=` resumes (Lightning's save_last only
    # writes it in epochs that improved the best); after `checkpoint` so it holds its state
    latest = FoldCheckpoint(
        dirpath=ckpt_dir, filename=f"fold{fold}-last", save_top_k=1, enable_version_counter=False
    )
    history = EpochHistory()
    trainer = instantiate(
        cfg.trainer,
        callbacks=[checkpoint, latest, history, EpochSeed(seed)],
        logger=loggers.for_fold(fold) or False,
        default_root_dir=out,
    )
    if resume is not None:
        _check_resume(resume, module)
        log.info("fold %d resumes from %s", fold, resume)
    try:
        trainer.fit(module, datamodule=data, ckpt_path=resume)
    except (KeyboardInterrupt, SystemExit) as stop:
        # Lightning turns Ctrl-C into SystemExit(1) and SIGTERM into SIGTERMException
        if isinstance(stop, SIGTERMException):
            signum = signal.SIGTERM
        elif isinstance(stop, KeyboardInterrupt) or isinstance(stop.__context__, KeyboardInterrupt):
            signum = signal.SIGINT
        else:
            raise
        last = ckpt_dir / f"fold{fold}-last.ckpt"
        raise RunInterrupted(
            signum, fold, trainer.current_epoch, str(last) if last.is_file() else None
        ) from stop
    best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else None
    if best is not None and best.parent != ckpt_dir and best.is_file():
        # the best epoch came before the interruption: keep this run directory self-contained
        shutil.copy2(best, ckpt_dir / f"fold{fold}-best.ckpt")
        checkpoint.best_model_path = str(ckpt_dir / f"fold{fold}-best.ckpt")
    if checkpoint.best_model_path:
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
    module.set_table(table)
    ti, tj, ty = inputs.i[test_mask], inputs.j[test_mask], inputs.y[test_mask]
    prediction = module.predict_pairs(ti, tj)
    fi, fj, fy = inputs.i[fit_mask], inputs.j[fit_mask], inputs.y[fit_mask]
    sample = np.random.default_rng(seed).permutation(len(fi))[:200_000]
    train_pred = module.predict_pairs(fi[sample], fj[sample])
    baseline = rdm_lib.rdm_values(inputs.baseline_rdm, ti, tj, n)
    scores = {
        "fold": fold,
        "n_images_train": len(fit_imgs),
        "n_images_val": len(val_imgs),
        "n_images_test": len(test_imgs),
        "n_pairs_train": int(fit_mask.sum()),
        "n_pairs_val": int(val_mask.sum()),
        "n_pairs_test": int(test_mask.sum()),
        "epochs": int(trainer.current_epoch),
        "best_checkpoint": checkpoint.best_model_path or None,
        "test": ev.regression_scores(ty, prediction),
        "train": ev.regression_scores(fy[sample], train_pred),
        "baselines": ev.regression_baselines(fy, ty, prediction, baseline, seed=seed),
        "noise_ceiling": _noise_ceiling(inputs, ti, tj, ty),
    }
    recorded = {k: v for k, v in history.history.items() if any(x is not None for x in v)}
    return FoldResult(scores, ti, tj, ty, prediction, fy[sample], train_pred, recorded)


def _svm_fold(
    cfg: DictConfig, inputs: Inputs, fold: int, train_imgs, test_imgs, loggers: RunLoggers
) -> FoldResult:
    from fmri_rdm.models.svm import SVMPairClassifier

    n, seed = inputs.n_images, int(cfg.seed) + fold
    train_mask, test_mask = split_pairs(inputs.i, inputs.j, train_imgs, test_imgs, n)
    binary = rdm_lib.binarize_rdm(inputs.rdm, inputs.metric)
    labels = binary[rdm_lib.condensed_index(inputs.i, inputs.j, n)]
    table = inputs.table.reshape(n, -1)
    ti, tj, ty = inputs.i[test_mask], inputs.j[test_mask], labels[test_mask]
    load_path = cfg.model.get("load_path")
    if load_path:
        clf = SVMPairClassifier.load(Path(load_path))
        log.info("loaded a fitted SVM from %s (no training)", load_path)
    else:
        kwargs = {k: v for k, v in _model_kwargs(cfg.model).items() if k != "_target_"}
        clf = SVMPairClassifier(**kwargs, seed=seed)
        clf.fit(table, inputs.i[train_mask], inputs.j[train_mask], labels[train_mask])
    out = Path(cfg.paths.output_dir)
    clf.save(out / f"svm_fold{fold}.joblib")
    if cfg.model.get("save_path"):
        clf.save(Path(cfg.model.save_path))
    predicted = clf.predict(table, ti, tj)
    decision = clf.decision_function(table, ti, tj)
    baseline = rdm_lib.rdm_values(inputs.baseline_rdm, ti, tj, n)
    truth_scores: dict = {}
    if inputs.rdm_noise_free is not None:
        truth_binary = rdm_lib.binarize_rdm(inputs.rdm_noise_free, inputs.metric)
        truth = truth_binary[rdm_lib.condensed_index(ti, tj, n)]
        truth_scores = ev.classification_scores(ty, truth, truth.astype(float))
    scores = {
        "fold": fold,
        "n_images_train": len(train_imgs),
        "n_images_test": len(test_imgs),
        "n_pairs_train": int(train_mask.sum()),
        "n_pairs_test": int(test_mask.sum()),
        "test": ev.classification_scores(ty, predicted, decision),
        "confusion_matrix": ev.confusion(ty, predicted),
        "baselines": ev.classification_baselines(
            labels[train_mask], ty, predicted, baseline, seed=seed
        ),
        "noise_ceiling": truth_scores,
    }
    return FoldResult(scores, ti, tj, ty.astype(np.float32), decision.astype(np.float32))


def summarize(cfg: DictConfig, inputs: Inputs, folds: list[FoldResult], seconds: dict) -> dict:
    """The metrics.json contract: run facts, per-fold scores, mean ± std, baselines, timings."""
    per_fold = [f.scores for f in folds]
    info = inputs.embedder_info
    metrics: dict[str, Any] = {
        "model": str(cfg.model.name),
        "pretrained": info.get("pretrained"),
        "random_init": bool(info.get("random_init", False)),
        "embeddings": info,
        "data_source": str(cfg.data.source),
        "subject": inputs.subject,
        "roi": inputs.roi,
        "metric": inputs.metric,
        "distribution": str(cfg.distribution.name),
        "n_images": inputs.n_images,
        "n_voxels": inputs.n_voxels,
        "n_pairs": len(inputs.i),
        "n_pairs_train": int(np.mean([f["n_pairs_train"] for f in per_fold])),
        "n_pairs_test": int(np.mean([f["n_pairs_test"] for f in per_fold])),
        "k_folds": int(cfg.evaluation.k_folds),
        "seed": int(cfg.seed),
        "folds": per_fold,
        "test": ev.aggregate_folds(per_fold, "test"),
        "train": ev.aggregate_folds(per_fold, "train"),
        "baselines": ev.aggregate_folds(per_fold, "baselines"),
        "noise_ceiling": ev.aggregate_folds(per_fold, "noise_ceiling"),
        "seconds": seconds,
    }
    name = optimized_metric_name(cfg)
    metrics["optimized_metric"] = {"name": name, "value": lookup(metrics, name)}
    return metrics


def optimized_metric_name(cfg: DictConfig) -> str:
    """`optimized_metric`, where `auto` means test Pearson (regression) or ROC-AUC (SVM)."""
    name = str(cfg.get("optimized_metric", "auto"))
    if name == "auto":
        return "test.roc_auc.mean" if cfg.model.name == "svm" else "test.pearson.mean"
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
        inputs = prepare_inputs(cfg)
        folds = make_folds(inputs.n_images, cfg.evaluation, int(cfg.seed))
        start = time.perf_counter()
        results = []
        for fold in selected:
            log.info("fold %d/%d", fold + 1, len(folds))
            train_imgs, test_imgs = folds[fold]
            if cfg.model.name == "svm":
                results.append(_svm_fold(cfg, inputs, fold, train_imgs, test_imgs, loggers))
                continue
            ckpt = resume[1] if resume is not None and resume[0] == fold else None
            results.append(_neural_fold(cfg, inputs, fold, train_imgs, test_imgs, loggers, ckpt))
        seconds = dict(inputs.seconds, training=time.perf_counter() - start)
        seconds["total"] = time.perf_counter() - started
        metrics = summarize(cfg, inputs, results, seconds)
        arrays: dict[str, np.ndarray] = {"image_indices": inputs.image_indices}
        for res in results:
            f = res.scores["fold"]
            arrays |= {f"fold{f}_i": res.i, f"fold{f}_j": res.j}
            arrays |= {f"fold{f}_target": res.target, f"fold{f}_prediction": res.prediction}
        plots: dict[str, Path] = {}
        if writer:
            write_npz(out / "predictions.npz", arrays)
            write_json(out / "metrics.json", metrics)
            plots = _plots(out / "plots", inputs, results, metrics)
    except BaseException as err:
        loggers.finish(None, failed=f"{type(err).__name__}: {err}")
        raise
    first = results[0]
    shown = slice(0, 10_000)
    loggers.finish(
        metrics,
        plots,
        {
            "i": first.i[shown],
            "j": first.j[shown],
            "target": first.target[shown],
            "prediction": first.prediction[shown],
        },
    )
    return metrics


def _plots(
    plot_dir: Path, inputs: Inputs, results: list[FoldResult], metrics: dict
) -> dict[str, Path]:
    """The run's figures (first fold's scatter; all folds' curves and scores)."""
    from fmri_rdm.plots import save_run_plots

    first = results[0]
    train = None
    if first.train_target is not None and first.train_prediction is not None:
        train = (first.train_target, first.train_prediction)
    histories = [r.history for r in results if r.history]
    return save_run_plots(
        plot_dir,
        rdm=inputs.rdm,
        n_images=inputs.n_images,
        metric=inputs.metric,
        paths=inputs.paths,
        metrics=metrics,
        histories=histories or None,
        train_scatter=train,
        test_scatter=None if metrics["model"] == "svm" else (first.target, first.prediction),
        confusion=first.scores.get("confusion_matrix"),
        color_labels=inputs.color_labels,
    )
