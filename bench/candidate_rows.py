"""Bench rows of the candidate-RDM maths: cross-validated variance partitioning of 3 candidate
RDMs over every pair of `folds_images` images (9,841 images: 48 M pairs), 5 image-disjoint
folds, 7 subsets fitted per fold. No baseline: the target is an absolute time on 2 cores."""

from __future__ import annotations

import numpy as np

from bench.table import Row, Sizes, best_of


def _candidates(n: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Three float32 candidate RDMs (two sharing a component) and a brain RDM over n images."""
    from fmri_rdm.rsa.rdm import n_pairs

    rng = np.random.default_rng(seed)
    p = n_pairs(n)
    shared = rng.random(p, dtype=np.float32)
    cands = [shared + rng.random(p, dtype=np.float32) for _ in range(2)]
    cands.append(rng.random(p, dtype=np.float32))
    brain = cands[0] + 0.5 * cands[1] + 0.2 * cands[2]
    brain += rng.standard_normal(p, dtype=np.float32)
    return cands, brain


def bench_partition(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.pairs import all_pairs
    from fmri_rdm.rsa.partition import partition_variance
    from fmri_rdm.rsa.splits import image_disjoint_folds

    n = sizes.folds_images
    i, j = all_pairs(n)
    cands, brain = _candidates(n)
    folds = image_disjoint_folds(n, 5, seed=0)
    named = {"A": cands[0], "B": cands[1], "C": cands[2]}
    seconds = best_of(lambda: partition_variance(named, brain, i, j, folds, n), sizes.repeats)
    return [
        Row(
            "variance partitioning, 3 candidates, 5 folds",
            f"N={n} pairs={i.size:,}",
            seconds,
            target="< 30 s",
            met=seconds < 30.0,
        )
    ]
