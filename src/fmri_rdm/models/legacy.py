"""How runs written by older code still load: one table of old names and one config upgrade.

`run_config.yaml` files and checkpoints keep the dotted paths and the config layout of the code
that wrote them. Everything that reads them resolves a dotted path through `resolve_path`, and a
model config through `upgrade_model_config`, so a rename or a layout change is one entry here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omegaconf import DictConfig, OmegaConf

# model.name -> learner of runs written before model configs named their `learner`
LEARNER_OF_MODEL = {
    "svm": "fmri_rdm.models.svm.learner.SVMLearner",
    "mlp": "fmri_rdm.models.pair_network.learner.PairNetworkLearner",
    "siamese": "fmri_rdm.models.pair_network.learner.PairNetworkLearner",
    "siamese_cnn": "fmri_rdm.models.pair_network.learner.PairNetworkLearner",
}

# old dotted path (module or module.Class) -> where it lives now; the longest prefix wins
MOVED: dict[str, str] = {
    "fmri_rdm.datamodule": "fmri_rdm.models.pair_network.datamodule",
    "fmri_rdm.evaluation": "fmri_rdm.rsa.scores",
    "fmri_rdm.splits": "fmri_rdm.rsa.splits",
    "fmri_rdm.experiment": "fmri_rdm.pipeline.experiment",
    "fmri_rdm.folds": "fmri_rdm.pipeline.folds",
    "fmri_rdm.inputs": "fmri_rdm.pipeline.inputs",
    "fmri_rdm.results": "fmri_rdm.reporting.results",
    "fmri_rdm.artifacts": "fmri_rdm.runtime.artifacts",
    # the design pass of issue 34: one folder per model family, run/ -> pipeline/, analysis/
    "fmri_rdm.learners.base": "fmri_rdm.models.base",
    "fmri_rdm.learners.registry": "fmri_rdm.models.registry",
    "fmri_rdm.learners.legacy": "fmri_rdm.models.legacy",
    "fmri_rdm.learners.calibration": "fmri_rdm.models.calibration",
    "fmri_rdm.learners.rsa": "fmri_rdm.models.rsa.learner",
    "fmri_rdm.learners.encoding": "fmri_rdm.models.encoding.learner",
    "fmri_rdm.learners.ridge_eigh": "fmri_rdm.models.encoding.ridge_eigh",
    "fmri_rdm.learners.frrsa": "fmri_rdm.models.frrsa.learner",
    "fmri_rdm.learners.frrsa_ridge": "fmri_rdm.models.frrsa.ridge",
    "fmri_rdm.learners.svm": "fmri_rdm.models.svm.learner",
    "fmri_rdm.learners.pair_network": "fmri_rdm.models.pair_network.learner",
    "fmri_rdm.learners.network_config": "fmri_rdm.models.pair_network.network_config",
    "fmri_rdm.learners.lightning_fit": "fmri_rdm.models.pair_network.lightning_fit",
    "fmri_rdm.learners.callbacks": "fmri_rdm.models.pair_network.callbacks",
    "fmri_rdm.learners.rdm_prior_fit": "fmri_rdm.models.pair_network.priors.pattern_fit",
    "fmri_rdm.learners.encoding_prior_fit": "fmri_rdm.models.pair_network.priors.ridge_rdm_fit",
    "fmri_rdm.learners.prior_choice": "fmri_rdm.models.pair_network.priors.choice",
    # the module became a package: only its class, so new paths under models.svm are left alone
    "fmri_rdm.models.svm.SVMPairClassifier": "fmri_rdm.models.svm.classifier.SVMPairClassifier",
    "fmri_rdm.models.svm_nystroem": "fmri_rdm.models.svm.nystroem",
    "fmri_rdm.models.module": "fmri_rdm.models.pair_network.module",
    "fmri_rdm.models.losses": "fmri_rdm.models.pair_network.losses",
    "fmri_rdm.models.datamodule": "fmri_rdm.models.pair_network.datamodule",
    "fmri_rdm.models.blocks": "fmri_rdm.models.pair_network.blocks",
    "fmri_rdm.models.block_step": "fmri_rdm.models.pair_network.block_step",
    "fmri_rdm.models.readout": "fmri_rdm.models.pair_network.readout",
    "fmri_rdm.models.mlp": "fmri_rdm.models.pair_network.nets.mlp",
    "fmri_rdm.models.siamese": "fmri_rdm.models.pair_network.nets.siamese",
    "fmri_rdm.models.siamese_cnn": "fmri_rdm.models.pair_network.nets.siamese_cnn",
    "fmri_rdm.models._common": "fmri_rdm.models.pair_network.nets._common",
    "fmri_rdm.models.metric_head": "fmri_rdm.models.pair_network.nets.metric_head",
    "fmri_rdm.models.prior_base": "fmri_rdm.models.pair_network.priors.base",
    "fmri_rdm.models.pattern_prior": "fmri_rdm.models.pair_network.priors.pattern",
    "fmri_rdm.models.encoding_prior": "fmri_rdm.models.pair_network.priors.ridge_rdm",
    "fmri_rdm.run.folds": "fmri_rdm.pipeline.folds",
    "fmri_rdm.run.task": "fmri_rdm.pipeline.task",
    "fmri_rdm.run.outputs": "fmri_rdm.pipeline.outputs",
    "fmri_rdm.run.data_kind": "fmri_rdm.pipeline.data_kind",
    "fmri_rdm.run.inputs": "fmri_rdm.pipeline.inputs",
    "fmri_rdm.run.selection": "fmri_rdm.pipeline.selection",
    "fmri_rdm.run.settings": "fmri_rdm.pipeline.settings",
    "fmri_rdm.run.experiment": "fmri_rdm.pipeline.experiment",
    "fmri_rdm.run.preflight": "fmri_rdm.pipeline.preflight",
    "fmri_rdm.run.transfer": "fmri_rdm.pipeline.transfer",
    "fmri_rdm.run.baselines": "fmri_rdm.pipeline.baselines",
    "fmri_rdm.run.completed": "fmri_rdm.pipeline.completed",
    "fmri_rdm.reporting.compare": "fmri_rdm.analysis.compare",
    "fmri_rdm.reporting.compare_render": "fmri_rdm.analysis.compare_render",
    "fmri_rdm.reporting.group": "fmri_rdm.analysis.group",
    "fmri_rdm.reporting.group_images": "fmri_rdm.analysis.group_images",
    "fmri_rdm.reporting.group_render": "fmri_rdm.analysis.group_render",
    "fmri_rdm.reporting.group_stats": "fmri_rdm.analysis.group_stats",
    "fmri_rdm.reporting.runs": "fmri_rdm.analysis.runs",
}

# model keys that configure the run, not a network (the flat layout before `model.net`)
_RUN_LEVEL = ("name", "learner", "input", "save_path", "load_path")


@contextmanager
def old_module_names(within: str) -> Iterator[None]:
    """While unpickling a file written by older code (a joblib model): every moved module whose
    home is under `within` (a family's package: only its modules are imported, never Lightning
    or the pipeline's) also answers to its old name, so the pickle's class paths resolve. The
    aliases are removed afterwards; a module of today's holding an old name is left alone."""
    added = []
    for old, new in MOVED.items():
        if not new.startswith(within + ".") and new != within:
            continue
        if old in sys.modules or old.rpartition(".")[2][:1].isupper():
            continue  # already importable, or a class path (no module to alias)
        try:
            sys.modules[old] = importlib.import_module(new)
        except ImportError:  # a class path whose last part is lower-case, or a gone module
            continue
        added.append(old)
    try:
        yield
    finally:
        for old in added:
            sys.modules.pop(old, None)


def resolve_path(dotted: str) -> str:
    """The current dotted path of `dotted` as older runs wrote it."""
    for old in sorted(MOVED, key=len, reverse=True):
        if dotted == old or dotted.startswith(old + "."):
            return MOVED[old] + dotted[len(old) :]
    return dotted


# frrsa before its published variants: the unpenalised NNLS on raw squared differences
_FRRSA_BEFORE_VARIANTS = {
    "variant": "nnls",
    "normalize": False,
    "hyperparams": None,
    "inner_folds": 5,
    "inner_repeats": 5,
}


# pair-network runs made before the blocks plan (issue 24) trained on minibatches of pairs
_BEFORE_BLOCKS = {"plan": "pairs", "block_images": 8192, "block_steps": 120}


def upgrade_model_config(model: DictConfig) -> DictConfig:
    """A model config in today's layout: older pair-network runs kept the network's
    `_target_` and constructor arguments beside the run-level keys instead of under `net`,
    and had no `plan` (they trained on pairs); the SVM's dead `_target_` is dropped; frrsa
    without `variant` was the NNLS variant. Today's configs come back unchanged."""
    upgraded = _upgrade_layout(model)
    if "net" in upgraded and "plan" not in upgraded:
        upgraded = OmegaConf.merge(_BEFORE_BLOCKS, upgraded)  # type: ignore[assignment]
    if "net" in upgraded and "encoding_prior" not in upgraded:
        # runs made before the encoding prior (issue 24) had none
        upgraded = OmegaConf.merge({"encoding_prior": False}, upgraded)  # type: ignore[assignment]
    if "net" in upgraded and "rdm_prior" not in upgraded:
        # nor the RDM-only prior (rsa / frrsa)
        upgraded = OmegaConf.merge({"rdm_prior": "none"}, upgraded)  # type: ignore[assignment]
    return upgraded


def _upgrade_layout(model: DictConfig) -> DictConfig:
    if str(model.get("learner", "")).endswith("FeatureReweightedRSA") and "variant" not in model:
        return OmegaConf.merge(_FRRSA_BEFORE_VARIANTS, model)  # type: ignore[return-value]
    if "_target_" not in model or "net" in model:
        return model
    flat: dict[str, Any] = OmegaConf.to_container(model, resolve=True)  # type: ignore[assignment]
    target = resolve_path(str(flat["_target_"]))
    run_level = {k: v for k, v in flat.items() if k in _RUN_LEVEL}
    rest = {k: v for k, v in flat.items() if k not in _RUN_LEVEL}
    if target.endswith("SVMPairClassifier"):
        rest.pop("_target_")
        return OmegaConf.create({**run_level, **rest})
    rest["_target_"] = target
    return OmegaConf.create({**run_level, "net": rest})
