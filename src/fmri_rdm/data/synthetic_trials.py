"""Synthetic trial-level responses with a known noise covariance (`.trials.npy` folders).

Each stimulus' noise-free pattern is measured once per partition (run / repeat) with noise
e = sd * (w + L f): w white over units, f a few shared factors with loadings L (V, F), so the
noise covariance is sd^2 (I + L L^T), correlated across units as in fMRI. A share of the
trials is missing (NaN rows) and another share is not recorded at all (an unbalanced design).
The noise-free patterns are written beside the data, under ROOT/_truth/ (folders starting
with `_` are not subjects), so that estimated RDMs can be judged against the true one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TRUTH = "_truth"


def noise_loadings(rng: np.random.Generator, n_units: int, n_factors: int = 4) -> np.ndarray:
    """(V, F) loadings of the shared noise factors (unit-scale: about half the noise variance)."""
    return rng.standard_normal((n_units, n_factors)) / np.sqrt(n_factors)


def noise_covariance(loadings: np.ndarray, sd: float) -> np.ndarray:
    """(V, V) covariance sd^2 (I + L L^T) of the noise `simulate_trials` draws."""
    return sd**2 * (np.eye(loadings.shape[0]) + loadings @ loadings.T)


def simulate_trials(
    signal: np.ndarray,
    n_partitions: int,
    rng: np.random.Generator,
    *,
    sd: float = 1.0,
    loadings: np.ndarray | None = None,
    missing: float = 0.0,
    unrecorded: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (T, V) float32, stimulus (T,) int64, partition (T,) int64) trials of `signal` (N, V).

    Every stimulus once per partition, in a shuffled order within each partition; a share
    `missing` of the trials set to NaN, a share `unrecorded` removed.
    """
    n, v = signal.shape
    stim = np.concatenate([rng.permutation(n) for _ in range(n_partitions)])
    part = np.repeat(np.arange(n_partitions), n)
    noise = rng.standard_normal((stim.size, v))
    if loadings is not None:
        noise += rng.standard_normal((stim.size, loadings.shape[1])) @ loadings.T
    x = signal[stim] + sd * noise
    x[rng.random(stim.size) < missing] = np.nan
    keep = rng.random(stim.size) >= unrecorded
    return x[keep].astype(np.float32), stim[keep], part[keep]


def write_trials(
    folder: Path, roi: str, ids: list[str], signal: np.ndarray, n_partitions: int,
    rng: np.random.Generator, *, sd: float = 1.0, column: str = "run",
) -> None:  # fmt: skip
    """`<roi>.trials.npy` / `.trials.tsv` of `signal` (N, V), stimulus k = ids[k], and the
    noise-free patterns in ROOT/_truth/<subject>/<roi>.npy (ROOT = folder's parent)."""
    loadings = noise_loadings(rng, signal.shape[1])
    x, stim, part = simulate_trials(
        signal, n_partitions, rng, sd=sd, loadings=loadings, missing=0.03, unrecorded=0.05
    )
    np.save(folder / f"{roi}.trials.npy", x)
    lines = [f"stimulus_id\t{column}"] + [
        f"{ids[s]}\t{column}{p + 1}" for s, p in zip(stim, part, strict=True)
    ]
    (folder / f"{roi}.trials.tsv").write_text("\n".join(lines) + "\n")
    truth = folder.parent / TRUTH / folder.name
    truth.mkdir(parents=True, exist_ok=True)
    np.save(truth / f"{roi}.npy", signal.astype(np.float32))
    np.save(truth / f"{roi}.noise_cov.npy", noise_covariance(loadings, sd).astype(np.float32))
