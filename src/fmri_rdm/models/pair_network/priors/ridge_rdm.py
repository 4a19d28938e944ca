"""The encoding model's RDM as the starting point of a pair network (`model.encoding_prior`).

With responses, the voxelwise ridge encoding model (`learners.encoding`) is a strong predictor
of the brain RDM: the RDM of its predicted responses. A pair network trained on pairs alone has
to rediscover that geometry from far fewer constraints. `EncodingPrior` hands it over: the
module's prediction (in standardised target units) becomes

    pred(i, j) = prior_weight · prior(i, j) + gate · net(i, j)

where prior(i, j) is the ridge model's metric distance between the two predicted response
patterns, mapped affinely onto the targets by a fit on out-of-sample pairs (fixed), and
`prior_weight` (starts at 1) and `gate` (starts at 0) are learned with the network. A fresh
module therefore predicts exactly the encoding model's calibrated RDM and training moves from
there; validation-based checkpoint selection keeps whichever epoch predicts best.

The ridge map is linear, so the predicted patterns of every image lie in a (D + 1)-dimensional
subspace of voxel space: `set_ridge` keeps their coordinates in an orthonormal basis of it
(the distances are those of the V-voxel patterns, V never materialises per image) as one fixed
(D + 1, D + 1) matrix, stored with the checkpoint. The prior is fixed during training, so the
module computes the coordinates of its whole table once and gathers pairs from them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets.metric_head import METRICS, MetricHead
from fmri_rdm.models.pair_network.priors.base import PairPrior


def pattern_basis(coef: np.ndarray, intercept: np.ndarray, metric: str) -> np.ndarray:
    """coef (D, V), intercept (V,) of a ridge map u -> u @ coef + intercept (u: standardised
    inputs) -> B (D + 1, D + 1) float64 with [u, 1] @ B the coordinates of the predicted
    pattern (centred over voxels for correlation) in an orthonormal basis of their span:
    inner products (and so the metric) between coordinates equal those between patterns."""
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    m = np.vstack([np.asarray(coef, np.float64), np.asarray(intercept, np.float64)[None, :]])
    if metric == "correlation":  # 1 - r compares patterns centred over voxels
        m = m - m.mean(axis=1, keepdims=True)
    gram = m @ m.T  # (D + 1, D + 1): [u, 1] G [u', 1]^T = <pattern, pattern'>
    values, vectors = np.linalg.eigh(gram)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[None, :]


class EncodingPrior(PairPrior):
    """Ridge-predicted patterns' metric distance, calibrated, as the base prediction.

    in_dim: the flattened width of a table row; metric: the RDM's metric. Buffers (in the
    checkpoint): the inputs' mean and scale and the pattern basis. `distance` is a frozen
    `MetricHead` whose scale and shift hold the affine map onto standardised targets.
    """

    in_mean: Tensor
    in_scale: Tensor
    basis: Tensor

    def __init__(self, in_dim: int, metric: str = "correlation") -> None:
        super().__init__()
        if in_dim < 1:
            raise ConfigError(f"an encoding prior needs an input width, got {in_dim}")
        self.register_buffer("in_mean", torch.zeros(in_dim))
        self.register_buffer("in_scale", torch.ones(in_dim))
        self.register_buffer("basis", torch.zeros(in_dim + 1, in_dim + 1))
        self.distance = MetricHead(metric, centre=False)
        self.distance.requires_grad_(False)

    def set_ridge(
        self, coef: np.ndarray, intercept: np.ndarray, mean: np.ndarray, scale: np.ndarray
    ) -> None:
        """The fitted ridge map (`EncodingLearner.state`): coef (D, V), intercept (V,),
        the inputs' mean (D,) and scale (D,)."""
        basis = pattern_basis(coef, intercept, self.distance.kind)
        if basis.shape != tuple(self.basis.shape):
            raise ConfigError(
                f"ridge map of {len(coef)} inputs for a prior of {len(self.in_mean)} inputs"
            )
        self.in_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.in_scale.copy_(torch.as_tensor(scale, dtype=torch.float32))
        self.basis.copy_(torch.from_numpy(basis).float())

    @torch.no_grad()
    def set_map(self, slope: float, intercept: float) -> None:
        """prior = slope · distance + intercept (standardised target units); slope > 0."""
        if not slope > 0:
            raise ConfigError(f"the encoding prior's slope must be positive, got {slope}")
        self.distance.log_scale.fill_(float(np.log(slope)))
        self.distance.shift.fill_(float(intercept))

    def coordinates(self, rows: Tensor) -> Tensor:
        """Table rows (U, ...) -> (U, D + 1) coordinates of their predicted patterns."""
        u = (rows.reshape(len(rows), -1).float() - self.in_mean) / self.in_scale
        return u @ self.basis[:-1] + self.basis[-1]

    def raw_distances(self, rows: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """Unmapped metric between predicted patterns of pairs (positions into rows) -> (B,)."""
        return self.distance.distances(self.coordinates(rows), ii, jj)

    def forward(self, coords: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """Calibrated prior of pairs (ii, jj), positions into coords (U, D + 1) -> (B,)."""
        return self.distance(coords, ii, jj)

    def block(self, coords: Tensor) -> Tensor:
        """Calibrated prior of all pairs among coords (U, D + 1) -> (U, U), one GEMM."""
        return self.distance.block(coords)
