"""`load_responses` and friends against a hand-built tiny layout with known masks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from fmri_rdm.data import algonauts
from fmri_rdm.data.algonauts import (
    available_rois,
    image_paths,
    load_responses,
    select_images,
)
from fmri_rdm.data.rois import ROI_CLASSES
from fmri_rdm.errors import ConfigError, DataError

N_IMG = 5
# Codes per vertex (lh: 6 vertices, rh: 4); classes not listed are all zeros.
MASKS = {
    "prf-visualrois": ([1, 1, 2, 0, 3, 7], [2, 0, 1, 7]),  # V1v V1v V1d - V2v hV4 | V1d - V1v hV4
    "floc-faces": ([0, 0, 0, 2, 2, 0], [0, 0, 0, 0]),  # FFA-1 in lh only
    "streams": ([1, 1, 1, 0, 1, 2], [1, 0, 1, 2]),
}


def _build(root: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write subj01 of the tiny layout under `root`; return the raw lh/rh responses."""
    rng = np.random.default_rng(seed)
    sdir = root / "subj01"
    fmri = {"lh": rng.normal(size=(N_IMG, 6)), "rh": rng.normal(size=(N_IMG, 4))}
    (sdir / "training_split" / "training_fmri").mkdir(parents=True)
    for h, x in fmri.items():
        np.save(
            sdir / "training_split" / "training_fmri" / f"{h}_training_fmri.npy",
            x.astype(np.float32),
        )
    for split, prefix, n in (
        ("training_split/training_images", "train", N_IMG),
        ("test_split/test_images", "test", 2),
    ):
        (sdir / split).mkdir(parents=True)
        for k in range(n):  # written out of order: the loader must sort
            img = np.full((8, 8, 3), 40 * k, dtype=np.uint8)
            Image.fromarray(img).save(sdir / split / f"{prefix}-{n - k:04d}_nsd-{900 - k:05d}.png")
    masks = sdir / "roi_masks"
    masks.mkdir()
    for cls, rois in ROI_CLASSES.items():
        np.save(
            masks / f"mapping_{cls}.npy",
            np.array({0: "Unknown", **dict(enumerate(rois, 1))}, dtype=object),
        )
        lh, rh = MASKS.get(cls, ([0] * 6, [0] * 4))
        np.save(masks / f"lh.{cls}_challenge_space.npy", np.array(lh, dtype=np.int64))
        np.save(
            masks / f"rh.{cls}_challenge_space.npy", np.array(rh, dtype=np.float64)
        )  # float codes
    return {h: x.astype(np.float32) for h, x in fmri.items()}


@pytest.fixture
def tiny(tmp_path):
    return tmp_path, _build(tmp_path)


def _expected(fmri, lh_cols, rh_cols):
    return np.concatenate([fmri["lh"][:, lh_cols], fmri["rh"][:, rh_cols]], axis=1)


@pytest.mark.parametrize(
    ("roi", "lh_cols", "rh_cols"),
    [
        ("V1v", [0, 1], [2]),
        ("V1", [0, 1, 2], [0, 2]),
        ("hV4", [5], [3]),
        ("prf-visualrois", [0, 1, 2, 4, 5], [0, 2, 3]),
        ("early", [0, 1, 2, 4], [0, 2]),
        ("streams", [0, 1, 2, 4, 5], [0, 2, 3]),
        ("all", list(range(6)), list(range(4))),
    ],
)
def test_roi_selection_raw_and_standardized(tiny, roi, lh_cols, rh_cols):
    root, fmri = tiny
    ref = _expected(fmri, lh_cols, rh_cols)
    raw = load_responses(root, 1, roi, standardize=False)
    assert raw.dtype == np.float32 and raw.shape == (N_IMG, len(lh_cols) + len(rh_cols))
    np.testing.assert_array_equal(raw, ref)
    z = load_responses(root, 1, roi)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, stats.zscore(ref.astype(np.float64), axis=0, ddof=0), atol=1e-5)


