"""Metric-distance heads: a pair's dissimilarity is the run's RDM metric between two vectors.

The brain RDM is the metric (correlation distance 1 − r, or Euclidean distance) between two
images' voxel patterns. `MetricHead` computes the same metric between two images' output
vectors (the tower's outputs, or the read-out's predicted responses), then maps it with a
learnable positive scale and a shift: d = exp(log_scale) · metric(z_i, z_j) + shift.

All pairs of a block of images cost one GEMM (`block`); scattered pairs cost one dot product
each (`forward`). Both give the same values.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError

METRICS = ("correlation", "euclidean")
# below this squared distance the Euclidean gradient is held finite (sqrt'(0) is infinite)
_EPS = 1e-8


class MetricHead(nn.Module):
    """d = exp(log_scale) · metric(z_i, z_j) + shift, metric = 1 − Pearson r or Euclidean.

    centre: for "correlation", centre each vector over its dimensions first (Pearson r, as the
    brain RDM centres a pattern over voxels); False gives 1 − cosine, for vectors that are
    already centred (the read-out's predicted patterns, see `models.readout`).

    The module standardises the targets (pred = out · std + mean), so the head predicts
    z-scored RDM values; `calibrate` sets the scale and shift so that a fresh net's distances
    already have mean 0 and std 1 (Adam at lr 1e-3 would need thousands of steps to grow a
    scale from 1 to the ≈ 10 a narrow band of distances needs).
    """

    target_scaling = "standardise"

    def __init__(self, metric: str = "correlation", centre: bool = True) -> None:
        super().__init__()
        if metric not in METRICS:
            raise ConfigError(f"unknown metric {metric!r} for a metric head: one of {METRICS}")
        self.kind = metric
        self.centre = centre
        self.log_scale = nn.Parameter(torch.zeros(()))
        self.shift = nn.Parameter(torch.zeros(()))

    def _rows(self, z: Tensor) -> Tensor:
        """(U, Z) -> (U, Z) float32: unit rows (centred first) for correlation, z otherwise."""
        z = z.float()
        if self.kind != "correlation":
            return z
        if self.centre:
            z = z - z.mean(dim=1, keepdim=True)
        return z / z.norm(dim=1, keepdim=True).clamp_min(1e-6)

    def _map(self, dist: Tensor) -> Tensor:
        return self.log_scale.exp() * dist + self.shift

    def _euclidean(self, sq: Tensor) -> Tensor:
        return (sq.clamp_min(0.0) + _EPS).sqrt()

    def distances(self, z: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """Unmapped metric of the pairs: z (U, Z), ii/jj (B,) positions in z -> (B,)."""
        u = self._rows(z)
        a, b = u.index_select(0, ii), u.index_select(0, jj)
        if self.kind == "correlation":
            return 1.0 - (a * b).sum(dim=1)
        return self._euclidean(((a - b) ** 2).sum(dim=1))

    def block_distances(self, z: Tensor) -> Tensor:
        """Unmapped metric of all pairs of z (U, Z) -> (U, U), through one GEMM."""
        u = self._rows(z)
        gram = u @ u.T
        if self.kind == "correlation":
            return 1.0 - gram
        sq_norm = gram.diagonal()
        return self._euclidean(sq_norm[:, None] + sq_norm[None, :] - 2.0 * gram)

    def forward(self, z: Tensor, ii: Tensor, jj: Tensor) -> Tensor:
        """z (U, Z) per distinct image, ii/jj (B,) positions in z -> (B,)."""
        return self._map(self.distances(z, ii, jj))

    def block(self, z: Tensor) -> Tensor:
        """All pairs of z (U, Z) -> (U, U) mapped distances (the diagonal is meaningless)."""
        return self._map(self.block_distances(z))

    def forward_pairs(self, zi: Tensor, zj: Tensor) -> Tensor:
        """Direct path: zi, zj (B, Z) -> (B,)."""
        n = zi.shape[0]
        idx = torch.arange(n, device=zi.device)
        return self.forward(torch.cat([zi, zj]), idx, idx + n)

    @torch.no_grad()
    def calibrate(self, dist: Tensor) -> None:
        """Set scale and shift so that distances `dist` (P,) map to mean 0, std 1."""
        dist = dist.float()
        std = float(dist.std()) if dist.numel() > 1 else 0.0
        std = std if std > 1e-8 else 1.0
        self.log_scale.fill_(-torch.log(torch.tensor(std)).item())
        self.shift.fill_(-float(dist.mean()) / std)
