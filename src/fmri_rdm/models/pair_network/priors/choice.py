"""The untrained module as a candidate of the best-epoch choice (a pair network with a prior).

A module with a prior (`models.pattern_prior`) predicts its prior exactly before training
(gate 0, prior weight 1). Validation picks the best epoch among the trained ones only; on small
or noisy sets every epoch can validate worse than that starting point. `keep_prior_if_better`
scores the starting point on the same validation pairs with the same loss and keeps it when it
is no worse, writing it into the best checkpoint so that a reloaded fold predicts the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from fmri_rdm.rsa.splits import PairSplit


def validation_loss(module: Any, val: PairSplit) -> float:
    """The module's loss (its own `loss_fn`) over all validation pairs at once, eval mode."""
    pred = torch.from_numpy(module.predict_pairs(val.i, val.j))
    with torch.no_grad():
        return float(module.loss_fn(pred, torch.as_tensor(val.y, dtype=torch.float32)))


def keep_prior_if_better(
    module: Any, val: PairSplit, best_path: str | None, write: bool = True
) -> str:
    """After fit: "prior" (the starting point validated no worse than the best epoch and is
    now the module's state, and the best checkpoint's) or "network" (nothing changed).
    write: whether this process writes the checkpoint (under DDP only global rank 0 does)."""
    prior = module.prior
    if prior is None or len(val) == 0:
        return "network"
    trained = validation_loss(module, val)
    kept = (prior.gate.detach().clone(), prior.prior_weight.detach().clone())
    with torch.no_grad():
        prior.gate.zero_()
        prior.prior_weight.fill_(1.0)
    start = validation_loss(module, val)
    if not (np.isfinite(start) and (start <= trained or not np.isfinite(trained))):
        with torch.no_grad():
            prior.gate.copy_(kept[0])
            prior.prior_weight.copy_(kept[1])
        return "network"
    if write and best_path and Path(best_path).is_file():
        ckpt = torch.load(best_path, map_location="cpu", weights_only=False)
        ckpt["state_dict"]["prior.gate"] = prior.gate.detach().cpu().clone()
        ckpt["state_dict"]["prior.prior_weight"] = prior.prior_weight.detach().cpu().clone()
        torch.save(ckpt, best_path)
    return "prior"
