"""The original student project's contrastive (siamese) network on embeddings, and the pair
heads it shares."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets._common import (
    Dropout,
    distinct_rows_with_ids,
    pair_apply,
    pair_sum_apply,
)
from fmri_rdm.models.pair_network.nets.metric_head import METRICS, MetricHead

# metric: the run's RDM metric between the two outputs (`models.metric_head`)
HEADS = ("symmetric", "concat", "correlation", "metric")
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


class CorrelationHead(nn.Module):
    """d = scale · (1 − Pearson r(z_i, z_j)) + shift: the brain RDM's own form on tower outputs.

    Symmetric by construction. The tower outputs are centred and normalised once per distinct
    image, so a pair costs one dot product of two Z-vectors. `scale` and `shift` (learned)
    start at 1 and 0. The learner does not z-score this head's targets but divides them by
    their mean (`target_scaling = "mean"`): a fresh head then predicts mean · (1 − r), on the
    targets' own scale, where z-scored targets (std ≈ 0.1 of a correlation RDM) needed a
    scale of ≈ 10 that Adam at lr 1e-3 reaches only after thousands of steps.
    """

    kind = "correlation"
    target_scaling = "mean"

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.shift = nn.Parameter(torch.zeros(()))

    @staticmethod
    def _unit_rows(z: Tensor) -> Tensor:
        centred = z - z.mean(dim=1, keepdim=True)
        return centred / centred.norm(dim=1, keepdim=True).clamp_min(1e-6)

    def forward(self, z: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """z (U, Z) per distinct image, ii/jj (B,) positions in z -> (B,)."""
        u = self._unit_rows(z.float())
        r = (u.index_select(0, ii) * u.index_select(0, jj)).sum(dim=1)
        return self.scale * (1.0 - r) + self.shift

    def forward_pairs(self, zi: Tensor, zj: Tensor) -> Tensor:
        """Direct path: zi, zj (B, Z) -> (B,)."""
        r = (self._unit_rows(zi.float()) * self._unit_rows(zj.float())).sum(dim=1)
        return self.scale * (1.0 - r) + self.shift


class PairHead(nn.Module):
    """Similarity head on two tower outputs: Linear(2Z, hidden) -> ReLU -> Linear(hidden, 1).

    "concat": the original student project's head on [z_i, z_j]; its first layer factorises like
    PairMLP's.
    "symmetric": head on [|z_i − z_j|, z_i ⊙ z_j], so f(i, j) == f(j, i) exactly.
    """

    def __init__(self, z_dim: int, hidden: int = 128, kind: str = "symmetric") -> None:
        super().__init__()
        if kind not in HEADS[:2]:
            raise ConfigError(f"unknown pair head {kind!r}: choose one of {', '.join(HEADS)}")
        if hidden < 1:
            raise ConfigError(f"model.net.head_hidden must be >= 1, got {hidden}")
        self.kind = kind
        self.z_dim = z_dim
        self.first = nn.Linear(2 * z_dim, hidden)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """z (U, Z) per distinct image, ii/jj (B,) positions in z -> (B,).

        The per-pair part runs through `pair_apply` (in chunks of pairs on CPU).
        """
        if self.kind == "symmetric":
            return pair_apply(self.forward_pairs, z, z, ii, jj, list(self.parameters()))
        w = self.first.weight
        hidden = w.shape[0]
        per_image = z @ torch.cat([w[:, : self.z_dim], w[:, self.z_dim :]], dim=0).T
        # bias on the i side, once per image, in the activations' dtype (as under autocast)
        left = per_image[:, :hidden] + self.first.bias.to(per_image.dtype)
        return pair_sum_apply(
            self._finish, left, per_image[:, hidden:], ii, jj, list(self.out.parameters())
        )

    def _finish(self, h: Tensor) -> Tensor:
        """First-layer pre-activations (B, hidden) -> (B,)."""
        return self.out(h).squeeze(-1)

    def forward_pairs(self, zi: Tensor, zj: Tensor) -> Tensor:
        """Direct path: zi, zj (B, Z) -> (B,)."""
        if self.kind == "symmetric":
            feats = torch.cat([(zi - zj).abs(), zi * zj], dim=1)
        else:
            feats = torch.cat([zi, zj], dim=1)
        return self.out(self.first(feats)).squeeze(-1)


def make_tower(
    in_dim: int,
    widths: Sequence[int],
    dropout: float,
    linear_output: bool = False,
    activation: str = "relu",
    input_dropout: float = 0.0,
) -> nn.Sequential:
    """Linear -> activation -> Dropout for each width: (M, in_dim) -> (M, widths[-1]).

    linear_output: the last layer is a plain Linear (no activation, no dropout), for the
    distance heads: a ReLU zeroes about half the output dimensions and dropout on the output
    adds noise to every pair's distance (measured on the demo, docs/measurements/models_table.md).
    input_dropout > 0 puts a Dropout before the first Linear (only then: the layers' indices,
    and so old checkpoints' keys, stay as they were without it).
    """
    if not widths or min(widths) < 1 or in_dim < 1:
        raise ConfigError(f"model.net.tower needs positive widths and in_dim, got {list(widths)}")
    if activation not in ACTIVATIONS:
        raise ConfigError(
            f"unknown model.net.activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}"
        )
    layers: list[nn.Module] = [Dropout(input_dropout)] if input_dropout > 0 else []
    for w_in, w_out in zip([in_dim, *widths[:-1]], widths, strict=True):
        layers += [nn.Linear(w_in, w_out), ACTIVATIONS[activation](), Dropout(dropout)]
    if linear_output:
        layers = layers[:-2]
    return nn.Sequential(*layers)


class SiameseNet(nn.Module):
    """Shared tower (D -> 512 -> 256) on both embeddings, then a pair head.

    Heads: a PairHead ("symmetric", "concat": -> head_hidden -> 1), the CorrelationHead of
    earlier runs ("correlation"), or a MetricHead ("metric": the RDM's metric between the two
    outputs; `metric` is the run's, set by the learner from the data, not by the config).

    `forward` runs the tower once per distinct image of the batch. In training mode that means
    an image appearing in several pairs of one batch shares one dropout mask across them.
    """

    def __init__(
        self,
        in_dim: int,
        tower: Sequence[int] = (512, 256),
        head_hidden: int = 128,
        dropout: float = 0.5,
        head: str = "symmetric",
        activation: str = "relu",
        input_dropout: float = 0.0,
        metric: str = "correlation",
    ) -> None:
        super().__init__()
        widths = list(tower)
        if head not in HEADS:
            raise ConfigError(f"unknown pair head {head!r}: choose one of {', '.join(HEADS)}")
        if metric not in METRICS:
            raise ConfigError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
        self.tower = make_tower(
            in_dim,
            widths,
            dropout,
            linear_output=head in ("correlation", "metric"),
            activation=activation,
            input_dropout=input_dropout,
        )
        self.head: PairHead | CorrelationHead | MetricHead
        if head == "correlation":
            self.head = CorrelationHead()
        elif head == "metric":
            self.head = MetricHead(metric)
        else:
            self.head = PairHead(widths[-1], head_hidden, head)
        self.target_scaling = getattr(self.head, "target_scaling", "standardise")
        self.embed_dim = widths[-1]

    @property
    def dtype_of_weights(self) -> torch.dtype:
        return next(self.tower.parameters()).dtype

    def forward(self, table: Tensor, i: Tensor, j: Tensor) -> Tensor:
        """table (N, D), i/j (B,) int64 -> (B,)."""
        z, ii, jj, _ = self.encode(table, i, j)
        return self.head(z, ii, jj)

    def encode(self, table: Tensor, i: Tensor, j: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Tower outputs of the batch's distinct images: z (U, Z), ii/jj (B,) positions in z,
        ids (U,) their rows of `table` (what a response read-out needs)."""
        rows, ii, jj, ids = distinct_rows_with_ids(table, i, j)
        return self.tower(rows.to(self.dtype_of_weights)), ii, jj, ids

    def forward_pairs(self, xi: Tensor, xj: Tensor) -> Tensor:
        """Direct reference path on explicit pairs: xi, xj (B, D) -> (B,)."""
        return self.head.forward_pairs(self.tower(xi), self.tower(xj))
