"""Learners are found through the model config, and every one follows the protocol."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from fmri_rdm.errors import ConfigError
from fmri_rdm.models import learner_class
from fmri_rdm.models.base import Learner
from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA
from fmri_rdm.models.pair_network.learner import PairNetworkLearner, auto_batch_size
from fmri_rdm.models.rsa.learner import RSALearner
from fmri_rdm.models.svm.learner import SVMLearner
from fmri_rdm.rsa.rdm import compute_rdm, rdm_values


@pytest.mark.parametrize(
    "cls", [PairNetworkLearner, SVMLearner, EncodingLearner, FeatureReweightedRSA, RSALearner]
)
def test_every_learner_follows_the_protocol(cls):
    members = [m for m in dir(Learner) if not m.startswith("_")]
    members += list(Learner.__annotations__)
    assert {"fit", "predict", "save", "load", "task", "uses_validation"} <= set(members)
    assert all(hasattr(cls, m) for m in members)
    assert cls.task in ("regression", "classification")


def test_learner_named_by_the_config_and_by_old_runs():
    cfg = OmegaConf.create({"name": "x", "learner": "fmri_rdm.models.rsa.learner.RSALearner"})
    assert learner_class(cfg) is RSALearner
    assert learner_class(OmegaConf.create({"name": "svm"})) is SVMLearner
    with pytest.raises(ConfigError, match="cannot be imported"):
        learner_class(OmegaConf.create({"name": "x", "learner": "fmri_rdm.nowhere.Model"}))
    with pytest.raises(ConfigError, match="names no learner"):
        learner_class(OmegaConf.create({"name": "x"}))


def test_rsa_predicts_the_embedding_rdm(fold):
    i, j = fold.train.i, fold.train.j
    want = rdm_values(compute_rdm(fold.table, "correlation"), i, j, len(fold.table))
    np.testing.assert_allclose(RSALearner().predict(fold.table, i, j), want, atol=1e-6)


def test_auto_batch_size_gives_small_sets_enough_steps():
    assert auto_batch_size(23_000, steps_per_epoch=50, largest=4096) == 460
    assert auto_batch_size(25_000_000, steps_per_epoch=50, largest=4096) == 4096
    assert auto_batch_size(100, steps_per_epoch=50, largest=4096) == 64