def test_image_subset_rows_then_zscore(tiny):
    root, fmri = tiny
    rows = np.array([4, 0, 2])
    raw = load_responses(root, 1, "V1", standardize=False, images=rows)
    np.testing.assert_array_equal(raw, _expected(fmri, [0, 1, 2], [0, 2])[rows])
    z = load_responses(root, 1, "V1", images=rows)
    np.testing.assert_allclose(z, stats.zscore(raw.astype(np.float64), axis=0), atol=1e-5)
    with pytest.raises(ConfigError):
        load_responses(root, 1, "V1", images=[0, 5])


def test_fmri_is_memory_mapped(tiny, monkeypatch):
    root, _ = tiny
    calls = []
    real_load = np.load

    def spy(path, *args, **kwargs):
        calls.append((Path(path).name, kwargs.get("mmap_mode"), kwargs.get("allow_pickle")))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    load_responses(root, 1, "V1")
    fmri_calls = [c for c in calls if "training_fmri" in c[0]]
    assert len(fmri_calls) == 2 and all(mode == "r" for _, mode, _ in fmri_calls)
    assert not any(allow for _, _, allow in calls)  # mappings never go through np.load pickles


def test_roi_absent_in_one_hemisphere_warns(tiny, caplog):
    root, fmri = tiny
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.data.algonauts"):
        x = load_responses(root, 1, "FFA-1", standardize=False)
    np.testing.assert_array_equal(x, fmri["lh"][:, [3, 4]])
    assert "FFA-1" in caplog.text and "rh" in caplog.text


def test_roi_absent_in_both_hemispheres_lists_what_exists(tiny):
    root, _ = tiny
    with pytest.raises(DataError) as info:
        load_responses(root, 1, "EBA")
    msg = str(info.value)
    assert "\n" not in msg and "EBA" in msg and "FFA-1" in msg and "V1v" in msg
    with pytest.raises(DataError, match="floc-bodies"):
        load_responses(root, 1, "floc-bodies")


def test_unknown_roi_is_an_error_listing_valid_names(tiny):
    root, _ = tiny
    with pytest.raises(DataError, match="FFA-1"):
        load_responses(root, 1, "FFA")


def test_image_paths_sorted_in_row_order(tiny):
    root, _ = tiny
    train = image_paths(root, 1)
    assert [p.name for p in train] == [f"train-{k:04d}_nsd-{895 + k:05d}.png" for k in range(1, 6)]
    assert [p.name[:9] for p in image_paths(root, 1, "test")] == ["test-0001", "test-0002"]
    with pytest.raises(ConfigError):
        image_paths(root, 1, "val")


def test_available_rois(tiny):
    root, _ = tiny
    assert available_rois(root, 1) == {
        "prf-visualrois": ["V1v", "V1d", "V2v", "hV4"],
        "floc-bodies": [],
        "floc-faces": ["FFA-1"],
        "floc-places": [],
        "floc-words": [],
        "streams": ["early", "midventral"],
    }


def test_select_images():
    np.testing.assert_array_equal(select_images(10), np.arange(10))
    first = select_images(10, 4)
    assert first.dtype == np.int64 and first.tolist() == [0, 1, 2, 3]
    rand = select_images(100, 10, random_subset=True, seed=3)
    assert rand.dtype == np.int64 and len(np.unique(rand)) == 10 and np.all(np.diff(rand) > 0)
    np.testing.assert_array_equal(rand, select_images(100, 10, random_subset=True, seed=3))
    assert not np.array_equal(rand, select_images(100, 10, random_subset=True, seed=4))
    for bad in (11, 1, 0):
        with pytest.raises(ConfigError):
            select_images(10, bad)


