"""The measured RDM of trial-level data with the cross-validated (or noise-normalised)
distances of rsa.distances: the metrics that need trials, not one averaged pattern each."""

from __future__ import annotations

import numpy as np

from fmri_rdm.data.trials import Trials
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.noise import check_noise
from fmri_rdm.rsa.rdm import TRIAL_METRICS, compute_rdm


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


def split_half_rdms(
    trials: Trials | None,
    n_stimuli: int,
    metric: str,
    noise: str = "shrinkage_diag",
    *,
    per_partition: bool = False,
    standardize: bool = True,
) -> np.ndarray | None:
    """(2, M(M-1)/2) float64 RDMs of the two halves of the partitions (alternate partitions in
    sorted order), each with `metric` as the run measures it, for the within-subject split-half
    ceiling; NaN for the pairs a half cannot measure. None without trials, or when a half has
    too few partitions (a cross-validated metric needs two in each: 4 partitions in all).

    correlation / euclidean: of each half's stimulus averages (z-scored per unit over the
    stimuli when `standardize`, as the run's responses are).
    """
    if trials is None:
        return None
    labels = np.unique(trials.partition)
    need = 2 if metric in ("crossnobis", "poisson_cv") else 1
    if labels.size < 2 * need:
        return None
    out = np.full((2, n_stimuli * (n_stimuli - 1) // 2), np.nan)
    for half in range(2):
        chosen = np.isin(trials.partition, labels[half::2])
        out[half] = _half_rdm(trials, chosen, n_stimuli, metric, noise, per_partition, standardize)
    return out


def _half_rdm(
    trials: Trials, chosen: np.ndarray, n: int, metric: str, noise: str, per_partition: bool,
    standardize: bool,
) -> np.ndarray:  # fmt: skip
    """The condensed RDM over all n stimuli from the `chosen` trials (NaN where not measured)."""
    from scipy.spatial.distance import squareform

    from fmri_rdm.rsa.distances import trial_rdm

    x, stim, part = trials.x[chosen], trials.stimulus[chosen], trials.partition[chosen]
    if metric in TRIAL_METRICS:
        rdm, labels = trial_rdm(x, stim, part, method=metric, noise=noise,
                                per_partition=per_partition)  # fmt: skip
    else:
        labels = np.unique(stim)
        sums = np.zeros((labels.size, x.shape[1]))
        pos = np.searchsorted(labels, stim)
        np.add.at(sums, pos, x)
        means = sums / np.bincount(pos)[:, None]
        if standardize:
            means = (means - means.mean(axis=0)) / np.where(means.std(axis=0) > 0,
                                                           means.std(axis=0), 1.0)  # fmt: skip
        rdm = compute_rdm(means, metric).astype(np.float64)
    square = np.full((n, n), np.nan)
    square[np.ix_(labels, labels)] = squareform(rdm, checks=False)
    np.fill_diagonal(square, 0.0)
    return np.asarray(squareform(square, checks=False))
