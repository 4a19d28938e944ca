"""model.encoding_prior through the learner: fitted on the fit images only, kept by checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.models.pair_network.learner import PairNetworkLearner
from fmri_rdm.models.pair_network.priors.ridge_rdm_fit import fit_only
from tests.models.fold import make_fold
from tests.models.pair_network.test_response_supervision import learner_config


def test_prior_is_the_encoding_model_of_the_fit_images(tmp_path: Path) -> None:
    fold = make_fold(n=60, n_train=40, tmp=tmp_path)
    fold.fit_images, fold.val_images = np.arange(32), np.arange(32, 40)
    keep = np.isin(fold.train.i, fold.fit_images) & np.isin(fold.train.j, fold.fit_images)
    fold.fit = fold.train.take(keep)
    fold.val = fold.train.take(
        np.isin(fold.train.i, fold.val_images) & np.isin(fold.train.j, fold.val_images)
    )
    # validation and test images' responses are NaN: a prior reading them would go NaN
    fold.responses = fold.responses.copy()
    fold.responses[32:] = np.nan
    cfg = learner_config(["model=siamese", "model.encoding_prior=true", "model.response_weight=0"])
    learner = PairNetworkLearner.from_config(cfg)
    report = learner.fit(fold)
    assert report.facts["prior_slope"] > 0 and np.isfinite(report.facts["prior_oos_r"])
    prior = learner.module.prior
    assert prior is not None and torch.isfinite(prior.basis).all()
    # the prior's raw distances are an independently fitted encoding model's (numpy path)
    reference = EncodingLearner(metric="correlation")
    reference.fit(fit_only(fold))
    i, j = np.arange(40, 59), np.arange(41, 60)
    expected = reference.predict(fold.table, i, j)
    table = torch.from_numpy(fold.table)
    got = prior.raw_distances(table, torch.from_numpy(i), torch.from_numpy(j)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
    pred = learner.predict(fold.table, i, j)
    assert np.isfinite(pred).all() and pred.std() > 0
    loaded = PairNetworkLearner.load(tmp_path, 0, cfg)
    np.testing.assert_allclose(loaded.predict(fold.table, i, j), pred, rtol=1e-5, atol=1e-6)


def test_blocks_plan_with_prior_and_metric_head(tmp_path: Path) -> None:
    fold = make_fold(n=40, n_train=30, tmp=tmp_path)
    extra = [
        "model=siamese",
        "model.encoding_prior=true",
        "model.plan=blocks",
        "model.block_steps=3",
        "model.net.head=metric",
        "model.response_weight=0.5",
    ]
    learner = PairNetworkLearner.from_config(learner_config(extra))
    learner.fit(fold)
    pred = learner.predict(fold.table, np.arange(30, 39), np.arange(31, 40))
    assert np.isfinite(pred).all()
    gate = float(learner.module.prior.gate.detach())
    assert gate != 0.0  # trained: the network's correction is switched in


def test_pair_mlp_takes_the_prior_too(tmp_path: Path) -> None:
    fold = make_fold(n=40, n_train=30, tmp=tmp_path)
    cfg = learner_config(["model=mlp", "model.encoding_prior=true"])
    learner = PairNetworkLearner.from_config(cfg)
    learner.fit(fold)
    i, j = np.arange(30, 39), np.arange(31, 40)
    pred = learner.predict(fold.table, i, j)
    assert np.isfinite(pred).all() and learner.module.prior is not None
    loaded = PairNetworkLearner.load(tmp_path, 0, cfg)
    np.testing.assert_allclose(loaded.predict(fold.table, i, j), pred, rtol=1e-5, atol=1e-6)
