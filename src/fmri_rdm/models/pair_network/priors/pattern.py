"""A fixed RDM model's predictions as the starting point of a pair network.

Two priors share one contract (`models.prior_base.PairPrior`): the module's standardised
prediction becomes

    pred(i, j) = prior_weight · prior(i, j) + gate · net(i, j)

with `prior_weight` starting at 1 and `gate` at 0, so a fresh module predicts the prior and
training moves from there. The prior itself is fixed: the module computes `coordinates` of its
whole table once and gathers pairs from them (`forward`) or scores a block with one GEMM
(`block`).

- `models.encoding_prior.EncodingPrior` (`model.encoding_prior`): the ridge encoding model's
  RDM; needs per-stimulus responses.
- `ReweightedPrior` (`model.rdm_prior`, for RDM-only data): a reweighted inner product of the
  normalised embeddings,

      raw(i, j) = a_i + a_j + Σ_d v_d x_id x_jd + b,

  which holds both classical RSA and feature-reweighted RSA exactly:
  `rsa`, correlation: x = rows z-scored over their D values, v = −1/D, a = 0, b = 1 (1 − r);
  `rsa`, euclidean: x = raw rows, v = −2, a_i = |x_i|², b = 0, then the square root;
  `frrsa`, correlation: v = −w (fitted weights), b = fitted intercept, clipped to [0, 2];
  `frrsa`, euclidean: x = unit-norm rows, a_i = Σ_d w_d x_id², v = −2w, clipped at 0.
  `set_map` then maps raw values onto the standardised targets.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.priors.base import PairPrior
from fmri_rdm.models.pair_network.priors.ridge_rdm import EncodingPrior


def make_prior(kind: str, in_dim: int, metric: str) -> PairPrior:
    """The module's prior: `encoding` (models.encoding_prior) or `reweighted` (RSA / frrsa)."""
    if kind == "encoding":
        return EncodingPrior(in_dim, metric)
    if kind == "reweighted":
        return ReweightedPrior(in_dim)
    raise ConfigError(f"unknown prior kind {kind!r}: choose encoding or reweighted")


def normalise_rows(x: Tensor, how: str) -> Tensor:
    """(U, D) float32 -> rows z-scored over D (population std), scaled to unit L2 norm, or
    unchanged; a constant or zero row becomes zeros (as `learners.frrsa_ridge`)."""
    if how == "zscore":
        centred = x - x.mean(dim=1, keepdim=True)
        std = centred.pow(2).mean(dim=1, keepdim=True).sqrt()
        return centred / torch.where(std > 0, std, torch.ones_like(std))
    if how == "unit":
        norm = x.norm(dim=1, keepdim=True)
        return x / torch.where(norm > 0, norm, torch.ones_like(norm))
    return x


