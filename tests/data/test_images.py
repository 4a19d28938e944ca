"""`load_images` and `dominant_colors` (against a brute-force per-pixel reference)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from PIL import Image

from fmri_rdm.data import images as images_mod
from fmri_rdm.data.images import dominant_colors, load_images
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.pairs import COLOR_NAMES


def _write(tmp_path, arrays, fmt="png"):
    paths = []
    for k, arr in enumerate(arrays):
        path = tmp_path / f"img-{k:03d}.{fmt}"
        Image.fromarray(arr).save(path)
        paths.append(path)
    return paths


def _random_images(n, h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def test_load_images_roundtrip_gray_and_resize(tmp_path):
    arrays = _random_images(3, 10, 12)
    paths = _write(tmp_path, arrays)
    got = load_images(paths)
    assert got.dtype == np.uint8 and got.shape == (3, 10, 12, 3)
    np.testing.assert_array_equal(got, arrays)
    grey = load_images(paths, grayscale=True)
    assert grey.shape == (3, 10, 12, 1)
    np.testing.assert_array_equal(
        grey[1, ..., 0], np.asarray(Image.fromarray(arrays[1]).convert("L"))
    )
    small = load_images(paths, size=7)
    ref = np.asarray(Image.fromarray(arrays[2]).resize((7, 7), Image.Resampling.BILINEAR))
    assert small.shape == (3, 7, 7, 3)
    np.testing.assert_array_equal(small[2], ref)
    assert load_images([], size=5).shape == (0, 5, 5, 3)


def test_mixed_sizes_need_a_size(tmp_path):
    paths = _write(tmp_path, [_random_images(1, 8, 8)[0], _random_images(1, 9, 8)[0]])
    with pytest.raises(DataError, match="size="):
        load_images(paths)
    assert load_images(paths, size=4).shape == (2, 4, 4, 3)
    with pytest.raises(ConfigError):
        load_images(paths, size=0)


def test_truncated_and_garbage_images_are_named(tmp_path):
    paths = _write(tmp_path, _random_images(2, 32, 32))
    paths[1].write_bytes(paths[1].read_bytes()[:60])
    with pytest.raises(DataError, match=re.escape(paths[1].name)) as info:
        load_images(paths)
    assert "\n" not in str(info.value)
    paths[1].write_bytes(b"definitely not an image")
    with pytest.raises(DataError, match=re.escape(paths[1].name)):
        load_images(paths)
    with pytest.raises(DataError, match=r"missing\.png"):
        load_images([tmp_path / "missing.png"])


def test_progress_bar_only_for_many_images(tmp_path, capsys):
    arr = np.zeros((2, 2, 3), dtype=np.uint8)
    paths = _write(tmp_path, [arr]) * 201  # the same tiny file 201 times
    load_images(paths[:10])
    assert "loading images" not in capsys.readouterr().err
    assert load_images(paths).shape == (201, 2, 2, 3)
    assert "loading images" in capsys.readouterr().err


def _reference_dominant(images, threshold):
    """Brute force: per pixel, Euclidean distance to each pure colour; ties unassigned."""
    pure = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.float64)
    out = []
    for img in images:
        counts = [0, 0, 0]
        h, w, _ = img.shape
        for y, x in itertools.product(range(h), range(w)):
            d = np.sqrt(((img[y, x].astype(np.float64) - pure) ** 2).sum(axis=1))
            best = np.flatnonzero(d == d.min())
            if len(best) == 1:
                counts[best[0]] += 1
        shares = np.array(counts) / (h * w)
        out.append(int(shares.argmax()) if shares.max() >= threshold else -1)
    return np.array(out)


def test_dominant_colors_matches_brute_force(monkeypatch):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(24, 6, 5, 3), dtype=np.uint8)
    # make some images strongly coloured, and add exact ties (grey, yellow, black)
    for k in range(0, 24, 3):
        c = (k // 3) % 3
        imgs[k, ..., c] = rng.integers(150, 256, size=(6, 5))
        imgs[k, ..., [o for o in range(3) if o != c]] //= 3
    imgs[1, :2] = (200, 200, 0)
    imgs[2, :3] = 90
    imgs[4] = 0
    for threshold in (0.5, 0.7, 0.9):
        expected = _reference_dominant(imgs, threshold)
        got = dominant_colors(imgs, threshold)
        assert got.dtype == np.int8 and got.shape == (24,)
        np.testing.assert_array_equal(got, expected)
    assert set(dominant_colors(imgs).tolist()) >= {-1, 0, 1, 2}
    monkeypatch.setattr(images_mod, "_PIXELS_PER_CHUNK", 40)  # one image per chunk
    np.testing.assert_array_equal(dominant_colors(imgs), _reference_dominant(imgs, 0.7))


def test_threshold_is_inclusive_and_ties_are_unassigned():
    img = np.zeros((1, 10, 10, 3), dtype=np.uint8)
    img[0].reshape(100, 3)[:70] = (200, 10, 10)  # 70 % red
    img[0].reshape(100, 3)[70:] = (50, 50, 50)  # 30 % exact ties
    assert dominant_colors(img).tolist() == [0]
    img[0].reshape(100, 3)[69] = (10, 10, 10)
    assert dominant_colors(img).tolist() == [-1]
    assert COLOR_NAMES == ("red", "green", "blue")


def test_dominant_colors_input_checks():
    with pytest.raises(DataError):
        dominant_colors(np.zeros((2, 4, 4), dtype=np.uint8))
    with pytest.raises(ConfigError):
        dominant_colors(np.zeros((2, 4, 4, 3), dtype=np.uint8), threshold=0.0)
    assert dominant_colors(np.zeros((0, 4, 4, 3), dtype=np.uint8)).shape == (0,)
