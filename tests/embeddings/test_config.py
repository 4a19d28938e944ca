"""conf/embeddings/*.yaml instantiate the right embedders (no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from fmri_rdm.embeddings import Embedder, instantiate_embedder
from fmri_rdm.embeddings.clip import ClipEmbedder
from fmri_rdm.errors import ConfigError

CONF = Path(__file__).resolve().parents[2] / "conf" / "embeddings"


def test_clip_yaml_defaults() -> None:
    embedder = instantiate_embedder(OmegaConf.load(CONF / "clip.yaml"))
    assert isinstance(embedder, ClipEmbedder) and isinstance(embedder, Embedder)
    assert (embedder.model_name, embedder.pretrained) == ("ViT-B-32", "openai")
    assert embedder.normalize and embedder._loaded is None
    key = embedder.cache_key()
    assert key["quick_gelu"] is True  # OpenAI weights were trained with QuickGELU
    assert key["preprocess"]["size"] == 224


def test_thingsvision_yaml() -> None:
    cfg = OmegaConf.load(CONF / "thingsvision.yaml")
    cfg.module_name = "visual.transformer.resblocks.6"
    embedder = instantiate_embedder(cfg)
    assert type(embedder).__name__ == "ThingsvisionEmbedder"
    assert embedder.describe()["module"] == "visual.transformer.resblocks.6"


def test_file_yaml(tmp_path: Path) -> None:
    cfg = OmegaConf.load(CONF / "file.yaml")
    cfg.path = str(tmp_path / "e.npy")
    assert instantiate_embedder(cfg).describe()["backend"] == "file"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_our_errors_come_out_unwrapped() -> None:
    cfg = OmegaConf.load(CONF / "clip.yaml")
    cfg.device = "cuda"
    with pytest.raises(ConfigError, match="CUDA is not available"):
        instantiate_embedder(cfg)
