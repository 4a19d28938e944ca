"""Response supervision for pair networks: a linear read-out from the tower to the ROI's voxels.

The encoding model learns from every training image's voxel responses; a pair network sees
only their pairwise distances. `ResponseReadout` gives a tower network the same supervision:
a Linear(Z, V) from the tower output of an image to its responses (`readout_targets`), with
loss = pair loss + response_weight · voxel MSE. It costs one matrix product over the batch's
distinct images (the tower already ran on them for the pairs), never one per pair.

Only the responses of the fold's fit images are ever handed to it (`set_responses`); the
images of a batch that are not among them (a full-batch step runs the tower on the whole
table, test images included) are left out of the read-out's loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError, DataError

# At most this many images per step enter the read-out's loss (a random subset of the batch's
# fit images): the gradient of a 1024-image sample is plenty at full scale (~9k images).
MAX_READOUT_IMAGES = 1024
# The read-out predicts the responses' coordinates on at most this many principal axes of the
# fit images (all of them when the fit images are fewer: then it is exactly the voxel read-out).
MAX_COMPONENTS = 512


TARGETS = ("correlation", "euclidean", "zscore")


def readout_targets(responses: np.ndarray, kind: str) -> np.ndarray:
    """(F, V) responses -> (F, V) float64 targets of the read-out, centred over the images.

    "correlation": each image's pattern centred and scaled to unit mean square over the voxels
        first, the patterns a correlation RDM compares (its distances are those of these rows);
    "euclidean": the raw patterns, one global scale (mean voxel variance 1): voxels keep the
        weights they have in a euclidean RDM;
    "zscore": every voxel z-scored over the images (a constant voxel stays 0).
    """
    return targets_and_mean(responses, kind)[0]


def targets_and_mean(responses: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """`readout_targets` and (V,) the mean pattern it removed, on the targets' scale: the
    patterns the RDM compares are (up to one global scale) targets + mean."""
    resp = np.asarray(responses, dtype=np.float64)
    if kind == "correlation":
        resp = resp - resp.mean(axis=1, keepdims=True)
        rms = np.sqrt(np.mean(resp**2, axis=1, keepdims=True))
        resp = resp / np.where(rms > 0, rms, 1.0)
    elif kind not in TARGETS:
        raise ConfigError(f"unknown read-out targets {kind!r}: choose one of {', '.join(TARGETS)}")
    mean = resp.mean(axis=0)
    centred = resp - mean
    if kind == "zscore":
        std = centred.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return centred / std, mean / std
    scale = np.sqrt(np.mean(centred**2))
    scale = scale if scale > 0 else 1.0
    return centred / scale, mean / scale


def principal_axes(z: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """z (F, V) centred float64 -> (scores (F, k') = z @ axes.T, axes (k', V) orthonormal rows),
    k' = min(k, rank). Full SVD when F or V is at most k, else a randomised one."""
    if min(z.shape) <= k:
        u, s, vt = torch.linalg.svd(z, full_matrices=False)
    else:
        u, s, v = torch.svd_lowrank(z, q=k, niter=4)
        vt = v.T
    keep = s > s.max().clamp_min(1e-300) * max(z.shape) * torch.finfo(z.dtype).eps
    return (u * s)[:, keep], vt[keep]


