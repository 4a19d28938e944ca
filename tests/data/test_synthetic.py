"""The synthetic dataset: layout, determinism, caching, noise-free responses, and the science."""

from __future__ import annotations

import json
import logging
import re
import time

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from fmri_rdm.data import synthetic
from fmri_rdm.data.algonauts import image_paths, load_responses, read_mapping, read_mask
from fmri_rdm.data.images import dominant_colors, load_images
from fmri_rdm.data.rois import HEMISPHERES, ROI_CLASSES
from fmri_rdm.data.synthetic import (
    GENERATOR_VERSION,
    ensure_synthetic_dataset,
    generate_dataset,
    has_noise_free,
    load_noise_free_responses,
)
from fmri_rdm.errors import ConfigError, DataError


def _rdm(x: np.ndarray) -> np.ndarray:
    return pdist(x.astype(np.float64), "correlation")


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b).statistic)


def test_layout_is_complete_and_consistent(synthetic_root):
    sdir = synthetic_root / "subj01"
    train, test = image_paths(synthetic_root, 1), image_paths(synthetic_root, 1, "test")
    assert len(train) == 60 and len(test) == 6
    assert all(re.fullmatch(r"train-\d{4}_nsd-\d{5}\.png", p.name) for p in train)
    assert [int(p.name[6:10]) for p in train] == list(range(1, 61))
    assert all(re.fullmatch(r"test-\d{4}_nsd-\d{5}\.png", p.name) for p in test)
    assert load_images(train[:2]).shape == (2, 64, 64, 3)
    for h in HEMISPHERES:
        fmri = np.load(sdir / f"training_split/training_fmri/{h}_training_fmri.npy")
        assert fmri.dtype == np.float32 and fmri.shape[0] == 60
        assert 1500 <= fmri.shape[1] <= 3000
        for cls, rois in ROI_CLASSES.items():
            mask = read_mask(sdir / f"roi_masks/{h}.{cls}_challenge_space.npy", fmri.shape[1])
            assert set(np.unique(mask)) <= set(range(len(rois) + 1))
    for cls, rois in ROI_CLASSES.items():
        assert read_mapping(sdir / f"roi_masks/mapping_{cls}.npy") == {
            0: "Unknown",
            **dict(enumerate(rois, 1)),
        }
    manifest = json.loads((synthetic_root / "synthetic_truth/manifest.json").read_text())
    assert manifest["generator_version"] == GENERATOR_VERSION and manifest["seed"] == 0
    assert manifest["params"]["n_images"] == 60


def test_class_masks_agree(synthetic_root):
    masks = synthetic_root / "subj01/roi_masks"
    for h in HEMISPHERES:
        prf = read_mask(masks / f"{h}.prf-visualrois_challenge_space.npy")
        streams = read_mask(masks / f"{h}.streams_challenge_space.npy")
        faces = read_mask(masks / f"{h}.floc-faces_challenge_space.npy")
        bodies = read_mask(masks / f"{h}.floc-bodies_challenge_space.npy")
        assert np.all(streams[(prf >= 1) & (prf <= 6)] == 1)  # V1v..V3d -> early
        assert np.all(streams[prf == 7] == 2)  # hV4 -> midventral
        assert np.all(prf[streams == 1] > 0)  # early stream only from early areas
        assert np.any((faces > 0) & (bodies > 0))  # classes overlap, as in real data
        assert np.any(streams == 0) and np.any(faces == 0)
        for k in range(len(ROI_CLASSES["prf-visualrois"])):
            assert np.sum(prf == k + 1) >= 10


def test_generator_is_deterministic(tmp_path):
    kwargs = dict(subjects=(1, 2), n_images=12, n_test_images=2, image_size=32)
    a = generate_dataset(tmp_path / "a", seed=5, **kwargs)
    b = generate_dataset(tmp_path / "b", seed=5, **kwargs)
    c = generate_dataset(tmp_path / "c", seed=6, **kwargs)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    fmri = "training_split/training_fmri/lh_training_fmri.npy"
    assert (a / "subj01" / fmri).read_bytes() != (c / "subj01" / fmri).read_bytes()
    assert image_paths(a, 1)[0].read_bytes() != image_paths(c, 1)[0].read_bytes()
    # subjects: same images, different vertices and draws
    s1, s2 = np.load(a / "subj01" / fmri), np.load(a / "subj02" / fmri)
    assert s1.shape[1] != s2.shape[1]
    np.testing.assert_array_equal(load_images(image_paths(a, 1)), load_images(image_paths(a, 2)))


