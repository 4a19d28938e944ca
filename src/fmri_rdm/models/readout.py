"""Response supervision for pair networks: a linear read-out from the tower to the ROI's voxels.

The encoding model learns from every training image's voxel responses; a pair network sees
only their pairwise distances. `ResponseReadout` gives a tower network the same supervision:
a Linear(Z, V) from the tower output of an image to its (per-voxel z-scored) responses, with
loss = pair loss + response_weight · voxel MSE. It costs one matrix product over the batch's
distinct images (the tower already ran on them for the pairs), never one per pair.

Only the responses of the fold's fit images are ever handed to it (`set_responses`); the
images of a batch that are not among them (a full-batch step runs the tower on the whole
table, test images included) are left out of the read-out's loss.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError, DataError

# At most this many images per step enter the read-out's loss (a random subset of the batch's
# fit images): at full scale (~9k images, thousands of voxels) the product would otherwise
# cost more than the tower itself, and the gradient of a 1024-image sample is plenty.
MAX_READOUT_IMAGES = 1024


class ResponseReadout(nn.Module):
    """Linear(embed_dim, n_voxels) and the fit images' standardised responses.

    The responses live in non-persistent buffers (a checkpoint keeps only the weights), set by
    `set_responses` before training; `position` maps a table row to its row of `responses`
    (-1: not a fit image, never supervised).
    """

    position: Tensor | None
    responses: Tensor | None

    def __init__(self, embed_dim: int, n_voxels: int) -> None:
        super().__init__()
        if embed_dim < 1 or n_voxels < 1:
            raise ConfigError(
                f"a response read-out needs a tower width and voxels, got {embed_dim}, {n_voxels}"
            )
        self.linear = nn.Linear(embed_dim, n_voxels)
        self.register_buffer("position", None, persistent=False)
        self.register_buffer("responses", None, persistent=False)

    def set_responses(self, n_rows: int, images: np.ndarray, responses: np.ndarray) -> None:
        """images (F,) table rows of the fit images, responses (F, V) their voxel responses.

        Each voxel is z-scored over these images (a constant voxel gets std 1), so the weight
        of the voxel loss does not depend on the response units.
        """
        images = np.asarray(images, dtype=np.int64)
        resp = np.asarray(responses, dtype=np.float64)
        if resp.shape != (len(images), self.linear.out_features):
            raise ConfigError(
                f"response read-out of {self.linear.out_features} voxels got responses of shape "
                f"{resp.shape} for {len(images)} images"
            )
        if not np.isfinite(resp).all():
            raise DataError(
                "the fit images' voxel responses hold NaN/inf: model.response_weight needs "
                "finite responses (set model.response_weight=0 or clean the data)"
            )
        std = resp.std(axis=0)
        z = (resp - resp.mean(axis=0)) / np.where(std > 0, std, 1.0)
        position = np.full(n_rows, -1, dtype=np.int64)
        position[images] = np.arange(len(images))
        device = self.linear.weight.device
        self.position = torch.from_numpy(position).to(device)
        self.responses = torch.from_numpy(z.astype(np.float32)).to(device)

    def loss(self, z: Tensor, ids: Tensor) -> Tensor:
        """Mean squared error of the read-out on the fit images among `ids`.

        z: (U, Z) tower outputs of the table rows ids (U,). Returns () float32 (0 when no
        fit image is among them).
        """
        if self.position is None or self.responses is None:
            raise ConfigError("the response read-out has no responses: call set_responses()")
        pos = self.position.index_select(0, ids)
        keep = torch.nonzero(pos >= 0).squeeze(1)
        if keep.numel() > MAX_READOUT_IMAGES:
            keep = keep[torch.randperm(keep.numel(), device=keep.device)[:MAX_READOUT_IMAGES]]
        if keep.numel() == 0:
            return z.sum().float() * 0.0
        pred = self.linear(z.index_select(0, keep).to(self.linear.weight.dtype)).float()
        target = self.responses.index_select(0, pos.index_select(0, keep))
        return torch.mean((pred - target) ** 2)


def make_readout(net: nn.Module, n_voxels: int, response_weight: float) -> ResponseReadout | None:
    """The read-out for `net` (None when response_weight is 0); the net must have a tower
    (`encode` and `embed_dim`: siamese, siamese_cnn)."""
    if not response_weight:
        return None
    if response_weight < 0:
        raise ConfigError(f"model.response_weight must be >= 0, got {response_weight}")
    if not hasattr(net, "encode") or not hasattr(net, "embed_dim"):
        raise ConfigError(
            f"model.response_weight={response_weight} needs a net with a tower (siamese, "
            f"siamese_cnn); {type(net).__name__} has none: set model.response_weight=0"
        )
    return ResponseReadout(int(net.embed_dim), int(n_voxels))
