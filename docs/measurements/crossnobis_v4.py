"""The V4 measurements of docs/crossnobis.md: crossnobis on real spike counts per repeat.

    python docs/measurements/crossnobis_v4.py RAW.npy

RAW: one session of cowleygroup/V4_compact_models, `data_V4_responses/responses_raw/
responses_<session>.npy` (neurons x images x repeats, spike counts, NaN where an image was not
shown that often); the docs use session 201016 (session 210325 is kept aside for judging).
Each (image, repeat) with counts is a trial, the repeat number its partition (unbalanced:
images have 5 to 7 repeats).

1. Agreement and time: the project's crossnobis (shrinkage_diag) and poisson_cv against
   rsatoolbox's calc_rdm_unbalanced on the same trials, in one process.
2. Split-half reliability: the RDM from the even repeats against the one from the odd repeats
   (Spearman over pairs), for the Euclidean distance of the averages, crossnobis (identity,
   diag, shrinkage_diag) and poisson_cv: the more reliable measure gives the steadier target.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.stats import spearmanr

from fmri_rdm.rsa.distances import trial_rdm


def trials(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (T, neurons), image (T,), repeat (T,)) of the (image, repeat) cells with counts."""
    cells = ~np.isnan(raw).all(axis=0)  # (images, repeats)
    image, repeat = np.nonzero(cells)
    return raw[:, image, repeat].T, image, repeat


def agreement(x: np.ndarray, image: np.ndarray, repeat: np.ndarray) -> None:
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import prec_from_unbalanced
    from rsatoolbox.rdm import calc_rdm_unbalanced

    data = Dataset(x, obs_descriptors={"image": image, "repeat": repeat})
    for method, noise in (("crossnobis", "shrinkage_diag"), ("poisson_cv", "identity")):
        start = time.perf_counter()
        ours, _ = trial_rdm(x, image, repeat, method=method, noise=noise)
        mine = time.perf_counter() - start
        start = time.perf_counter()
        prec = prec_from_unbalanced(data, "image", method=noise) if noise != "identity" else None
        ref = calc_rdm_unbalanced(
            data, method=method, descriptor="image", cv_descriptor="repeat", noise=prec
        ).dissimilarities[0]
        theirs = time.perf_counter() - start
        diff = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
        print(f"{method:10s} {noise:14s} project {mine:6.2f} s  rsatoolbox {theirs:7.2f} s  "
              f"ratio {theirs / mine:6.0f}x  max rel diff {diff:.1e}")  # fmt: skip


def split_half(x: np.ndarray, image: np.ndarray, repeat: np.ndarray) -> None:
    halves = [repeat % 2 == 0, repeat % 2 == 1]
    candidates = [
        ("euclidean (averages)", "euclidean", "identity"),
        ("crossnobis identity", "crossnobis", "identity"),
        ("crossnobis diag", "crossnobis", "diag"),
        ("crossnobis shrinkage_diag", "crossnobis", "shrinkage_diag"),
        ("poisson_cv", "poisson_cv", "identity"),
    ]
    for name, method, noise in candidates:
        rdms = []
        for half in halves:
            # images with repeats in two partitions of this half
            ok = np.isin(image, _twice(image[half], repeat[half]))
            keep = half & ok
            rdms.append(trial_rdm(x[keep], image[keep], repeat[keep], method=method,
                                  noise=noise))  # fmt: skip
        common = np.intersect1d(rdms[0][1], rdms[1][1])
        vals = [_sub(d, labels, common) for d, labels in rdms]
        rho = spearmanr(vals[0], vals[1])[0]
        print(f"{name:28s} split-half Spearman {rho:.3f} over {len(common)} images")


def _twice(image: np.ndarray, repeat: np.ndarray) -> np.ndarray:
    pairs = np.unique(np.stack([image, repeat]), axis=1)
    ids, counts = np.unique(pairs[0], return_counts=True)
    return ids[counts >= 2]


def _sub(rdm: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import squareform

    pos = np.searchsorted(labels, keep)
    return squareform(squareform(rdm)[np.ix_(pos, pos)], checks=False)


def main(argv: list[str]) -> None:
    raw = np.load(argv[0])
    x, image, repeat = trials(raw)
    print(f"{raw.shape[0]} neurons, {raw.shape[1]} images, {len(x)} trials")
    agreement(x, image, repeat)
    split_half(x, image, repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
