"""FileEmbedder: precomputed .npy embeddings, validated against the images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.embeddings import build_embeddings, embedding_rdm
from fmri_rdm.embeddings.file import FileEmbedder
from fmri_rdm.errors import ConfigError, DataError


def _npy(tmp_path: Path, array: np.ndarray) -> Path:
    path = tmp_path / "emb.npy"
    np.save(path, array)
    return path


def test_reads_float32_and_needs_no_cache(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float64).reshape(4, 3)
    embedder = FileEmbedder(_npy(tmp_path, array))
    paths = [tmp_path / f"{i}.png" for i in range(4)]  # never opened
    out = build_embeddings(embedder, paths, tmp_path / "cache")
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, array)
    assert not (tmp_path / "cache").exists()
    desc = embedder.describe()
    assert desc["backend"] == "file" and desc["random_init"] is False
    assert len(embedder.cache_key()["sha256"]) == 64


def test_row_count_mismatch_names_both_numbers(tmp_path: Path) -> None:
    embedder = FileEmbedder(_npy(tmp_path, np.zeros((5, 2), np.float32)))
    with pytest.raises(DataError, match=r"5 rows but there are 3 images"):
        embedder.embed([tmp_path / f"{i}.png" for i in range(3)])


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(5, np.float32), "2-D"),
        (np.array([[1.0, np.nan]], np.float32), "NaN"),
        (np.array([["a", "b"]]), "non-numeric"),
    ],
)
def test_invalid_contents(tmp_path: Path, array: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        FileEmbedder(_npy(tmp_path, array)).embed([tmp_path / "x.png"])


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        FileEmbedder(tmp_path / "none.npy").embed([])
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="cannot read"):
        FileEmbedder(bad).embed([])
    with pytest.raises(ConfigError, match=r"embeddings\.path"):
        FileEmbedder("")


def test_embedding_rdm_is_condensed_pdist() -> None:
    from scipy.spatial.distance import pdist

    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    for metric in ("correlation", "euclidean"):
        rdm = embedding_rdm(x, metric)
        assert rdm.dtype == np.float32 and rdm.shape == (21,)
        np.testing.assert_allclose(rdm, pdist(x.astype(np.float64), metric), atol=1e-5)
    with pytest.raises(DataError):
        embedding_rdm(x[0], "euclidean")
