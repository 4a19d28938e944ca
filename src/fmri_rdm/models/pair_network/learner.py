"""Lightning pair networks (mlp, siamese, siamese_cnn) as learners.

The network is `model.net` (its `_target_` and constructor arguments, lightning-hydra-template's
layout); `PairRegressionModule` trains it on index batches from `PairDataModule`, and the best
epoch by validation loss is kept (the last epoch when the fold has no validation images, as in
the original student project).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import MISSING, DictConfig, OmegaConf

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import (
    FitReport,
    FoldData,
    ModelConfig,
    TaskName,
    saved_file,
    saved_fold_numbers,
)
from fmri_rdm.models.legacy import resolve_path
from fmri_rdm.models.pair_network.network_config import network_config
from fmri_rdm.models.pair_network.priors.choice import keep_prior_if_better
from fmri_rdm.models.pair_network.priors.pattern_fit import check_rdm_prior, fit_rdm_prior
from fmri_rdm.models.pair_network.priors.ridge_rdm_fit import has_responses
from fmri_rdm.models.registry import model_settings

log = logging.getLogger(__name__)


@dataclass
class PairNetworkConfig(ModelConfig):
    # the network: `_target_` and its constructor's arguments (typed by the constructor itself)
    net: Any = MISSING
    # weight of the voxel read-out loss beside the pair loss (0: pairs only; models.readout)
    response_weight: float = MISSING
    # pairs: minibatches of pairs (training.batch_size); blocks: every step a block of images,
    # all pairs among them (`models.blocks`); runs made before the blocks plan had pairs
    plan: str = MISSING
    # blocks plan: the most images a block holds (the whole fold's fit images when fewer)
    block_images: int = MISSING
    # blocks plan: optimisation steps (blocks) per epoch (runs made before it: pairs, through
    # learners.legacy.upgrade_model_config)
    block_steps: int = MISSING
    # start from the encoding model's RDM (models.encoding_prior; needs responses)
    encoding_prior: bool = MISSING
    # on RDM-only data: start from rsa or frrsa (models.pattern_prior), or none
    rdm_prior: str = MISSING


PLANS = ("pairs", "blocks")


def target_scaling(net: torch.nn.Module, fit_y: np.ndarray, bounded: bool) -> tuple[float, float]:
    """(mean, std) the module maps the net's output with (pred = out · std + mean).

    A sigmoid head already spans the metric's range: (0, 1). A head whose output is a
    distance on the targets' own form (the correlation head, `target_scaling = "mean"`):
    (0, mean target), so that it starts at its natural scale. Other heads: z-scored targets.
    """
    if bounded:
        return 0.0, 1.0
    if getattr(net, "target_scaling", "standardise") == "mean":
        return 0.0, float(np.mean(fit_y)) or 1.0
    return float(np.mean(fit_y)), float(np.std(fit_y)) or 1.0


def auto_batch_size(n_pairs: int, steps_per_epoch: int, largest: int) -> int:
    """The batch size that gives an epoch about `steps_per_epoch` optimizer steps, capped at
    `largest` (full-scale data keeps the large, fast batches) and at least 64 pairs."""
    return int(min(largest, max(64, math.ceil(n_pairs / max(1, steps_per_epoch)))))


@dataclass(frozen=True)
class TrainingPlan:
    """`training.*` and `trainer`, read once: how a fold's network is optimised."""

    loss: str
    alpha: float
    batch_size: int | str  # an int, or "auto" (see `auto_batch_size`)
    steps_per_epoch: int
    max_auto_batch_size: int
    early_stopping_patience: int | None
    optimizer: Any  # params -> Optimizer (a Hydra partial)
    scheduler: Any  # Optimizer -> LRScheduler, or None
    trainer: DictConfig  # the run's `trainer` node (Hydra's errors then name its keys)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> TrainingPlan:
        t = cfg.training
        size = t.batch_size
        if str(size) != "auto":
            try:
                size = int(size)
            except (TypeError, ValueError):
                size = 0
            if size < 1:
                raise ConfigError(
                    f"training.batch_size={t.batch_size!r}: give a positive integer or auto"
                )
        return cls(
            loss=str(t.loss),
            alpha=float(t.alpha),
            batch_size=size if size == "auto" else int(size),
            steps_per_epoch=int(t.steps_per_epoch),
            max_auto_batch_size=int(t.max_auto_batch_size),
            early_stopping_patience=t.get("early_stopping_patience"),
            optimizer=instantiate(t.optimizer),
            scheduler=instantiate(t.scheduler) if t.scheduler else None,
            trainer=cfg.trainer,
        )

    def batch_size_for(self, n_pairs: int) -> int:
        if self.batch_size == "auto":
            return auto_batch_size(n_pairs, self.steps_per_epoch, self.max_auto_batch_size)
        return int(self.batch_size)


