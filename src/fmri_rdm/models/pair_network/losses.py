"""Regression losses over a batch of predicted pair dissimilarities.

All take `pred` and `target` of shape (B,) and return a scalar tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from fmri_rdm.errors import ConfigError

LossFn = Callable[[Tensor, Tensor], Tensor]

LOSSES = ("mse", "pearson", "mixed")


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error; pred, target (B,) -> ()."""
    return torch.mean((pred - target.to(pred.dtype)) ** 2)


def pearson_r(pred: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """Pearson correlation over the batch; pred, target (B,) -> ().

    `eps` keeps a constant prediction (common right after init with a sigmoid head) finite:
    r is then 0 rather than NaN, so training can move away from it.
    """
    p = pred - pred.mean()
    t = target.to(pred.dtype) - target.to(pred.dtype).mean()
    denom = torch.sqrt((p * p).sum() * (t * t).sum() + eps)
    return (p * t).sum() / denom


def pearson(pred: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """1 − Pearson r over the batch; pred, target (B,) -> () in [0, 2]."""
    return 1.0 - pearson_r(pred, target, eps)


def mixed(pred: Tensor, target: Tensor, alpha: float = 0.5) -> Tensor:
    """alpha·mse + (1 − alpha)·pearson: the original student project's CNN loss: scale and
    ranking at once."""
    return alpha * mse(pred, target) + (1.0 - alpha) * pearson(pred, target)


def make_loss(name: str, alpha: float = 0.5) -> LossFn:
    """The loss called `name` ("mse", "pearson" or "mixed"); `alpha` is used by "mixed" only."""
    if name == "mse":
        return mse
    if name == "pearson":
        return pearson
    if name == "mixed":
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"model.alpha must be in [0, 1] for the mixed loss, got {alpha}")
        return partial(mixed, alpha=alpha)
    raise ConfigError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)}")
