"""What a pair network's fixed base prediction gives the module (`models.pattern_prior`)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class PairPrior(nn.Module):
    """What the module needs of a prior: the two learned mixing scalars and a cache key."""

    def __init__(self) -> None:
        super().__init__()
        self.prior_weight = nn.Parameter(torch.ones(()))
        self.gate = nn.Parameter(torch.zeros(()))

    def state_key(self) -> tuple[int, ...]:
        """Changes whenever the prior's buffers do (a fit, load_state_dict, a move to another
        device): what a cache of table coordinates is keyed on."""
        return tuple(k for b in self.buffers() for k in (b.data_ptr(), b._version))

    def combine(self, prior: Tensor, net_out: Tensor) -> Tensor:
        """The module's standardised prediction from the prior's and the network's."""
        return self.prior_weight * prior + self.gate * net_out

    def coordinates(self, rows: Tensor) -> Tensor:
        """Table rows (U, ...) -> (U, K): what pairs are scored from."""
        raise NotImplementedError

    def forward(self, coords: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """The prior of pairs (ii, jj), positions into coords (U, K) -> (B,)."""
        raise NotImplementedError

    def block(self, coords: Tensor) -> Tensor:
        """The prior of all pairs among coords (U, K) -> (U, U)."""
        raise NotImplementedError
