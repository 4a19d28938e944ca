"""NaN / inf responses: a broken image drops that image (aligned everywhere), a broken vertex
drops that vertex, too much damage stops with one line."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from fmri_rdm.data.algonauts import image_paths, load_responses, load_responses_kept
from fmri_rdm.data.nonfinite import IMAGE_SHARE, VERTEX_SHARE, finite_parts
from fmri_rdm.data.synthetic import generate_dataset
from fmri_rdm.errors import DataError

PATHS = [f"train-{k:04d}_nsd-{k:05d}.png" for k in range(100)]


def test_an_image_row_of_nan_drops_the_image_not_the_vertices(caplog):
    x = np.random.default_rng(0).normal(size=(100, 50)).astype(np.float32)
    x[7, :30] = np.nan  # one image's left hemisphere
    x[40:60, 3] = np.inf  # one vertex broken for 20 % of the images
    with caplog.at_level(logging.WARNING):
        rows, cols = finite_parts(x, PATHS, "V1", "here")
    np.testing.assert_array_equal(rows, np.delete(np.arange(100), 7))
    np.testing.assert_array_equal(cols, np.delete(np.arange(50), 3))
    assert "train-0007_nsd-00007.png" in caplog.text and "dropping 1 of 100 images" in caplog.text
    assert np.isfinite(x[np.ix_(rows, cols)]).all()


def test_thresholds_are_the_documented_ones():
    x = np.zeros((100, 10), dtype=np.float32)
    x[: int(VERTEX_SHARE * 100), 0] = np.nan  # exactly 5 %: an image problem, not the vertex's
    rows, cols = finite_parts(x, PATHS, "V1", "here")
    assert cols.size == 10 and rows.size == 100 - int(VERTEX_SHARE * 100)
    x[:, 0] = 0.0
    x[: int(IMAGE_SHARE * 100) + 1, 5:] = np.nan  # 6 images: too many, and half the vertices
    x[: int(IMAGE_SHARE * 100) + 1, :5] = np.nan
    with pytest.raises(DataError) as err:
        finite_parts(x, PATHS, "V1", "here")
    assert "\n" not in str(err.value) and "every vertex" in str(err.value)


def test_too_many_broken_images_is_one_line_naming_some():
    x = np.ones((100, 10), dtype=np.float32)
    x[[1, 2, 3, 4, 5, 6], 2 * np.arange(6) % 10] = np.nan  # 6 images, each vertex 1-2 %
    with pytest.raises(DataError) as err:
        finite_parts(x, PATHS, "V1", "here")
    msg = str(err.value)
    assert "\n" not in msg and "6 of 100 images" in msg and "train-0001_nsd-00001.png" in msg


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory):
    root = generate_dataset(
        tmp_path_factory.mktemp("nan") / "algonauts", n_images=40, n_test_images=2, image_size=32
    )
    lh_file = root / "subj01/training_split/training_fmri/lh_training_fmri.npy"
    clean = np.load(lh_file)
    lh = clean.copy()
    lh[5] = np.nan  # image 5's whole left hemisphere
    np.save(lh_file, lh)
    return root, clean


def test_loader_drops_the_image_and_the_run_stays_aligned(broken_root, caplog):
    from fmri_rdm.data.algonauts_source import AlgonautsSource

    root, _ = broken_root
    with caplog.at_level(logging.WARNING):
        x, kept = load_responses_kept(root, 1, "V1")
    np.testing.assert_array_equal(kept, np.delete(np.arange(40), 5))
    assert image_paths(root, 1)[5].name in caplog.text
    # the same as loading the 39 good images directly (every vertex kept, z-scored over them)
    np.testing.assert_allclose(x, load_responses(root, 1, "V1", images=kept), atol=1e-6)
    with pytest.raises(DataError, match="1 of the 40 selected images"):
        load_responses(root, 1, "V1")
    # a run: image indices, measured and noise-free responses all follow the kept images
    rows = np.arange(2, 40)
    data = AlgonautsSource(root, "synthetic").load(1, "V1", rows=rows, standardize=True)
    images, measured, noise_free = rows[data.kept], data.responses, data.noise_free
    np.testing.assert_array_equal(images, np.delete(np.arange(2, 40), 3))
    assert len(measured) == len(noise_free) == len(images) == 37
    np.testing.assert_allclose(measured, load_responses(root, 1, "V1", images=images), atol=1e-6)
