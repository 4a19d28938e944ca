"""Every model behind one protocol (`base.Learner`), found through the model config (`registry`),
one folder per model family: `rsa/`, `encoding/`, `frrsa/`, `svm/`, `pair_network/` (with its
`nets/` and `priors/`). Shared here: the protocol, the registry, calibration onto the target
scale, and `legacy` (runs written by older code keep loading)."""

from __future__ import annotations

from fmri_rdm.models.base import FitReport, FoldData, Learner, TaskName
from fmri_rdm.models.registry import build_learner, learner_class, model_settings

__all__ = [
    "FitReport",
    "FoldData",
    "Learner",
    "TaskName",
    "build_learner",
    "learner_class",
    "model_settings",
]
