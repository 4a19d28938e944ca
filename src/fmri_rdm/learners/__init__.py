"""Learners: every model behind one protocol (`base.Learner`), found through the model config.

A model config names its learner class in `learner:` (a dotted path); `learner_class` imports
it. Runs written before that key existed name only the model, and are mapped here.
"""

from __future__ import annotations

import importlib
from typing import Any

from omegaconf import DictConfig

from fmri_rdm.errors import ConfigError
from fmri_rdm.learners.base import FitReport, FoldData, Learner, Task

# run_config.yaml files of older runs have no `model.learner`
_LEGACY = {
    "svm": "fmri_rdm.learners.svm.SVMLearner",
    "mlp": "fmri_rdm.learners.pair_network.PairNetworkLearner",
    "siamese": "fmri_rdm.learners.pair_network.PairNetworkLearner",
    "siamese_cnn": "fmri_rdm.learners.pair_network.PairNetworkLearner",
}


def legacy_task(model_name: str | None) -> Task:
    """The task of a run written before metrics.json recorded it (only the SVM classified)."""
    return (
        "classification"
        if _LEGACY.get(str(model_name), "").endswith("SVMLearner")
        else "regression"
    )


def learner_class(model_cfg: DictConfig) -> Any:
    """The learner class named by `model.learner` (e.g. `fmri_rdm.learners.rsa.RSALearner`)."""
    dotted = model_cfg.get("learner") or _LEGACY.get(str(model_cfg.get("name")))
    if not dotted:
        raise ConfigError(
            f"model {model_cfg.get('name')!r} names no learner: add "
            "learner: <module>.<LearnerClass> to its config"
        )
    module_name, _, class_name = str(dotted).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"model.learner={dotted!r} cannot be imported ({err})") from err
    return cls


def build_learner(cfg: DictConfig) -> Learner:
    """A fresh learner for the run's model config; a regression learner's predictions are
    calibrated onto the target scale unless `evaluation.calibration=none` (`calibration.py`)."""
    from fmri_rdm.learners.calibration import CalibratedLearner

    return CalibratedLearner.from_config(cfg)


__all__ = [
    "FitReport",
    "FoldData",
    "Learner",
    "Task",
    "build_learner",
    "learner_class",
    "legacy_task",
]
