"""`model.plan` as the pair-network learner reads it."""

from __future__ import annotations

import pytest

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.learner import PairNetworkLearner
from tests.helpers import compose_config


def test_blocks_plan_keys_and_mlp_default_to_pairs() -> None:
    overrides = ["model=siamese", "model.plan=blocks", "model.net.head=metric"]
    siamese = PairNetworkLearner.from_config(compose_config(overrides))
    assert siamese.blocks == (8192, 120)
    assert siamese.net is not None and siamese.net["head"] == "metric"
    assert "metric" not in siamese.net  # the metric comes from the data at fit time
    assert PairNetworkLearner.from_config(compose_config(["model=mlp"])).blocks is None


def test_plan_options_are_checked() -> None:
    cfg = compose_config(["model=siamese", "model.plan=pairs"])
    assert PairNetworkLearner.from_config(cfg).blocks is None
    with pytest.raises(ConfigError, match=r"model\.plan"):
        PairNetworkLearner.from_config(compose_config(["model=siamese", "model.plan=chunks"]))
