"""The original student project's first model revived: a siamese CNN on raw pixels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets._common import Dropout, distinct_rows_with_ids
from fmri_rdm.models.pair_network.nets.siamese import PairHead


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """conv3x3 -> BN -> ReLU -> maxpool2: (M, c_in, H, W) -> (M, c_out, H/2, W/2)."""
    return nn.Sequential(
        # No conv bias: BatchNorm's shift makes it redundant.
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SiameseCNN(nn.Module):
    """Shared conv branch per image -> global average pool -> Linear(embed_dim) -> PairHead.

    The table holds uint8 images (N, C, H, W); they are scaled to [0, 1] and normalised with
    (x − mean) / std inside `forward`, on the distinct images of the batch only, so the float
    copy of the whole table never exists. Memory grows with the number of distinct images per
    batch (activations of the first block are U × channels[0] × H × W floats): use batches of
    at most a few hundred pairs at 128×128.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 128,
        channels: Sequence[int] = (32, 64),
        embed_dim: int = 128,
        dropout: float = 0.25,
        head: str = "symmetric",
        head_hidden: int = 128,
        mean: float = 0.5,
        std: float = 0.25,
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ConfigError(f"model.net.in_channels must be 1 or 3, got {in_channels}")
        widths = list(channels)
        if not widths or min(widths) < 1:
            raise ConfigError(f"model.net.channels must be positive, got {widths}")
        if image_size < 2 ** len(widths):
            raise ConfigError(
                f"model.net.image_size={image_size} is too small for {len(widths)} pooling blocks"
            )
        if std <= 0:
            raise ConfigError(f"model.std must be > 0, got {std}")
        self.in_channels = in_channels
        self.image_size = image_size
        self.mean = mean
        self.std = std
        blocks = [
            conv_block(a, b) for a, b in zip([in_channels, *widths[:-1]], widths, strict=True)
        ]
        self.branch = nn.Sequential(
            *blocks,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            Dropout(dropout),
            nn.Linear(widths[-1], embed_dim),
        )
        self.head = PairHead(embed_dim, head_hidden, head)
        self.embed_dim = embed_dim

    def embed(self, images: Tensor) -> Tensor:
        """(M, C, H, W) uint8 (or float in [0, 1]) -> (M, embed_dim)."""
        if images.dim() != 4 or images.shape[1:] != (
            self.in_channels,
            self.image_size,
            self.image_size,
        ):
            raise ConfigError(
                f"SiameseCNN expects images (N, {self.in_channels}, {self.image_size}, "
                f"{self.image_size}), got {tuple(images.shape)}: check model.net.in_channels and "
                "model.net.image_size against the image table"
            )
        x = images.to(self.head.first.weight.dtype)
        if images.dtype == torch.uint8:
            x = x / 255.0
        return self.branch((x - self.mean) / self.std)

    def forward(self, table: Tensor, i: Tensor, j: Tensor) -> Tensor:
        """table (N, C, H, W) uint8, i/j (B,) int64 -> (B,)."""
        z, ii, jj, _ = self.encode(table, i, j)
        return self.head(z, ii, jj)

    def encode(self, table: Tensor, i: Tensor, j: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Branch outputs of the batch's distinct images: z (U, embed_dim), ii/jj (B,)
        positions in z, ids (U,) their rows of `table` (for a response read-out)."""
        rows, ii, jj, ids = distinct_rows_with_ids(table, i, j)
        return self.embed(rows), ii, jj, ids

    def forward_pairs(self, xi: Tensor, xj: Tensor) -> Tensor:
        """Direct reference path: xi, xj (B, C, H, W) images -> (B,)."""
        return self.head.forward_pairs(self.embed(xi), self.embed(xj))
