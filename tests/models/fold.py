"""A tiny fold for the learners' tests: random features, responses and pairs (`make_fold`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fmri_rdm.models.base import FoldData
from fmri_rdm.rsa.pairs import all_pairs
from fmri_rdm.rsa.rdm import compute_rdm, rdm_values
from fmri_rdm.rsa.splits import PairSplit, split_pairs


def make_fold(
    n: int = 40, d: int = 6, v: int = 5, n_train: int = 30, seed: int = 0, tmp: Path = Path(".")
) -> FoldData:
    """n images with (n, d) features, (n, v) responses linear in them plus noise; the first
    n_train images train, the fit/val split is the whole training set."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    responses = (x @ rng.normal(size=(d, v)) + 0.5 * rng.normal(size=(n, v))).astype(np.float32)
    i, j = all_pairs(n)
    y = rdm_values(compute_rdm(responses, "correlation"), i, j, n)
    train = np.arange(n_train)
    mask, _ = split_pairs(i, j, train, np.arange(n_train, n), n)
    train_pairs = PairSplit(i[mask], j[mask], y[mask])
    return FoldData(
        fold=0,
        seed=seed,
        metric="correlation",
        table=x,
        train_images=train,
        fit_images=train,
        val_images=train[:0],
        fit=train_pairs,
        val=PairSplit.empty(train_pairs),
        train=train_pairs,
        responses=responses,
        output_dir=tmp,
    )
