"""keep_prior_if_better: the untrained module (its prior alone) competes with the best epoch."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fmri_rdm.models.pair_network.module import PairRegressionModule
from fmri_rdm.models.pair_network.nets.mlp import PairMLP
from fmri_rdm.models.pair_network.priors.choice import keep_prior_if_better, validation_loss
from fmri_rdm.rsa.rdm import pair_distances
from fmri_rdm.rsa.splits import PairSplit


def _same(a: Any, b: Any) -> bool:
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


def _module_and_val(sign: float) -> tuple[PairRegressionModule, PairSplit]:
    """A module whose prior is the table's RSA distances (identity map) and validation pairs
    whose targets are sign x those distances."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(20, 8)).astype(np.float32)
    net = PairMLP(8, first_hidden=16)
    module = PairRegressionModule(net, loss="mse", prior_dim=8, prior_kind="reweighted")
    assert module.prior is not None
    module.prior.set_rsa("correlation")
    module.prior.set_map(1.0, 0.0)
    module.set_table(torch.from_numpy(table))
    i, j = np.triu_indices(20, 1)
    y = sign * pair_distances(table, i, j, "correlation")
    return module, PairSplit(i, j, y.astype(np.float32))


def test_prior_is_kept_when_the_trained_state_validates_worse(tmp_path: Path) -> None:
    module, val = _module_and_val(+1.0)
    with torch.no_grad():
        module.prior.gate.fill_(3.0)  # a "trained" state far from the targets
    trained = validation_loss(module, val)
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": module.state_dict()}, path)
    assert keep_prior_if_better(module, val, str(path)) == "prior"
    assert float(module.prior.gate) == 0.0 and float(module.prior.prior_weight) == 1.0
    assert validation_loss(module, val) < trained
    assert validation_loss(module, val) < 1e-10  # the prior is the targets here
    saved = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    assert float(saved["prior.gate"]) == 0.0 and float(saved["prior.prior_weight"]) == 1.0


def test_trained_state_stays_when_it_validates_better(tmp_path: Path) -> None:
    module, val = _module_and_val(-1.0)  # the prior is anti-correlated with the targets
    with torch.no_grad():
        module.prior.prior_weight.zero_()  # predicts the constant target_mean: better
    before = copy.deepcopy(module.state_dict())  # tensors and the prior's extra state
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": module.state_dict()}, path)
    assert keep_prior_if_better(module, val, str(path)) == "network"
    after = module.state_dict()
    assert before.keys() == after.keys()
    assert all(_same(before[k], after[k]) for k in before)
    saved = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    assert float(saved["prior.prior_weight"]) == 0.0


def test_without_prior_or_validation_nothing_happens(tmp_path: Path) -> None:
    module, val = _module_and_val(1.0)
    assert keep_prior_if_better(module, PairSplit.empty(val), None) == "network"
    plain = PairRegressionModule(PairMLP(8, first_hidden=16), loss="mse")
    assert keep_prior_if_better(plain, val, None) == "network"
