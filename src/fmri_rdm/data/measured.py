"""The measured RDM of one subject and ROI: the one routine every consumer (the run's targets,
the noise ceilings, transfer, the export, `fmri_rdm.measured_rdm`) computes it with.

correlation / euclidean: of the responses (trial data: the per-stimulus averages), or the mean
over sessions of RDM data. mahalanobis / crossnobis / poisson_cv: from the trials
(data/trial_rdm.py, rsatoolbox's values), with the noise estimate `noise` (metric.noise)
pooled over partitions or one per partition (metric.per_partition).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fmri_rdm.data.source import SubjectData
from fmri_rdm.data.trial_rdm import needs_trials, split_half_rdms, trials_rdm
from fmri_rdm.rsa import rdm as rdm_lib


def distance_settings(metric_cfg: Any) -> tuple[str, str, bool]:
    """(metric name, noise estimate, per partition) of a `metric` config node; configs
    written before metric.noise existed read as no noise estimate (identity)."""
    get = metric_cfg.get if hasattr(metric_cfg, "get") else lambda k, d=None: d
    return (
        str(metric_cfg.name),
        str(get("noise", None) or "identity"),
        bool(get("per_partition", False) or False),
    )


def measured_rdm(
    data: SubjectData,
    metric: str,
    noise: str = "shrinkage_diag",
    *,
    per_partition: bool = False,
    dtype: type[np.floating] = np.float32,
) -> np.ndarray:
    """(N(N-1)/2,) condensed RDM of `dtype` over the data's N kept stimuli: of the responses,
    of the trials (trial metrics), or the mean over sessions (pairs NaN in some sessions
    average the others). noise / per_partition: the trial metrics' noise estimate."""
    if needs_trials(metric):
        rdm = trials_rdm(data.trials, data.kept.size, metric, noise, per_partition=per_partition)
        return rdm.astype(dtype)
    if data.responses is not None:
        return rdm_lib.compute_rdm(data.responses, metric).astype(dtype, copy=False)
    assert data.sessions is not None
    sessions = data.sessions
    counts = np.isfinite(sessions).sum(axis=0)
    total = np.where(np.isfinite(sessions), sessions, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / counts).astype(dtype)  # NaN where every session is NaN


def measured_halves(
    data: SubjectData, metric: str, noise: str, *, per_partition: bool, standardize: bool
) -> np.ndarray | None:
    """(2, N(N-1)/2) float64 RDMs of the two halves of a trial subject's partitions, with the
    run's method (the within-subject split-half ceiling reads them as two sessions); None for
    data without trials or with too few partitions."""
    return split_half_rdms(
        data.trials, data.kept.size, metric, noise, per_partition=per_partition,
        standardize=standardize,
    )  # fmt: skip
