"""Trial-level designs: which condition and which partition (run, session, repeat) each trial
belongs to, and the per-cell sums the distance estimators are built from.

A trial is one row of a (T, V) response matrix. Rows that are NaN in every unit are missing
trials and are dropped; a row with only some NaN units is an error (drop those units first).
Conditions and partitions are coded 0..C-1 and 0..K-1 in sorted order of their labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fmri_rdm.errors import DataError


@dataclass(frozen=True)
class TrialDesign:
    """Codes of the kept trials.

    condition: (T,) int64 in [0, C); partition: (T,) int64 in [0, K); labels: (C,) the sorted
    condition labels; counts: (C, K) float64 number of trials per (condition, partition) cell.
    """

    condition: np.ndarray
    partition: np.ndarray
    labels: np.ndarray
    counts: np.ndarray

    @property
    def n_conditions(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_partitions(self) -> int:
        return int(self.counts.shape[1])

    def indicator(self, dtype: type[np.floating] = np.float64) -> sp.csr_matrix:
        """(C*K, T) sparse 0/1 matrix: row c*K + k marks the trials of cell (c, k)."""
        t = self.condition.shape[0]
        rows = self.condition * self.n_partitions + self.partition
        shape = (self.n_conditions * self.n_partitions, t)
        return sp.csr_matrix((np.ones(t, dtype), (rows, np.arange(t))), shape=shape)


def finite_trials(
    trials: np.ndarray,
    conditions: np.ndarray,
    partitions: np.ndarray | None,
    dtype: type[np.floating] = np.float64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop missing trials (rows NaN in every unit); check shapes and the other values.

    trials: (T, V) numbers; conditions: (T,) labels; partitions: (T,) labels or None (every
    trial its own partition). Returns (T', V) trials of `dtype` and the (T',) labels kept.
    """
    x = np.asarray(trials)
    if x.ndim != 2 or x.shape[1] < 1:
        raise DataError(f"trials must be 2-D (trials x units), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise DataError(f"trials must be real numbers, got dtype {x.dtype}")
    cond = np.asarray(conditions)
    part = np.arange(x.shape[0]) if partitions is None else np.asarray(partitions)
    if cond.shape != (x.shape[0],) or part.shape != (x.shape[0],):
        raise DataError(
            f"{x.shape[0]} trials but {cond.shape[0]} condition and {part.shape[0]} partition "
            "labels: give one label of each per trial"
        )
    nan = np.isnan(x) if np.issubdtype(x.dtype, np.floating) else np.zeros(x.shape, bool)
    missing = nan.all(axis=1)
    partial = nan.any(axis=1) & ~missing
    if partial.any():
        units = int(nan[~missing].any(axis=0).sum())
        raise DataError(
            f"{int(partial.sum())} trials have NaN in some of their units ({units} units "
            "affected): drop those units or mark the whole trial missing (all NaN)"
        )
    keep = ~missing
    x = np.asarray(x[keep] if not keep.all() else x, dtype=dtype)
    if not np.isfinite(x).all():
        raise DataError("trials contain infinite values: check the data")
    if x.shape[0] == 0:
        raise DataError("every trial is missing (all NaN)")
    return x, cond[keep], part[keep]


def trial_design(conditions: np.ndarray, partitions: np.ndarray) -> TrialDesign:
    """Codes and cell counts of (T,) condition and partition labels."""
    labels, condition = np.unique(np.asarray(conditions), return_inverse=True)
    _, partition = np.unique(np.asarray(partitions), return_inverse=True)
    condition = condition.astype(np.int64).ravel()
    partition = partition.astype(np.int64).ravel()
    n_k = int(partition.max()) + 1 if partition.size else 0
    counts = np.zeros((labels.shape[0], n_k))
    np.add.at(counts, (condition, partition), 1.0)
    return TrialDesign(condition, partition, labels, counts)


def cell_sums(x: np.ndarray, design: TrialDesign) -> np.ndarray:
    """(K, C, V) sums of the trials of each (partition, condition) cell (zero where empty).

    x: (T, V) float32 or float64 trials in the order of `design`.
    """
    sums = np.asarray(design.indicator(x.dtype.type) @ x)  # (C*K, V)
    c, k = design.n_conditions, design.n_partitions
    return np.ascontiguousarray(sums.reshape(c, k, -1).transpose(1, 0, 2))


def condition_means(x: np.ndarray, design: TrialDesign) -> np.ndarray:
    """(C, V) mean of every condition's trials over all partitions."""
    total = cell_sums(x, design).sum(axis=0)
    return np.asarray(total / design.counts.sum(axis=1)[:, None])


def cross_pair_counts(counts: np.ndarray) -> np.ndarray:
    """(C, C) number of ordered trial pairs (a of i, b of j) from different partitions.

    counts: (C, K) trials per cell. W = n n^T - N N^T with n the per-condition totals.
    """
    total = counts.sum(axis=1)
    return np.asarray(np.outer(total, total) - counts @ counts.T)


def upper(square: np.ndarray) -> np.ndarray:
    """The strict upper triangle of a (C, C) matrix in condensed (pdist) order, float64."""
    c = square.shape[0]
    return np.asarray(square[np.triu(np.ones((c, c), dtype=bool), 1)], dtype=np.float64)
