"""The original student project's pair MLP on [e_i, e_j], with a factorised first layer."""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets._common import Dropout, distinct_rows, pair_sum_apply

HEADS = ("linear", "sigmoid")


def hidden_widths(hidden_layers: int, first_hidden: int) -> list[int]:
    """Widths that halve from `first_hidden`: (2, 512) -> [512, 256]."""
    if hidden_layers < 0:
        raise ConfigError(f"model.net.hidden_layers must be >= 0, got {hidden_layers}")
    widths = [first_hidden // 2**k for k in range(hidden_layers)]
    if widths and widths[-1] < 1:
        raise ConfigError(
            f"model.net.first_hidden={first_hidden} is too small to halve {hidden_layers} times"
        )
    return widths


class PairMLP(nn.Module):
    """MLP on the concatenated pair [e_i, e_j] (2D inputs) -> one dissimilarity.

    Layers: Linear(2D, h0) -> ReLU -> Dropout -> ... -> Linear(h_last, 1), with h halving from
    `first_hidden`; `hidden_layers=0` is a linear model. The "sigmoid" head maps the output to
    (0, output_scale) — 2 fits correlation distances in [0, 2].

    The first layer is W·[e_i, e_j] + b = W1·e_i + W2·e_j + b, so `forward` computes W1·e and
    W2·e once per distinct image of the batch and gathers, instead of building (B, 2D) inputs.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_layers: int = 2,
        first_hidden: int = 512,
        dropout: float = 0.0,
        head: str = "linear",
        output_scale: float = 2.0,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ConfigError(f"unknown MLP head {head!r}: choose one of {', '.join(HEADS)}")
        if in_dim < 1:
            raise ConfigError(f"model.in_dim must be >= 1, got {in_dim}")
        widths = [*hidden_widths(hidden_layers, first_hidden), 1]
        self.in_dim = in_dim
        self.head = head
        self.output_scale = output_scale
        self.first = nn.Linear(2 * in_dim, widths[0])
        rest: list[nn.Module] = []
        for w_in, w_out in itertools.pairwise(widths):
            rest += [nn.ReLU(), Dropout(dropout), nn.Linear(w_in, w_out)]
        self.rest = nn.Sequential(*rest)

    def _finish(self, h: Tensor) -> Tensor:
        """First-layer pre-activations (B, h0) -> predictions (B,)."""
        out = self.rest(h).squeeze(-1)
        if self.head == "sigmoid":
            out = self.output_scale * torch.sigmoid(out)
        return out

    def forward(self, table: Tensor, i: Tensor, j: Tensor) -> Tensor:
        """table (N, D), i/j (B,) int64 -> (B,)."""
        rows, ii, jj = distinct_rows(table, i, j)
        rows = rows.to(self.first.weight.dtype)
        h0 = self.first.out_features
        # One GEMM for both halves: (U, D) @ (D, 2*h0) -> [W1·e | W2·e] per distinct image.
        w1, w2 = self.first.weight[:, : self.in_dim], self.first.weight[:, self.in_dim :]
        per_image = rows @ torch.cat([w1, w2], dim=0).T
        # The bias joins the i side once per image (in the activations' dtype, as nn.Linear
        # does under autocast); per pair there is one gathered sum, then the rest of the MLP.
        left = per_image[:, :h0] + self.first.bias.to(per_image.dtype)
        return pair_sum_apply(
            self._finish, left, per_image[:, h0:], ii, jj, list(self.rest.parameters())
        )

    def forward_pairs(self, xi: Tensor, xj: Tensor) -> Tensor:
        """Direct reference path on explicit pairs: xi, xj (B, D) -> (B,)."""
        return self._finish(self.first(torch.cat([xi, xj], dim=1)))