def test_noise_free_uses_the_same_selection(synthetic_root, tmp_path):
    assert has_noise_free(synthetic_root, 1) and not has_noise_free(synthetic_root, 2)
    assert not has_noise_free(tmp_path, 1)
    for roi in ("V1", "FFA-1", "floc-words", "streams", "all"):
        clean = load_noise_free_responses(synthetic_root, 1, roi, standardize=False)
        measured = load_responses(synthetic_root, 1, roi, standardize=False)
        assert clean.shape == measured.shape and clean.dtype == np.float32
        noise = measured - clean  # unit Gaussian measurement noise, independent of the signal
        assert 0.9 < noise.std() < 1.1 and abs(noise.mean()) < 0.1
    z = load_noise_free_responses(synthetic_root, 1, "V2", images=[3, 1, 4])
    assert z.shape[0] == 3 and np.allclose(z.mean(axis=0), 0, atol=1e-5)


def test_rdms_differ_between_roi_classes(synthetic_root):
    root = synthetic_root
    measured = {
        r: _rdm(load_responses(root, 1, r)) for r in ("V1", "V3", "floc-faces", "floc-places")
    }
    clean = {r: _rdm(load_noise_free_responses(root, 1, r)) for r in ("V1", "floc-faces")}
    v1_reliability = _rho(clean["V1"], measured["V1"])
    faces_reliability = _rho(clean["floc-faces"], measured["floc-faces"])
    assert 0.5 < v1_reliability < 0.95  # noisy, but far from pure noise
    assert faces_reliability > 0.3
    between = _rho(measured["V1"], measured["floc-faces"])
    assert between < v1_reliability - 0.3 and between < faces_reliability - 0.2
    assert _rho(clean["V1"], clean["floc-faces"]) < 0.6  # different models, not just noise
    assert _rho(measured["V1"], measured["V3"]) > between + 0.2  # neighbouring areas agree more


def test_planted_colours_are_detected(synthetic_root):
    tint = np.load(synthetic_root / "synthetic_truth/images.npz")["tint"]
    found = dominant_colors(load_images(image_paths(synthetic_root, 1)))
    planted = tint >= 0
    np.testing.assert_array_equal(found[planted], tint[planted])
    for colour in (0, 2):  # red and blue each on >= 8 % of images
        assert np.mean(found == colour) >= 0.08
    assert 0.25 <= planted.mean() <= 0.45


def test_ensure_generates_once_and_reuses(tmp_path, caplog, monkeypatch):
    kwargs = dict(n_images=8, n_test_images=1, image_size=32, seed=1)
    with caplog.at_level(logging.INFO, logger="fmri_rdm.data.synthetic"):
        first = ensure_synthetic_dataset(tmp_path, **kwargs)
    assert first.parent == tmp_path / "synthetic" and f"_v{GENERATOR_VERSION}" in first.name
    assert has_noise_free(first, 1) and "generating" in caplog.text
    calls = []
    monkeypatch.setattr(synthetic, "generate_dataset", lambda *a, **k: calls.append(a))
    assert ensure_synthetic_dataset(tmp_path, **kwargs) == first and not calls
    assert [p.name for p in (tmp_path / "synthetic").iterdir()] == [first.name]  # no temp left
    (first / "synthetic_truth/manifest.json").unlink()
    with pytest.raises(DataError, match="delete"):
        ensure_synthetic_dataset(tmp_path, **kwargs)


