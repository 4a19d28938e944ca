"""Image folders as users have them: other PIL modes, stray files, NaN embedding rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fmri_rdm.data.images import image_files, load_images, to_rgb
from fmri_rdm.embeddings.file import FileEmbedder
from fmri_rdm.entry.predict import list_images
from fmri_rdm.errors import DataError

RGB = np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8)


def _modes() -> dict[str, tuple[Image.Image, np.ndarray]]:
    """Each mode's image and the RGB it must decode to (computed here independently)."""
    gray = RGB[..., 0]
    alpha = np.where(np.arange(6)[:, None] < 3, 0, 255).astype(np.uint8) * np.ones((1, 6), np.uint8)
    a = alpha[..., None].astype(np.float64) / 255
    over_white = np.rint(RGB * a + 255 * (1 - a)).astype(np.uint8)
    palette = Image.fromarray(RGB).convert("P")
    palette_rgb = np.asarray(palette.convert("RGB"))
    return {
        "L": (Image.fromarray(gray), np.repeat(gray[..., None], 3, axis=2)),
        "I;16": (
            Image.fromarray(gray.astype(np.uint16) * 257),
            np.repeat(gray[..., None], 3, axis=2),
        ),
        "P": (palette, palette_rgb),
        "RGBA": (Image.fromarray(np.dstack([RGB, alpha])), over_white),
        "RGB": (Image.fromarray(RGB), RGB),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_every_mode_decodes_to_the_expected_rgb(tmp_path: Path, mode):
    image, want = _modes()[mode]
    path = tmp_path / "x.png"
    image.save(path)
    with Image.open(path) as raw:
        got = np.asarray(to_rgb(raw))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(load_images([path])[0], want)
    gray = load_images([path], grayscale=True)[0, ..., 0]
    np.testing.assert_array_equal(gray, np.asarray(Image.fromarray(want).convert("L")))


def test_stray_files_are_skipped_in_every_listing(tmp_path: Path):
    for k in range(3):
        Image.fromarray(RGB).save(tmp_path / f"img{k}.png")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "README.txt").write_text("stimuli\n")
    (tmp_path / "._img0.png").write_bytes(b"\0\5\26\7 resource fork")
    (tmp_path / "more.png").mkdir()
    want = [tmp_path / f"img{k}.png" for k in range(3)]
    assert image_files(tmp_path) == want
    assert list_images(tmp_path) == want
    assert load_images(image_files(tmp_path)).shape == (3, 6, 6, 3)


def test_algonauts_image_paths_skip_stray_files(tmp_path: Path):
    from fmri_rdm.data.algonauts import image_paths

    folder = tmp_path / "subj01" / "training_split" / "training_images"
    folder.mkdir(parents=True)
    for k in range(2):
        Image.fromarray(RGB).convert("P").save(folder / f"train-{k + 1:04d}_nsd-{k:05d}.png")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "Thumbs.db").write_bytes(b"x")
    assert [p.name for p in image_paths(tmp_path, 1)] == [
        "train-0001_nsd-00000.png",
        "train-0002_nsd-00001.png",
    ]


def test_embeddings_file_with_nan_rows_names_them(tmp_path: Path):
    x = np.ones((20, 4), np.float32)
    x[3, 1] = np.nan
    x[17] = np.inf
    np.save(tmp_path / "e.npy", x)
    with pytest.raises(DataError) as err:
        FileEmbedder(tmp_path / "e.npy").load()
    msg = str(err.value)
    assert "\n" not in msg and "2 of 20 rows" in msg and "rows 3, 17" in msg