# ---------------------------------------------------------------- errors: one line each
def _one_line_error(fn, match):
    with pytest.raises(DataError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert match in msg, msg
    return msg


def test_missing_root_and_subject(tmp_path, tiny):
    root, _ = tiny
    msg = _one_line_error(lambda: load_responses(tmp_path / "nope", 1, "V1"), "ALGONAUTS_DIR")
    assert "experiment=demo" in msg
    _one_line_error(lambda: load_responses(None, 1, "V1"), "data.root")
    msg = _one_line_error(lambda: load_responses(root, 3, "V1"), "subj03")
    assert "subj01" in msg


def test_image_count_must_match_rows(tiny):
    root, _ = tiny
    image_paths(root, 1)[0].unlink()
    _one_line_error(lambda: load_responses(root, 1, "V1"), "4 training images but 5 fMRI rows")


def test_hemispheres_must_have_same_rows(tiny):
    root, fmri = tiny
    np.save(root / "subj01/training_split/training_fmri/rh_training_fmri.npy", fmri["rh"][:3])
    _one_line_error(lambda: load_responses(root, 1, "V1"), "rh_training_fmri.npy")


def test_mask_length_must_match_vertices(tiny):
    root, _ = tiny
    np.save(root / "subj01/roi_masks/rh.prf-visualrois_challenge_space.npy", np.zeros(5, np.int64))
    _one_line_error(lambda: load_responses(root, 1, "V1"), "rh.prf-visualrois_challenge_space.npy")


@pytest.mark.parametrize(
    "name",
    [
        "training_split/training_fmri/rh_training_fmri.npy",
        "roi_masks/lh.floc-faces_challenge_space.npy",
        "roi_masks/mapping_floc-faces.npy",
    ],
)
def test_missing_file_is_named(tiny, name):
    root, _ = tiny
    (root / "subj01" / name).unlink()
    _one_line_error(lambda: load_responses(root, 1, "FFA-1"), Path(name).name)


@pytest.mark.parametrize("name", ["lh_training_fmri.npy", "rh_training_fmri.npy"])
def test_truncated_fmri_is_named(tiny, name):
    root, _ = tiny
    path = root / "subj01/training_split/training_fmri" / name
    path.write_bytes(path.read_bytes()[:-17])
    _one_line_error(lambda: load_responses(root, 1, "all"), name)


def test_corrupt_mask_is_named(tiny):
    root, _ = tiny
    (root / "subj01/roi_masks/lh.streams_challenge_space.npy").write_bytes(b"not a numpy file")
    _one_line_error(lambda: load_responses(root, 1, "early"), "lh.streams_challenge_space.npy")


def test_nan_vertices_are_dropped_with_a_warning(tiny, caplog):
    root, fmri = tiny
    lh = fmri["lh"].copy()
    lh[2, 0] = np.nan
    lh[0, 1] = np.inf
    np.save(root / "subj01/training_split/training_fmri/lh_training_fmri.npy", lh)
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.data.algonauts"):
        x = load_responses(root, 1, "V1", standardize=False)
    np.testing.assert_array_equal(x, _expected(fmri, [2], [0, 2]))
    assert "dropping 2 of 5 vertices" in caplog.text
    lh[0, 3:5] = np.nan  # every vertex of FFA-1
    np.save(root / "subj01/training_split/training_fmri/lh_training_fmri.npy", lh)
    _one_line_error(lambda: load_responses(root, 1, "FFA-1"), "NaN")


def test_constant_voxel_becomes_zero(tiny, caplog):
    root, fmri = tiny
    lh = fmri["lh"].copy()
    lh[:, 0] = 3.0
    np.save(root / "subj01/training_split/training_fmri/lh_training_fmri.npy", lh)
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.data.algonauts"):
        x = load_responses(root, 1, "V1v")
    assert np.all(x[:, 0] == 0) and "constant" in caplog.text


def test_zscore_columns_chunks_match_numpy(monkeypatch):
    monkeypatch.setattr(algonauts, "_ZSCORE_CHUNK", 3)
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(7, 10)).astype(np.float32)
    ref = stats.zscore(x.astype(np.float64), axis=0)
    np.testing.assert_allclose(algonauts.zscore_columns(x.copy()), ref, atol=1e-5)