def test_ensure_uses_the_winner_of_a_race(tmp_path, monkeypatch):
    kwargs = dict(n_images=8, n_test_images=1, image_size=32, seed=2)
    real = synthetic.generate_dataset

    def racing(out_dir, *args):  # another process finishes the same dataset meanwhile
        real(out_dir, *args)
        final = tmp_path / "synthetic" / synthetic_key
        real(final, *args)
        (final / "winner").touch()
        return out_dir

    synthetic_key = "subj1_n8_t1_px32_seed2_v" + GENERATOR_VERSION
    monkeypatch.setattr(synthetic, "generate_dataset", racing)
    got = ensure_synthetic_dataset(tmp_path, **kwargs)
    assert got.name == synthetic_key and (got / "winner").exists()
    assert [p.name for p in (tmp_path / "synthetic").iterdir()] == [synthetic_key]


def test_bad_parameters_and_cli(tmp_path, capsys):
    with pytest.raises(ConfigError):
        generate_dataset(tmp_path, n_images=1)
    with pytest.raises(ConfigError):
        generate_dataset(tmp_path, subjects=(1, 1))
    with pytest.raises(ConfigError):
        generate_dataset(tmp_path, image_size=16)
    assert synthetic.main([str(tmp_path / "x"), "--images", "1"]) == 2
    assert "error:" in capsys.readouterr().err
    out = tmp_path / "cli"
    args = [
        str(out),
        "--subjects",
        "3",
        "--images",
        "6",
        "--test-images",
        "2",
        "--size",
        "32",
        "--seed",
        "1",
    ]
    assert synthetic.main(args) == 0
    assert len(image_paths(out, 3)) == 6 and has_noise_free(out, 3)


@pytest.mark.slow
def test_full_size_generation_is_fast(tmp_path):
    start = time.perf_counter()
    generate_dataset(tmp_path, n_images=600, n_test_images=50, image_size=128, seed=0)
    assert time.perf_counter() - start < 30


def test_subjects_share_some_images(tmp_path):
    kwargs = dict(n_images=12, n_test_images=1, image_size=32, seed=5)
    root = generate_dataset(tmp_path / "s", subjects=(1, 2, 3), n_shared=7, **kwargs)
    alone = generate_dataset(tmp_path / "alone", subjects=(2,), n_shared=7, **kwargs)
    names = {s: [p.name[-13:] for p in image_paths(root, s)] for s in (1, 2, 3)}
    shared = set(names[1]) & set(names[2]) & set(names[3])
    assert len(shared) == 7 and all(len(set(v)) == 12 for v in names.values())
    assert len(set(names[1]) | set(names[2]) | set(names[3])) == 7 + 3 * 5  # own ids never clash
    pixels = {s: dict(zip(names[s], load_images(image_paths(root, s)), strict=True)) for s in names}
    for name in shared:  # same NSD id, same image, in every subject
        np.testing.assert_array_equal(pixels[1][name], pixels[3][name])
    fmri = "training_split/training_fmri/lh_training_fmri.npy"
    assert np.load(root / "subj01" / fmri).shape[1] != np.load(root / "subj02" / fmri).shape[1]
    # a subject's data does not depend on which other subjects were generated with it
    assert (root / "subj02" / fmri).read_bytes() == (alone / "subj02" / fmri).read_bytes()
    with pytest.raises(ConfigError, match="n_shared"):
        generate_dataset(tmp_path / "bad", n_shared=13, **kwargs)


def test_threaded_features_and_pngs_match_one_thread() -> None:
    """The generator's per-image features and PNG files do not depend on the thread count
    (a full-size subject runs them on every core)."""
    import io

    from PIL import Image

    from fmri_rdm.data import scenes
    from fmri_rdm.data.synthetic import _encode_png, _png_bytes

    rendered = scenes.render_scenes(np.random.default_rng(7), 11, 32)
    one, many = scenes.image_features(rendered, workers=1), scenes.image_features(rendered, 3)
    assert one.keys() == many.keys()
    for key in one:
        np.testing.assert_array_equal(one[key], many[key])
    pngs = _png_bytes(rendered.images)
    assert pngs == _encode_png(rendered.images)
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(p))) for p in pngs])
    np.testing.assert_array_equal(decoded, rendered.images)
