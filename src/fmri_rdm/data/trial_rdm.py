"""The measured RDM of trial-level data with the cross-validated (or noise-normalised)
distances of rsa.distances: the metrics that need trials, not one averaged pattern each."""

from __future__ import annotations

import numpy as np

from fmri_rdm.data.trials import Trials
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.distances import METHODS
from fmri_rdm.rsa.noise import check_noise

# metrics of the measured RDM that are computed from the trials (the others, correlation and
# euclidean, from the averaged responses: rsa.rdm.compute_rdm, as for any responses)
TRIAL_METRICS: tuple[str, ...] = tuple(m for m in METHODS if m not in ("euclidean", "correlation"))


def needs_trials(metric: str) -> bool:
    """Whether the measured RDM of `metric` is computed from trials."""
    return metric in TRIAL_METRICS


def trials_rdm(
    trials: Trials | None,
    n_stimuli: int,
    metric: str,
    noise: str = "shrinkage_diag",
    *,
    per_partition: bool = False,
    dtype: type[np.floating] = np.float64,
) -> np.ndarray:
    """(M(M-1)/2,) float64 condensed RDM over the M kept stimuli (pdist order) of `trials`.

    metric: one of TRIAL_METRICS; noise: rsa.noise.NOISE, pooled over the partitions or one
    estimate per partition. Raises DataError when the data has no trials.
    """
    from fmri_rdm.rsa.distances import trial_rdm

    if metric not in TRIAL_METRICS:
        raise ConfigError(f"metric {metric!r} is not computed from trials: {TRIAL_METRICS}")
    check_noise(noise)
    if trials is None:
        raise DataError(
            f"metric={metric} needs trial-level data: give the subject <roi>.trials.npy and "
            "<roi>.trials.tsv (docs/datasets.md), or use metric=correlation / euclidean"
        )
    rdm, labels = trial_rdm(
        trials.x, trials.stimulus, trials.partition, method=metric, noise=noise,
        per_partition=per_partition, dtype=dtype,
    )  # fmt: skip
    if labels.shape[0] != n_stimuli or not np.array_equal(labels, np.arange(n_stimuli)):
        raise DataError(f"the trials cover {labels.shape[0]} of the {n_stimuli} kept stimuli")
    if not np.isfinite(rdm).all():
        raise DataError(f"{int((~np.isfinite(rdm)).sum())} {metric} dissimilarities are NaN")
    return rdm
