"""Learners: every model behind one protocol (`base.Learner`), found through the model config
(`registry`); runs written by older code load through `legacy`."""

from __future__ import annotations

from fmri_rdm.learners.base import FitReport, FoldData, Learner, TaskName
from fmri_rdm.learners.registry import build_learner, learner_class, model_settings

__all__ = [
    "FitReport",
    "FoldData",
    "Learner",
    "TaskName",
    "build_learner",
    "learner_class",
    "model_settings",
]
