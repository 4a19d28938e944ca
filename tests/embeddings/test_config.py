"""conf/embeddings/*.yaml instantiate the right embedders (no model is loaded).

The options are composed by Hydra (clip and thingsvision take their shared open_clip settings
from conf/base/open_clip.yaml), as train.py composes them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from fmri_rdm.config import register_schemas
from fmri_rdm.embeddings import Embedder, instantiate_embedder
from fmri_rdm.embeddings.clip import ClipEmbedder
from fmri_rdm.errors import ConfigError

CONF = Path(__file__).resolve().parents[2] / "conf"


def load(option: str) -> DictConfig:
    """The composed `embeddings` node of `embeddings=<option>`."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[f"embeddings={option}"])
    return cfg.embeddings


def test_clip_yaml_defaults() -> None:
    embedder = instantiate_embedder(load("clip"))
    assert isinstance(embedder, ClipEmbedder) and isinstance(embedder, Embedder)
    assert (embedder.model_name, embedder.pretrained) == ("ViT-B-32", "openai")
    assert embedder.normalize and embedder._loaded is None
    key = embedder.cache_key()
    assert key["quick_gelu"] is True  # OpenAI weights were trained with QuickGELU
    assert key["preprocess"]["size"] == 224


def test_thingsvision_yaml() -> None:
    cfg = load("thingsvision")
    cfg.module_name = "visual.transformer.resblocks.6"
    embedder = instantiate_embedder(cfg)
    assert type(embedder).__name__ == "ThingsvisionEmbedder"
    assert embedder.describe()["module"] == "visual.transformer.resblocks.6"


def test_file_yaml(tmp_path: Path) -> None:
    cfg = load("file")
    cfg.path = str(tmp_path / "e.npy")
    assert instantiate_embedder(cfg).describe()["backend"] == "file"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_our_errors_come_out_unwrapped() -> None:
    cfg = load("clip")
    cfg.device = "cuda"
    with pytest.raises(ConfigError, match="CUDA is not available"):
        instantiate_embedder(cfg)