class ResponseReadout(nn.Module):
    """A linear read-out to the fit images' standardised voxel responses, in their PC space.

    The voxel read-out z -> z W (W: Z x V) with loss mean over images and voxels of
    (z W - r)^2 is fitted through W = A @ axes, A: Z x K, where axes (K, V) are the principal
    axes of the fit images' target patterns r: any part of W outside their span only adds
    to the loss, so for K = rank (F - 1 at most) both have the same minimum, at a cost of
    Z x K instead of Z x V per image (V is tens of thousands of voxels for roi=all). The loss
    adds each image's residual outside the K axes, so it is the voxel MSE itself.

    The responses live in non-persistent buffers (a checkpoint keeps only the weights), set by
    `set_responses` before training; `position` maps a table row to its row of `scores`
    (-1: not a fit image, never supervised).
    """

    position: Tensor | None
    scores: Tensor | None
    residual: Tensor | None
    axes: Tensor | None
    active: Tensor | None
    pattern_active: Tensor
    pattern_offset: Tensor
    pattern_rest: Tensor

    def __init__(
        self,
        embed_dim: int,
        n_voxels: int,
        max_components: int = MAX_COMPONENTS,
        patterns: bool = False,
    ) -> None:
        super().__init__()
        if embed_dim < 1 or n_voxels < 1:
            raise ConfigError(
                f"a response read-out needs a tower width and units, got {embed_dim}, {n_voxels}"
            )
        self.n_voxels = n_voxels
        self.n_components = min(max_components, n_voxels)
        self.linear = nn.Linear(embed_dim, self.n_components)
        for name in ("position", "scores", "residual", "axes", "active"):
            self.register_buffer(name, None, persistent=False)
        # patterns=True (a metric head measures distances between predicted patterns): what
        # `patterns` needs besides the weights, kept in checkpoints (only then: the keys of
        # earlier runs' checkpoints stay as they were)
        self.has_patterns = patterns
        if patterns:
            self.register_buffer("pattern_active", torch.zeros(self.n_components))
            self.register_buffer("pattern_offset", torch.zeros(self.n_components))
            self.register_buffer("pattern_rest", torch.zeros(()))

    def set_responses(
        self, n_rows: int, images: np.ndarray, responses: np.ndarray, targets: str = "zscore"
    ) -> None:
        """images (F,) table rows of the fit images, responses (F, V) their voxel responses,
        turned into unit-free targets by `readout_targets(responses, targets)`."""
        images = np.asarray(images, dtype=np.int64)
        resp = np.asarray(responses, dtype=np.float64)
        if resp.shape != (len(images), self.n_voxels):
            raise ConfigError(
                f"response read-out of {self.n_voxels} units got responses of shape "
                f"{resp.shape} for {len(images)} images"
            )
        if not np.isfinite(resp).all():
            raise DataError(
                "the fit images' responses hold NaN/inf: model.response_weight needs "
                "finite responses (set model.response_weight=0 or clean the data)"
            )
        z_np, mean = targets_and_mean(resp, targets)
        z = torch.from_numpy(z_np)
        scores, axes = principal_axes(z, self.n_components)
        k = scores.shape[1]  # rank may be below n_components: pad with zero axes, masked out
        scores = torch.nn.functional.pad(scores, (0, self.n_components - k))
        axes = torch.nn.functional.pad(axes, (0, 0, 0, self.n_components - k))
        residual = (z**2).sum(dim=1) - (scores**2).sum(dim=1)
        position = np.full(n_rows, -1, dtype=np.int64)
        position[images] = np.arange(len(images))
        device = self.linear.weight.device
        self.position = torch.from_numpy(position).to(device)
        self.scores = scores.float().to(device)
        self.residual = residual.clamp_min(0.0).float().to(device)
        self.axes = axes.float().to(device)
        self.active = (torch.arange(self.n_components) < k).float().to(device)
        if self.has_patterns:
            # the mean pattern in the axes' coordinates, and the norm of its part outside them
            m = torch.from_numpy(mean)
            offset = axes @ m
            rest = (m @ m - offset @ offset).clamp_min(0.0).sqrt()
            self.pattern_active.copy_(self.active)
            self.pattern_offset.copy_(offset.float())
            self.pattern_rest.fill_(float(rest))

    def patterns(self, z: Tensor) -> Tensor:
        """Coordinates of the predicted response patterns: z (U, Z) -> (U, K + 1).

        The predicted pattern of an image is scores @ axes + mean (targets + the mean pattern
        `targets_and_mean` removed); its coordinates in an orthonormal basis of the axes and
        the mean's remainder are [scores + axes @ mean, |remainder|], so inner products and
        distances between patterns are those of these rows (V voxels never materialise).
        For correlation targets every pattern is centred over voxels, so 1 − r between two
        patterns is 1 − cosine of their coordinates (`MetricHead(centre=False)`).
        """
        if not self.has_patterns:
            raise ConfigError("this read-out was built without patterns=True")
        pred = self.linear(z.to(self.linear.weight.dtype)).float() * self.pattern_active
        rest = self.pattern_rest.expand(pred.shape[0], 1)
        return torch.cat([pred + self.pattern_offset, rest], dim=1)

    def voxel_weights(self) -> tuple[Tensor, Tensor]:
        """The read-out as a voxel map: weight (V, Z) and bias (V,), z -> z @ weight.T + bias."""
        assert self.axes is not None and self.active is not None
        axes = self.axes * self.active[:, None]
        return axes.T @ self.linear.weight, self.linear.bias @ axes

    def loss(self, z: Tensor, ids: Tensor) -> Tensor:
        """Voxel MSE of the read-out on the fit images among `ids` (mean over images, voxels).

        z: (U, Z) tower outputs of the table rows ids (U,). Returns () float32 (0 when no
        fit image is among them).
        """
        if (
            self.position is None
            or self.scores is None
            or self.residual is None
            or self.active is None
        ):
            raise ConfigError("the response read-out has no responses: call set_responses()")
        pos = self.position.index_select(0, ids)
        keep = torch.nonzero(pos >= 0).squeeze(1)
        if keep.numel() > MAX_READOUT_IMAGES:
            keep = keep[torch.randperm(keep.numel(), device=keep.device)[:MAX_READOUT_IMAGES]]
        if keep.numel() == 0:
            return z.sum().float() * 0.0
        rows = pos.index_select(0, keep)
        pred = self.linear(z.index_select(0, keep).to(self.linear.weight.dtype)).float()
        sq = (((pred - self.scores.index_select(0, rows)) * self.active) ** 2).sum(dim=1)
        return (sq + self.residual.index_select(0, rows)).mean() / self.n_voxels


def relative_weight(response_weight: float, loss: str, fit_y: np.ndarray) -> float:
    """The read-out's weight in the summed loss, from `model.response_weight`, which is
    relative to a pair loss on standardised targets: an MSE on raw RDM values is var(y)
    times smaller (≈ 0.02 for a correlation RDM), the Pearson and mixed losses are O(1)."""
    if loss != "mse":
        return float(response_weight)
    return float(response_weight) * (float(np.var(fit_y)) or 1.0)


def make_readout(net: nn.Module, n_voxels: int, response_weight: float) -> ResponseReadout | None:
    """The read-out for `net` (None when response_weight is 0); the net must have a tower
    (`encode` and `embed_dim`: siamese, siamese_cnn). With a metric head, the read-out also
    gives the predicted patterns the head measures its distances between."""
    if not response_weight:
        return None
    if response_weight < 0:
        raise ConfigError(f"model.response_weight must be >= 0, got {response_weight}")
    if not hasattr(net, "encode") or not hasattr(net, "embed_dim"):
        raise ConfigError(
            f"model.response_weight={response_weight} needs a net with a tower (siamese, "
            f"siamese_cnn); {type(net).__name__} has none: set model.response_weight=0"
        )
    embed_dim: Any = net.embed_dim  # an int attribute of the tower nets
    from fmri_rdm.models.pair_network.nets.metric_head import MetricHead

    patterns = isinstance(getattr(net, "head", None), MetricHead)
    return ResponseReadout(int(embed_dim), int(n_voxels), patterns=patterns)
