"""Shared fixtures for the embedding tests: tiny PNG sets and a small random-init model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Random init, ~0.4 s to create and ~80 img/s on 2 cores: tests that do not need ViT-B-32 use it.
SMALL_MODEL = "ViT-S-32-alt"


def write_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """n small PNGs of varied colour, size and mode (RGB, RGBA, L), sorted by name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    modes = ["RGB", "RGBA", "L"]
    paths = []
    for i in range(n):
        side = int(rng.integers(40, 90))
        pixels = rng.integers(0, 256, size=(side, side + 7, 3), dtype=np.uint8)
        pixels[..., i % 3] = 255  # a dominant channel per image, so embeddings differ clearly
        image = Image.fromarray(pixels).convert(modes[i % len(modes)])
        path = folder / f"img_{i:03d}.png"
        image.save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_images(tmp_path_factory.mktemp("images"), 6)
