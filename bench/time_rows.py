"""Bench rows of time-resolved data (issue 39): RDMs of every window and the cluster test.

- RDMs per time point, 92 stimuli x 306 sensors x 1,100 samples at 1 ms (one window per
  sample), against scipy `pdist` called once per time point (the same RDMs).
- The cluster-mass sign-flip test, 1,000 permutations over 15 subjects x 1,100 times, against
  MNE's `permutation_cluster_1samp_test` on the same input (its own permutation loop).
Targets: under 10 s each on 2 cores.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial.distance import pdist

from bench.table import Row, Sizes, best_of, ratio_of
from fmri_rdm.rsa.windows import sliding_windows, window_rdms
from fmri_rdm.stats.clusters import cluster_test


def _pdist_loop(x: np.ndarray) -> np.ndarray:
    return np.stack([pdist(x[:, :, t], "correlation") for t in range(x.shape[2])])


def _mne(x: np.ndarray, n_perm: int) -> object:
    from mne.stats import permutation_cluster_1samp_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return permutation_cluster_1samp_test(
            x, tail=1, n_permutations=n_perm, seed=0, verbose=False
        )


def bench_time(sizes: Sizes) -> list[Row]:
    """The two rows above at the bench sizes (`--only time`)."""
    n, units, samples = sizes.time_rdm
    x = np.random.default_rng(0).normal(size=(n, units, samples)).astype(np.float32)
    windows = sliding_windows(np.arange(samples, dtype=np.float64))
    project = best_of(lambda: window_rdms(x, windows), sizes.repeats)
    base = best_of(lambda: _pdist_loop(x), 1)
    rows = [
        Row(
            operation="RDMs per time point (correlation) vs pdist per time point",
            size=f"{n} stimuli x {units} units x {samples} times",
            project_s=project,
            baseline_s=base,
            ratio=ratio_of(base, project),
            target="< 10 s",
            met=project < 10,
        )
    ]
    subjects, times, n_perm = sizes.time_clusters
    scores = np.random.default_rng(1).normal(0.02, 0.1, (subjects, times))
    project = best_of(lambda: cluster_test(scores, n_permutations=n_perm), sizes.repeats)
    base = best_of(lambda: _mne(scores, n_perm), 1)
    rows.append(
        Row(
            operation="cluster test (sign flips) vs MNE permutation_cluster_1samp_test",
            size=f"{subjects} subjects x {times} times, {n_perm} perms",
            project_s=project,
            baseline_s=base,
            ratio=ratio_of(base, project),
            target="< 10 s",
            met=project < 10,
        )
    )
    return rows
