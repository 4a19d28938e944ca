"""The measured RDM of one subject and ROI: the one routine every consumer (the run's targets,
the noise ceilings, the export) computes it with."""

from __future__ import annotations

import numpy as np

from fmri_rdm.data.source import SubjectData
from fmri_rdm.rsa import rdm as rdm_lib


def measured_rdm(data: SubjectData, metric: str) -> np.ndarray:
    """(N(N-1)/2,) float32 condensed RDM: of the responses, or the mean over sessions (pairs
    NaN in some sessions average the others)."""
    if data.responses is not None:
        return rdm_lib.compute_rdm(data.responses, metric)
    assert data.sessions is not None
    sessions = data.sessions
    counts = np.isfinite(sessions).sum(axis=0)
    total = np.where(np.isfinite(sessions), sessions, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / counts).astype(np.float32)  # NaN where every session is NaN
