"""The `pixels` backend: the Siamese CNN's input table comes through the embeddings front door."""

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

from fmri_rdm.data.images import load_images
from fmri_rdm.embeddings import PixelEmbedder, build_embeddings, embedder_for
from fmri_rdm.pipeline.inputs import model_table


@pytest.fixture
def pictures(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for k in range(3):
        path = tmp_path / f"img{k}.png"
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("channels", [1, 3])
def test_pixels_are_the_resized_images_channels_first(pictures, channels):
    table = PixelEmbedder(image_size=16, in_channels=channels).embed(pictures)
    assert table.dtype == np.uint8 and table.shape == (3, channels, 16, 16)
    expected = load_images(pictures, size=16, grayscale=channels == 1).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(table, expected)


def test_the_model_input_selects_the_backend(pictures, tmp_path):
    cfg = OmegaConf.create(
        {
            "model": {"name": "siamese_cnn", "input": "pixels", "image_size": 8, "in_channels": 1},
            "embeddings": {"_target_": "fmri_rdm.embeddings.file.FileEmbedder", "path": "x.npy"},
            "paths": {"cache_dir": str(tmp_path / "cache")},
        }
    )
    assert isinstance(embedder_for(cfg), PixelEmbedder)
    table, info = model_table(cfg, pictures)
    assert table.shape == (3, 1, 8, 8) and table.dtype == np.uint8
    assert info == {"backend": "pixels", "model": None, "pretrained": None, "random_init": False}
    assert not (tmp_path / "cache").exists()  # never cached
    cfg.model.input = "embeddings"
    assert embedder_for(cfg).describe()["backend"] == "file"
    assert build_embeddings(PixelEmbedder(8), pictures, None).shape == (3, 1, 8, 8)
