"""model.rdm_prior through the learner: RSA / frrsa fitted on the fit images of RDM-only data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import FoldData
from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA
from fmri_rdm.models.pair_network.learner import PairNetworkLearner
from fmri_rdm.models.pair_network.priors.pattern_fit import FRRSA_SETTINGS
from fmri_rdm.models.pair_network.priors.ridge_rdm_fit import fit_only
from fmri_rdm.rsa.rdm import pair_distances
from fmri_rdm.rsa.splits import PairSplit
from tests.models.fold import make_fold
from tests.models.pair_network.test_response_supervision import learner_config

ROOT = Path(__file__).resolve().parents[4]
# what run.data_kind switches off on RDM-only data
RDM_ONLY = ["model=siamese", "model.encoding_prior=false", "model.response_weight=0"]


def _rdm_only_fold(tmp: Path) -> FoldData:
    """A fold as RDM-only data gives it: no responses; 8 of the 30 training images validate."""
    fold = make_fold(n=50, n_train=30, tmp=tmp)
    fold.responses = np.zeros((50, 0), np.float32)
    fold.fit_images, fold.val_images = np.arange(22), np.arange(22, 30)
    inside = np.isin(fold.train.i, fold.fit_images) & np.isin(fold.train.j, fold.fit_images)
    fold.fit = fold.train.take(inside)
    val = np.isin(fold.train.i, fold.val_images) & np.isin(fold.train.j, fold.val_images)
    fold.val = fold.train.take(val)
    return fold


def test_frrsa_settings_are_model_frrsas_defaults() -> None:
    defaults = yaml.safe_load((ROOT / "conf" / "model" / "frrsa.yaml").read_text())
    assert {k: defaults[k] for k in FRRSA_SETTINGS} == FRRSA_SETTINGS


def test_fresh_module_predicts_frrsa_of_the_fit_images(tmp_path: Path) -> None:
    fold = _rdm_only_fold(tmp_path)
    cfg = learner_config([*RDM_ONLY, "model.rdm_prior=frrsa"])
    learner = PairNetworkLearner.from_config(cfg)
    reference = FeatureReweightedRSA(**FRRSA_SETTINGS)
    reference.fit(fit_only(fold))
    # targets of the validation images' pairs are NaN: a prior reading them would go NaN
    outside = ~(np.isin(fold.train.i, fold.fit_images) & np.isin(fold.train.j, fold.fit_images))
    y = np.where(outside, np.nan, fold.train.y).astype(np.float32)
    fold.train = PairSplit(fold.train.i, fold.train.j, y)
    fold.val = PairSplit(fold.val.i, fold.val.j, np.full_like(fold.val.y, np.nan))
    module = learner._module(fold)
    assert learner.prior_facts["prior"] == "frrsa"
    i, j = np.arange(30, 49), np.arange(31, 50)
    expected = reference.predict(fold.table, i, j)
    module.set_table(torch.from_numpy(fold.table))
    module.eval()
    # the gate starts at 0 and the map is the identity in target units: frrsa itself
    got = module.predict_pairs(i, j)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_rsa_prior_is_the_embedding_rdm_mapped_on_fit_pairs(tmp_path: Path) -> None:
    fold = _rdm_only_fold(tmp_path)
    cfg = learner_config([*RDM_ONLY, "model.rdm_prior=rsa"])
    learner = PairNetworkLearner.from_config(cfg)
    report = learner.fit(fold)
    assert report.facts["prior"] == "rsa" and report.facts["prior_slope"] > 0
    # the map: least squares of the fit pairs' targets on their embedding distances (float64)
    x = pair_distances(fold.table.astype(np.float64), fold.fit.i, fold.fit.j, "correlation")
    slope, intercept = np.polyfit(x.astype(np.float64), fold.fit.y.astype(np.float64), 1)
    assert report.facts["prior_slope"] == pytest.approx(slope, rel=1e-3)
    assert report.facts["prior_intercept"] == pytest.approx(intercept, rel=1e-3, abs=1e-5)
    i, j = np.arange(30, 49), np.arange(31, 50)
    pred = learner.predict(fold.table, i, j)
    loaded = PairNetworkLearner.load(tmp_path, 0, cfg)
    np.testing.assert_allclose(loaded.predict(fold.table, i, j), pred, rtol=1e-5, atol=1e-6)


def test_blocks_plan_takes_the_rdm_prior(tmp_path: Path) -> None:
    fold = _rdm_only_fold(tmp_path)
    extra = [*RDM_ONLY, "model.rdm_prior=frrsa", "model.plan=blocks", "model.block_steps=3"]
    learner = PairNetworkLearner.from_config(learner_config([*extra, "model.net.head=metric"]))
    learner.fit(fold)
    assert float(learner.module.prior.gate.detach()) != 0.0  # trained from the prior
    assert np.isfinite(learner.predict(fold.table, np.arange(30, 39), np.arange(31, 40))).all()


def test_with_responses_the_rdm_prior_stays_off(tmp_path: Path) -> None:
    fold = make_fold(n=40, n_train=30, tmp=tmp_path)
    cfg = learner_config(["model=siamese", "model.encoding_prior=false", "model.rdm_prior=rsa"])
    learner = PairNetworkLearner.from_config(cfg)
    assert learner._module(fold).prior is None


def test_unknown_rdm_prior_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rdm_prior"):
        PairNetworkLearner.from_config(learner_config(["model=siamese", "model.rdm_prior=ridge"]))