def encoding_prior_factory(cfg: DictConfig) -> Any:
    """() -> a fresh EncodingLearner with the run's encoding-baseline settings (defaults
    where the run has none), for the encoding prior."""
    from functools import partial

    from fmri_rdm.models.encoding.learner import EncodingLearner

    metric = str(cfg.metric.name)
    node = cfg.get("evaluation", {}).get("encoding_model")
    if node is None:
        return partial(EncodingLearner, metric=metric)
    accelerator = str(cfg.trainer.get("accelerator", "cpu"))
    key = "evaluation.encoding_model"
    return partial(EncodingLearner.from_model_config, node, metric, accelerator, key)


class PairNetworkLearner:
    """A pair network trained with Lightning; predicts RDM values of any pairs."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = True
    uses_validation: ClassVar[bool] = True
    fits_nothing: ClassVar[bool] = False
    config_schema: ClassVar[type] = PairNetworkConfig
    CHECKPOINT = "checkpoints/fold{fold}-best.ckpt"

    def __init__(
        self,
        net: dict[str, Any] | None = None,
        plan: TrainingPlan | None = None,
        response_weight: float = 0.0,
        blocks: tuple[int, int] | None = None,
        encoder: Any = None,
        rdm_prior: str = "none",
    ) -> None:
        self.net = net  # `_target_` + constructor arguments
        self.plan = plan
        self.response_weight = float(response_weight)
        self.blocks = blocks  # (block_images, block_steps) for the blocks plan, None: pairs
        # () -> EncodingLearner for the encoding prior (models.encoding_prior); None: no prior
        self.encoder = encoder
        # on RDM-only data (no encoder can be fitted): rsa | frrsa | none (learners.rdm_prior_fit)
        self.rdm_prior = check_rdm_prior(rdm_prior)
        self.module: Any = None  # PairRegressionModule once fitted or loaded
        self.prior_facts: dict[str, Any] = {}

    @classmethod
    def from_config(cls, cfg: DictConfig) -> PairNetworkLearner:
        settings = model_settings(cls, cfg.model)
        net = network_config(OmegaConf.create(settings.net))
        if settings.plan not in PLANS:
            raise ConfigError(f"model.plan={settings.plan!r}: choose one of {', '.join(PLANS)}")
        blocks = None
        if settings.plan == "blocks":
            blocks = (int(settings.block_images), int(settings.block_steps))
        encoder = encoding_prior_factory(cfg) if settings.encoding_prior else None
        plan = TrainingPlan.from_config(cfg)
        rdm_prior = str(settings.rdm_prior)
        return cls(net, plan, settings.response_weight, blocks, encoder, rdm_prior)

    def _build_net(self, data: FoldData) -> tuple[torch.nn.Module, dict[str, Any], bool]:
        """The net, its config (kept in the checkpoint) and whether its output is bounded."""
        assert self.net is not None
        kwargs = dict(self.net)
        if data.table.ndim == 2:  # embeddings; a CNN reads image shapes itself
            kwargs["in_dim"] = int(data.table.shape[1])
        if kwargs.get("head") == "metric":  # the RDM's own metric between the two outputs
            kwargs["metric"] = data.metric
        bounded = str(kwargs.get("head")) == "sigmoid"
        if bounded:
            if float(data.fit.y.min()) < 0:
                raise ConfigError(
                    "a sigmoid head outputs positive values but the targets go below 0 "
                    "(crossnobis): use an unbounded head (mlp: model.net.head=linear; "
                    "siamese: symmetric, concat or metric)"
                )
            # a sigmoid head covers the metric's range: [0, 2] for correlation distances
            top = 2.0 if data.metric == "correlation" else float(data.fit.y.max()) * 1.1
            kwargs["output_scale"] = top
        return instantiate(kwargs), kwargs, bounded

    def _module(self, data: FoldData) -> Any:
        from fmri_rdm.models.pair_network.module import PairRegressionModule
        from fmri_rdm.models.pair_network.readout import relative_weight

        assert self.plan is not None
        net, kwargs, bounded = self._build_net(data)
        target_mean, target_std = target_scaling(net, data.fit.y, bounded)
        prior_kind = self._prior_kind(data)
        module = PairRegressionModule(
            net,
            loss=self.plan.loss,
            alpha=self.plan.alpha,
            optimizer=self.plan.optimizer,
            scheduler=self.plan.scheduler,
            target_mean=target_mean,
            target_std=target_std,
            net_config=kwargs,
            response_weight=relative_weight(self.response_weight, self.plan.loss, data.fit.y),
            n_voxels=int(data.responses.shape[1]),
            prior_dim=int(np.prod(data.table.shape[1:])) if prior_kind else 0,
            prior_metric=data.metric,
            prior_kind=prior_kind or "encoding",
        )
        if self.response_weight:  # only the fit images' responses: never test or validation rows
            fit = np.asarray(data.fit_images)
            module.set_responses(len(data.table), fit, data.responses[fit], data.metric)
        if data.resume_from is None:
            self._calibrate(module, data)
            if module.prior is not None:  # a resumed fold's checkpoint holds the fitted prior
                self.prior_facts = self._fit_prior(module.prior, data, target_mean, target_std)
        return module

    def _prior_kind(self, data: FoldData) -> str | None:
        """encoding (model.encoding_prior, with responses), reweighted (model.rdm_prior, on
        RDM-only data) or None."""
        if self.encoder is not None:
            return "encoding"
        if self.rdm_prior != "none" and not has_responses(data):
            return "reweighted"
        return None

    def _fit_prior(self, prior: Any, data: FoldData, mean: float, std: float) -> dict[str, Any]:
        if self.encoder is not None:
            from fmri_rdm.models.pair_network.priors.ridge_rdm_fit import fit_encoding_prior

            return fit_encoding_prior(prior, data, self.encoder, mean, std)
        return fit_rdm_prior(prior, data, self.rdm_prior, mean, std)

    @staticmethod
    def _calibrate(module: Any, data: FoldData) -> None:
        """A metric head starts with its distances on the targets' scale (a sample of at
        most 65536 fit pairs, eval mode); other heads are left as built."""
        from fmri_rdm.models.pair_network.block_step import calibrate_metric_head

        rng = np.random.default_rng(data.seed)
        n = len(data.fit)
        pick = rng.choice(n, size=min(n, 65536), replace=False) if n else np.zeros(0, int)
        module.set_table(torch.from_numpy(np.ascontiguousarray(data.table)))
        i = torch.as_tensor(data.fit.i[pick], dtype=torch.int64)
        j = torch.as_tensor(data.fit.j[pick], dtype=torch.int64)
        if len(i) and calibrate_metric_head(module, i, j):
            log.info("fold %d: metric head calibrated on %d fit pairs", data.fold, len(i))

    def fit(self, data: FoldData) -> FitReport:
        import pytorch_lightning as pl

        from fmri_rdm.models.pair_network.datamodule import PairDataModule
        from fmri_rdm.models.pair_network.lightning_fit import (
            fold_callbacks,
            keep_best_weights,
            run_trainer,
        )

        assert self.plan is not None
        fold, seed, has_val = data.fold, data.seed, len(data.val) > 0
        pl.seed_everything(seed, workers=True, verbose=False)
        batch_size = self.plan.batch_size_for(len(data.fit))
        block_images, block_steps = self.blocks or (None, 0)
        datamodule = PairDataModule(
            torch.from_numpy(data.table),
            data.fit,
            val=data.val if has_val else None,
            batch_size=batch_size,
            seed=seed,
            block_images=block_images,
            block_steps=block_steps,
        )
        module = self._module(data)
        ckpt_dir = data.output_dir / "checkpoints"
        callbacks = fold_callbacks(ckpt_dir, fold, seed, has_val, self.plan.early_stopping_patience)
        _log_plan(data, batch_size, block_images, block_steps)
        trainer = run_trainer(
            self.plan.trainer,
            callbacks,
            module,
            datamodule,
            fold=fold,
            logger=data.logger,
            output_dir=data.output_dir,
            resume_from=data.resume_from,
        )
        best = keep_best_weights(trainer, callbacks.best, module, ckpt_dir, fold)
        self.module = module
        if module.prior is not None and has_val:
            kept = keep_prior_if_better(module, data.val, best, write=trainer.is_global_zero)
            self.prior_facts["kept"] = kept
            log.info("fold %d: kept the %s (validation loss)", fold, kept)
        facts = {
            "epochs": int(trainer.current_epoch),
            "plan": "pairs" if block_images is None else "blocks",
            "batch_size": batch_size,
            "block_images": block_images,
            "best_checkpoint": best,
            **self.prior_facts,
        }
        return FitReport(facts=facts, history=callbacks.history.recorded())

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise ConfigError("the pair network is not fitted: call fit() or load() first")
        self.module.set_table(torch.from_numpy(np.ascontiguousarray(table)))
        return self.module.predict_pairs(i, j)

    def save(self, run_dir: Path, fold: int) -> Path:
        # Lightning's checkpoint callback already wrote it during fit
        return Path(run_dir) / self.CHECKPOINT.format(fold=fold)

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> PairNetworkLearner:
        from fmri_rdm.models.pair_network.module import PairRegressionModule

        path = saved_file(run_dir, cls.CHECKPOINT, fold)
        # trusted file: written by this project's own training run
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        hparams = dict(ckpt["hyper_parameters"])
        net_config = dict(hparams["net_config"])
        net_config["_target_"] = resolve_path(str(net_config["_target_"]))
        module = PairRegressionModule(instantiate(net_config), **hparams)
        module.load_state_dict(ckpt["state_dict"])
        learner = cls()
        learner.module = module
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.CHECKPOINT)


def _log_plan(data: FoldData, batch_size: int, block_images: int | None, block_steps: int) -> None:
    """What a fold trains on: pairs and batches, or blocks of fit images."""
    if block_images is None:
        steps = math.ceil(len(data.fit) / batch_size)
        log.info(
            "fold %d: %d training pairs, batch size %d (%d steps per epoch)",
            *(data.fold, len(data.fit), batch_size, steps),
        )
        return
    n_fit = len(data.fit_images)
    log.info(
        "fold %d: %d training pairs among %d fit images, blocks of %d images (%d steps per epoch)",
        *(data.fold, len(data.fit), n_fit, min(block_images, n_fit), block_steps),
    )
