"""ClipEmbedder: output, weights sources (random, checkpoint, HF cache) and the offline failure."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from fmri_rdm.embeddings import weights
from fmri_rdm.embeddings.clip import ClipEmbedder
from fmri_rdm.errors import ConfigError, DataError, EmbeddingError

from .conftest import SMALL_MODEL, write_images


@pytest.fixture(scope="module")
def embedder() -> ClipEmbedder:
    e = ClipEmbedder(SMALL_MODEL, pretrained=None, batch_size=4, num_workers=2, device="cpu")
    e.load()
    return e


def _reference(embedder: ClipEmbedder, paths: list[Path]) -> np.ndarray:
    """encode_image on the model's own preprocessing, no DataLoader, L2-normalised."""
    from PIL import Image

    model, preprocess = embedder.load()
    batch = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in paths])
    with torch.inference_mode():
        out = model.encode_image(batch).numpy()  # type: ignore[operator]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_embed_matches_encode_image_in_order(embedder: ClipEmbedder, images: list[Path]) -> None:
    out = embedder.embed(images)  # 6 images, batch 4, 2 workers: order must survive
    assert out.shape == (6, 256) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out, _reference(embedder, images), atol=1e-5)
    np.testing.assert_allclose(embedder.embed(images[::-1]), out[::-1], atol=1e-6)


def test_normalize_off_and_random_init_reproducible(
    embedder: ClipEmbedder, images: list[Path]
) -> None:
    raw = ClipEmbedder(SMALL_MODEL, None, normalize=False, num_workers=0, device="cpu")
    out = raw.embed(images[:3])
    assert not np.allclose(np.linalg.norm(out, axis=1), 1.0)
    # Seeded random init: the same weights in every process, so the cache key stays truthful.
    weights.load_open_clip.cache_clear()
    again = ClipEmbedder(SMALL_MODEL, None, normalize=False, num_workers=0, device="cpu")
    np.testing.assert_allclose(again.embed(images[:3]), out, atol=1e-6)


def test_describe_random_init_warns(caplog: pytest.LogCaptureFixture) -> None:
    e = ClipEmbedder(SMALL_MODEL, pretrained=None, device="cpu")
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.embeddings.clip"):
        d = e.describe()  # warns on first use, even if a cache hit never loads the model
    assert any("RANDOM weights" in r.message for r in caplog.records)
    assert d["random_init"] is True and d["pretrained"] is None
    assert {"backend", "model"} <= d.keys() and d["model"] == SMALL_MODEL


def test_unreadable_image_is_a_data_error(embedder: ClipEmbedder, tmp_path: Path) -> None:
    paths = write_images(tmp_path, 3)
    paths[1].write_bytes(b"not a png at all")
    with pytest.raises(DataError, match=r"img_001\.png") as info:
        embedder.embed(paths)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="missing"):
        embedder.embed([tmp_path / "nope.png"])


def test_bad_pretrained_values_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="available: openai"):
        ClipEmbedder("ViT-B-32", pretrained="not-a-tag").cache_key()
    with pytest.raises(ConfigError, match="checkpoint file not found"):
        ClipEmbedder("ViT-B-32", pretrained=str(tmp_path / "w.pt")).describe()
    with pytest.raises(ConfigError, match="unknown open_clip model"):
        ClipEmbedder("ViT-Q-99", pretrained=None).describe()


def test_local_checkpoint(embedder: ClipEmbedder, images: list[Path], tmp_path: Path) -> None:
    model, _ = embedder.load()
    state = {k: v + 0.01 for k, v in model.state_dict().items()}  # not the random-init weights
    ckpt = tmp_path / "weights.pt"
    torch.save(state, ckpt)
    e = ClipEmbedder(SMALL_MODEL, pretrained=str(ckpt), num_workers=0, device="cpu")
    assert e.describe()["random_init"] is False
    key = e.cache_key()
    assert key["pretrained"] == "checkpoint" and len(key["checkpoint_sha256"]) == 64
    out = e.embed(images[:2])
    assert out.shape == (2, 256)
    assert not np.allclose(out, embedder.embed(images[:2]), atol=1e-3)


def _assert_ways_out(message: str) -> None:
    assert "embeddings.pretrained=/path/to.pt" in message
    assert "embeddings.pretrained=null" in message
    assert "\n" not in message


@pytest.fixture
def empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    weights.load_open_clip.cache_clear()
    return tmp_path / "hf"


def test_offline_mode_fails_fast(empty_hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(EmbeddingError, match="offline mode") as info:
        ClipEmbedder("ViT-B-32", pretrained="openai", device="cpu").load()
    assert time.perf_counter() - start < 10
    _assert_ways_out(str(info.value))


def test_no_network_fails_fast(empty_hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    probed: list[str] = []

    def unreachable(host: str, port: int) -> bool:
        probed.append(host)
        return False

    monkeypatch.setattr(weights, "network_reachable", unreachable)
    start = time.perf_counter()
    with pytest.raises(EmbeddingError, match="unreachable") as info:
        ClipEmbedder("ViT-B-32", pretrained="openai", device="cpu").load()
    assert time.perf_counter() - start < 10 and probed
    _assert_ways_out(str(info.value))
    assert constants.HF_HUB_OFFLINE is False  # the offline attempt restored the flag


def test_tag_loads_from_local_hf_cache_without_network(
    embedder: ClipEmbedder,
    images: list[Path],
    empty_hf_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tag whose weights are already in the HF cache loads offline, with no network probe."""
    import open_clip.pretrained as registry
    from safetensors.torch import save_file

    model, _ = embedder.load()
    state = {k: (v * 0.5).contiguous() for k, v in model.state_dict().items()}
    commit = "0" * 40
    repo = empty_hf_cache / "models--fake-org--fake-clip"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    save_file(state, str(repo / "snapshots" / commit / "open_clip_model.safetensors"))
    tags = {"fake": registry._pcfg(hf_hub="fake-org/fake-clip/")}
    monkeypatch.setitem(registry._PRETRAINED, SMALL_MODEL, tags)
    monkeypatch.setattr(weights, "network_reachable", lambda h, p: pytest.fail("network probed"))

    e = ClipEmbedder(SMALL_MODEL, pretrained="fake", num_workers=0, device="cpu")
    assert e.describe()["random_init"] is False and e.cache_key()["pretrained"] == "fake"
    loaded, _ = e.load()
    for name, tensor in loaded.state_dict().items():
        torch.testing.assert_close(tensor, state[name])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_matches_cpu(embedder: ClipEmbedder, images: list[Path]) -> None:
    gpu = ClipEmbedder(SMALL_MODEL, pretrained=None, batch_size=4, device="auto")
    assert gpu.describe()["precision"] == "bf16-autocast"
    assert gpu.cache_key() != embedder.cache_key()  # precision is part of the key
    out = gpu.embed(images)
    assert out.dtype == np.float32 and out.shape == (len(images), 256)
    cosine = np.sum(out * embedder.embed(images), axis=1)
    assert cosine.min() > 0.99
