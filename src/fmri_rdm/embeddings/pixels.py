"""The `pixels` backend: the images themselves, resized, for models that learn from pixels.

The Siamese CNN (`model.input: pixels`) reads this table instead of embeddings; its size and
colour come from the network's config (`model.net.image_size`, `model.net.in_channels`), so
`embedder_for` builds it from there rather than from `conf/embeddings/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.data.images import load_images


class PixelEmbedder:
    """Images as uint8 (N, C, H, W), C = 1 (grey) or 3 (RGB), H = W = image_size.

    Not cached: decoding is as fast as reading a cache would be, and the table is large.
    """

    backend = "pixels"
    cacheable = False

    def __init__(self, image_size: int, in_channels: int = 1) -> None:
        # in_channels other than 1 / 3 is the CNN's to reject (it names model.net.in_channels)
        self.image_size = int(image_size)
        self.grayscale = int(in_channels) == 1

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """(N,) paths -> uint8 (N, C, H, W), in order."""
        images = load_images(list(paths), size=self.image_size, grayscale=self.grayscale)
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))  # (N, H, W, C) -> NCHW

    def cache_key(self) -> dict[str, Any]:
        return {"backend": self.backend, "size": self.image_size, "grayscale": self.grayscale}

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": None, "pretrained": None, "random_init": False}