class ReweightedPrior(PairPrior):
    """RSA or feature-reweighted RSA distances of the table's rows, mapped onto standardised
    targets (see the module docstring). in_dim: a table row's flattened width."""

    weights: Tensor
    row_weights: Tensor

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        if in_dim < 1:
            raise ConfigError(f"an RDM prior needs an input width, got {in_dim}")
        self.register_buffer("weights", torch.zeros(in_dim))  # v
        self.register_buffer("row_weights", torch.zeros(in_dim))  # a_i = Σ_d row_w_d x_id²
        # plain floats, not tensors: read on every step, they must not sync a GPU; they travel
        # with the checkpoint as the module's extra state
        self.shape_settings: dict[str, Any] = {
            "bias": 0.0, "low": -math.inf, "high": math.inf, "root": False, "how": "none",
            "slope": 1.0, "intercept": 0.0,
        }  # fmt: skip

    def get_extra_state(self) -> dict[str, Any]:
        return dict(self.shape_settings)

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.shape_settings = dict(state)

    def set_rsa(self, metric: str) -> None:
        """Classical RSA: the metric between the raw rows (nothing fitted)."""
        d = len(self.weights)
        if metric == "correlation":
            self._set(np.full(d, -1.0 / d), np.zeros(d), 1.0, (-np.inf, np.inf), False, "zscore")
        elif metric == "euclidean":
            self._set(np.full(d, -2.0), np.ones(d), 0.0, (0.0, np.inf), True, "none")
        else:
            raise ConfigError(f"unknown metric {metric!r}: choose correlation or euclidean")

    def set_frrsa(
        self, weights: np.ndarray, intercept: float, metric: str, normalise: bool
    ) -> None:
        """A fitted `FeatureReweightedRSA` (fractional/positive): its per-dimension weights
        (D,), intercept and metric; normalise: its `normalize` setting."""
        w = np.asarray(weights, dtype=np.float64)
        if metric == "correlation":
            how = "zscore" if normalise else "none"
            self._set(-w, np.zeros_like(w), intercept, (0.0, 2.0), False, how)
        elif metric == "euclidean":
            how = "unit" if normalise else "none"
            self._set(-2.0 * w, w, intercept, (0.0, np.inf), False, how)
        else:
            raise ConfigError(f"unknown metric {metric!r}: choose correlation or euclidean")

    @torch.no_grad()
    def _set(
        self,
        v: np.ndarray,
        row_w: np.ndarray,
        bias: float,
        clip: tuple[float, float],
        root: bool,
        how: str,
    ) -> None:
        if v.shape != tuple(self.weights.shape):
            raise ConfigError(f"{len(v)} weights for a prior of {len(self.weights)} inputs")
        self.weights.copy_(torch.as_tensor(v, dtype=torch.float32))
        self.row_weights.copy_(torch.as_tensor(row_w, dtype=torch.float32))
        self.shape_settings |= {
            "bias": float(bias), "low": clip[0], "high": clip[1], "root": root, "how": how,
        }  # fmt: skip

    def set_map(self, slope: float, intercept: float) -> None:
        """prior = slope · raw + intercept (standardised target units); slope > 0."""
        if not slope > 0:
            raise ConfigError(f"the RDM prior's slope must be positive, got {slope}")
        self.shape_settings |= {"slope": float(slope), "intercept": float(intercept)}

    def coordinates(self, rows: Tensor) -> Tensor:
        """Table rows (U, ...) -> (U, D + 1): the normalised rows and a_i."""
        x = normalise_rows(rows.reshape(len(rows), -1).float(), self.shape_settings["how"])
        return torch.cat([x, (x * x) @ self.row_weights[:, None]], dim=1)

    def _finish(self, raw: Tensor, mapped: bool) -> Tensor:
        s = self.shape_settings
        raw = (raw + s["bias"]).clamp(min=s["low"], max=s["high"])
        if s["root"]:
            raw = raw.clamp(min=0.0).sqrt()
        return raw * s["slope"] + s["intercept"] if mapped else raw

    def _raw_pairs(self, coords: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        a, b = coords.index_select(0, ii), coords.index_select(0, jj)
        inner = (a[:, :-1] * self.weights * b[:, :-1]).sum(dim=1)
        return self._finish(inner + a[:, -1] + b[:, -1], mapped=False)

    def raw_distances(self, rows: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """Unmapped RSA / frrsa predictions of pairs (positions into rows) -> (B,)."""
        return self._raw_pairs(self.coordinates(rows), ii, jj)

    def forward(self, coords: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """Mapped prior of pairs (ii, jj), positions into coords (U, D + 1) -> (B,)."""
        s = self.shape_settings
        return self._raw_pairs(coords, ii, jj) * s["slope"] + s["intercept"]

    def block(self, coords: Tensor) -> Tensor:
        """Mapped prior of all pairs among coords (U, D + 1) -> (U, U), one GEMM."""
        x, a = coords[:, :-1], coords[:, -1]
        inner = (x * self.weights) @ x.T
        return self._finish(inner + a[:, None] + a[None, :], mapped=True)
