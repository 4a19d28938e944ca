"""Synthetic dataset in the exact Algonauts 2023 layout, with known noise-free responses.

Images are procedural scenes (textured background, gratings and edges, painted faces, bodies,
places and words; about a third tinted pure-ish red, green or blue). Responses come from an
image-computable model that differs by ROI: early visual vertices pool oriented contrast energy
in a receptive field (ventral halves: upper field; lh: right hemifield; RF size V1 < V2 < V3),
hV4 pools hue/saturation, category ROIs respond to the presence, size and position of their
objects, streams mix these. Measured = noise-free + Gaussian noise; the noise-free responses go
to `<root>/synthetic_truth/`, outside the Algonauts folders.

Subjects share all training images by default; with `n_shared` they share that many (same NSD
id, same image) and see images of their own besides, as NSD subjects do.

CLI: `python -m fmri_rdm.data.synthetic OUT --subjects 1 2 --images 600 --test-images 50
--size 128 --seed 0 [--shared 300]`.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fmri_rdm.data import scenes
from fmri_rdm.data.algonauts import (
    SPLIT_IMAGE_DIRS,
    TRAIN_FMRI_DIR,
    PathLike,
    load_masked_responses,
    subject_dir,
)
from fmri_rdm.data.images import COLOR_NAMES
from fmri_rdm.data.rois import HEMISPHERES, ROI_CLASSES
from fmri_rdm.errors import ConfigError, DataError, FmriRdmError

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
TRUTH_DIR = "synthetic_truth"
GROUPS = ("early", "color", *scenes.CATEGORIES)  # response feature groups

# Vertex "homes": where a vertex's response comes from. Fractions of a hemisphere's vertices.
_EARLY = ("V1v", "V1d", "V2v", "V2d", "V3v", "V3d")
HOME_FRACTIONS: dict[str, float] = {
    "V1v": 0.05, "V1d": 0.05, "V2v": 0.045, "V2d": 0.045, "V3v": 0.04, "V3d": 0.04, "hV4": 0.03,
    "OFA": 0.02, "FFA-1": 0.02, "FFA-2": 0.015, "mTL-faces": 0.01, "aTL-faces": 0.01,
    "EBA": 0.03, "FBA-1": 0.015, "FBA-2": 0.015, "mTL-bodies": 0.01,
    "OPA": 0.02, "PPA": 0.025, "RSC": 0.015,
    "OWFA": 0.015, "VWFA-1": 0.015, "VWFA-2": 0.01, "mfs-words": 0.01, "mTL-words": 0.01,
    "midventral": 0.02, "ventral": 0.05, "midlateral": 0.03, "lateral": 0.05,
    "midparietal": 0.04, "parietal": 0.08, "none": 0.0,
}  # fmt: skip
_HOMES = tuple(HOME_FRACTIONS)
# A home's streams label; floc homes default to ventral, and 15% of them are in no stream.
_STREAM_OF = {
    **dict.fromkeys(_EARLY, "early"), "hV4": "midventral", "OFA": "lateral", "EBA": "lateral",
    "OPA": "parietal", "RSC": "midparietal",
    **{s: s for s in ROI_CLASSES["streams"] if s != "early"},
}  # fmt: skip
_RECIPES: dict[str, dict[str, float]] = {  # home kind -> weight of each feature group
    "early": {"early": 1.0},
    "hV4": {"color": 1.0, "early": 0.3},
    "floc-faces": {"faces": 1.0, "bodies": 0.3, "words": 0.2, "early": 0.2, "color": 0.2},
    "floc-bodies": {"bodies": 1.0, "faces": 0.3, "places": 0.2, "early": 0.2, "color": 0.1},
    "floc-places": {"places": 1.0, "words": 0.2, "bodies": 0.1, "early": 0.3},
    "floc-words": {"words": 1.0, "faces": 0.3, "places": 0.1, "early": 0.2},
    "midventral": {"color": 0.6, "early": 0.6, "words": 0.3, "faces": 0.3},
    "ventral": {"faces": 0.5, "places": 0.5, "words": 0.5, "color": 0.3},
    "midlateral": {"early": 0.7, "bodies": 0.5},
    "lateral": {"bodies": 0.6, "faces": 0.4, "early": 0.4},
    "midparietal": {"places": 0.5, "early": 0.7},
    "parietal": {"places": 0.6, "early": 0.6},
    "none": dict.fromkeys(GROUPS, 0.2),
}
# Signal sd / noise sd per home kind (others: _SNR_DEFAULT).
_SNR = {"early": 1.0, "none": 0.3}
_SNR_DEFAULT = 1.3
_RF_SIGMA = {"V1": (0.03, 0.055), "V2": (0.055, 0.09), "V3": (0.09, 0.14)}
_ABSENT = {"rh": ("mTL-words",)}  # ROIs missing in one hemisphere, as in some real subjects


def _home_kind(home: str) -> str:
    if home in _EARLY:
        return "early"
    for cls, names in ROI_CLASSES.items():
        if home in names and cls.startswith("floc-"):
            return cls
    return home


def _stream_of(home: str) -> str:
    """The streams ROI of a vertex home ('' for none); floc ROIs without an entry are ventral."""
    if home in _STREAM_OF:
        return _STREAM_OF[home]
    return "ventral" if _home_kind(home).startswith("floc-") else ""


def _vertex_homes(rng: np.random.Generator, hemi: str, n_vertices: int) -> np.ndarray:
    """Home index per vertex, int64 (V,), in a random vertex order."""
    frac = np.array([0.0 if h in _ABSENT.get(hemi, ()) else HOME_FRACTIONS[h] for h in _HOMES])
    counts = np.floor(frac * n_vertices).astype(np.int64)
    counts[_HOMES.index("none")] = n_vertices - counts.sum()
    return rng.permutation(np.repeat(np.arange(len(_HOMES)), counts))


def _class_masks(rng: np.random.Generator, homes: np.ndarray) -> dict[str, np.ndarray]:
    """Codes per vertex for every class, int32 (V,); consistent with the vertex homes."""
    names = np.array(_HOMES)[homes]
    masks = {}
    for cls, rois in ROI_CLASSES.items():
        code = {roi: c for c, roi in enumerate(rois, start=1)}
        labels = [_stream_of(h) for h in _HOMES] if cls == "streams" else list(_HOMES)
        codes = np.array([code.get(lab, 0) for lab in labels], dtype=np.int32)[homes]
        if cls == "streams":  # not every floc vertex lies in a stream
            floc = np.array([_home_kind(h).startswith("floc-") for h in _HOMES])[homes]
            codes[floc & (rng.random(codes.size) < 0.15)] = 0
        masks[cls] = codes
    # Real FFA and FBA overlap: a fifth of FBA-1 vertices are also labelled FFA-1.
    overlap = (names == "FBA-1") & (rng.random(names.size) < 0.2)
    masks["floc-faces"][overlap] = ROI_CLASSES["floc-faces"].index("FFA-1") + 1
    return masks


def _vertex_weights(
    rng: np.random.Generator, hemi: str, homes: np.ndarray, grid: int, n_dims: dict[str, int]
) -> dict[str, np.ndarray]:
    """Positive weights (V, D_group) of each vertex over each feature group's features."""
    names = np.array(_HOMES)[homes]
    n = homes.size
    # Receptive fields: early areas small and retinotopic (ventral = upper field = small y;
    # lh sees the right hemifield), everything else large and anywhere.
    lo_s, hi_s = np.full(n, 0.15), np.full(n, 0.3)
    lo_x, hi_x, lo_y, hi_y = np.full(n, 0.05), np.full(n, 0.95), np.full(n, 0.1), np.full(n, 0.9)
    early = np.isin(names, _EARLY)
    for area, (lo, hi) in _RF_SIGMA.items():
        lo_s[np.char.startswith(names, area)], hi_s[np.char.startswith(names, area)] = lo, hi
    lo_x[early], hi_x[early] = (0.5, 0.95) if hemi == "lh" else (0.05, 0.5)
    ventral = early & np.char.endswith(names, "v")
    dorsal = early & np.char.endswith(names, "d")
    lo_y[ventral], hi_y[ventral] = 0.03, 0.5
    lo_y[dorsal], hi_y[dorsal] = 0.5, 0.97
    sigma, cx, cy = rng.uniform(lo_s, hi_s), rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    orient = rng.gamma(1.0, size=(n, scenes.N_ORIENT))
    rf = _gaussian_rf(cx, cy, sigma, grid)
    weights = {"early": (rf[:, :, None] * orient[:, None, :]).reshape(n, -1)}
    # Colour: an ROI-level hue profile with per-vertex jitter, so ROIs differ and vertices too.
    profile = rng.gamma(1.0, size=(len(_HOMES), n_dims["color"]))
    weights["color"] = profile[homes] * rng.lognormal(0.0, 0.5, size=(n, n_dims["color"]))
    # Objects: the same RF on the coarse object grid (where the object is) plus a size term,
    # mixed per vertex; this heterogeneity is what the voxel pattern (and so the RDM) sees.
    rf_obj = _gaussian_rf(cx, cy, np.maximum(sigma, 0.15), scenes.OBJ_GRID)
    for g in scenes.CATEGORIES:
        gain = rng.gamma(2.0, 0.5, size=(n, 2))
        weights[g] = np.concatenate([rf_obj * gain[:, :1], gain[:, 1:] * 0.5], axis=1)
    return {g: w.astype(np.float32) for g, w in weights.items()}


def _gaussian_rf(cx: np.ndarray, cy: np.ndarray, sigma: np.ndarray, grid: int) -> np.ndarray:
    """Gaussian receptive fields (V, grid*grid) over a grid's cell centres, rows summing to 1."""
    centres = (np.arange(grid) + 0.5) / grid
    d2 = (centres[None, :, None] - cy[:, None, None]) ** 2
    d2 = d2 + (centres[None, None, :] - cx[:, None, None]) ** 2  # (V, grid_y, grid_x)
    rf = np.exp(-d2 / (2 * sigma[:, None, None] ** 2)).reshape(cx.size, -1)
    return rf / rf.sum(axis=1, keepdims=True)


def _unit_columns(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    std = x.std(axis=0)
    return x / np.where(std > 1e-8, std, 1.0)


def simulate_hemisphere(
    rng: np.random.Generator, hemi: str, n_vertices: int, features: dict[str, np.ndarray], grid: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Masks per class, noise-free and measured responses (N, V) float32 of one hemisphere."""
    homes = _vertex_homes(rng, hemi, n_vertices)
    masks = _class_masks(rng, homes)
    weights = _vertex_weights(rng, hemi, homes, grid, {g: f.shape[1] for g, f in features.items()})
    kinds = [_home_kind(h) for h in _HOMES]
    alpha = np.array([[_RECIPES[k].get(g, 0.0) for g in GROUPS] for k in kinds])[homes]  # (V, G)
    signal = np.zeros((next(iter(features.values())).shape[0], n_vertices))
    for k, g in enumerate(GROUPS):  # each group's drive, normalised, then mixed by the recipe
        signal += alpha[:, k] * _unit_columns(features[g] @ weights[g].T)
    snr = np.array([_SNR.get(k, _SNR_DEFAULT) for k in kinds])[homes]
    amplitude = snr * rng.lognormal(0.0, 0.25, n_vertices)
    noise_free = amplitude * _unit_columns(signal) + rng.normal(0.0, 0.5, n_vertices)
    measured = noise_free + rng.standard_normal(noise_free.shape)
    return masks, noise_free.astype(np.float32), measured.astype(np.float32)


def _png_bytes(images: np.ndarray) -> list[bytes]:
    from PIL import Image

    out = []
    for img in images:  # one encode per image; reused for every subject
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG", compress_level=1)
        out.append(buf.getvalue())
    return out


def _write_images(folder: Path, prefix: str, ids: np.ndarray, data: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, (nsd, blob) in enumerate(zip(ids, data, strict=True), start=1):
        (folder / f"{prefix}-{k:04d}_nsd-{nsd:05d}.png").write_bytes(blob)


def _check_params(subjects: Sequence[int], n_images: int, n_test: int, size: int) -> None:
    if (
        not subjects
        or len(set(subjects)) != len(subjects)
        or not all(1 <= s <= 99 for s in subjects)
    ):
        raise ConfigError(f"subjects must be distinct numbers in 1..99, got {list(subjects)}")
    if n_images < 2 or n_test < 0:
        raise ConfigError(f"need >= 2 training and >= 0 test images, got {n_images} and {n_test}")
    if size < 32:
        raise ConfigError(f"image_size must be >= 32 pixels, got {size}")


def _subject_scenes(
    base: scenes.SceneSet,
    base_ids: np.ndarray,
    n_shared: int,
    subject: int,
    seed: int,
    free_ids: np.ndarray,
    size: int,
) -> tuple[scenes.SceneSet, np.ndarray]:
    """Scenes and sorted NSD ids of one subject: the first `n_shared` base scenes (shared by
    every subject) plus scenes of its own, drawn from (seed, subject) so that a subject's
    images do not depend on which other subjects are generated. Own ids are subject-specific
    slices of one permutation of the unused ids, so no id names two different images."""
    n_own = base.images.shape[0] - n_shared
    if subject * n_own > free_ids.size:
        raise ConfigError(
            f"not enough NSD ids for {n_own} own images of subject {subject}: share more "
            "images (data.generate.n_shared) or use fewer images"
        )
    own = scenes.render_scenes(np.random.default_rng([seed, 4, subject]), n_own, size)
    ids = np.concatenate([base_ids[:n_shared], free_ids[(subject - 1) * n_own : subject * n_own]])
    order = np.argsort(ids)
    parts = [
        (getattr(base, f)[:n_shared], getattr(own, f))
        for f in ("images", "tint", "areas", "objects")
    ]
    merged = scenes.SceneSet(*(np.concatenate(p)[order] for p in parts))
    return merged, ids[order]


def generate_dataset(
    out_dir: PathLike,
    subjects: Sequence[int] = (1,),
    n_images: int = 600,
    n_test_images: int = 50,
    image_size: int = 128,
    seed: int = 0,
    n_shared: int | None = None,
) -> Path:
    """Write a synthetic dataset in the Algonauts layout under `out_dir`; return `out_dir`.

    n_shared: training images every subject sees (same NSD id, same image), as NSD's shared
    images; the others are the subject's own. None (default): all images shared, which is
    exactly the data of earlier versions. Each subject has its own vertices, weights and noise.
    """
    subjects = [int(s) for s in subjects]
    _check_params(subjects, n_images, n_test_images, image_size)
    shared = n_images if n_shared is None else int(n_shared)
    if not 0 <= shared <= n_images:
        raise ConfigError(f"n_shared={n_shared} must lie in 0..n_images={n_images}")
    out, start = Path(out_dir), time.perf_counter()
    nsd = np.random.default_rng([seed, 3]).choice(73000, n_images + n_test_images, replace=False)
    train_ids, test_ids = np.sort(nsd[:n_images]), np.sort(nsd[n_images:])
    train = scenes.render_scenes(np.random.default_rng([seed, 1]), n_images, image_size)
    test = scenes.render_scenes(np.random.default_rng([seed, 2]), n_test_images, image_size)
    features = scenes.image_features(train)
    train_png, test_png = _png_bytes(train.images), _png_bytes(test.images)
    free_ids = np.random.default_rng([seed, 5]).permutation(np.setdiff1d(np.arange(73000), nsd))
    truth = out / TRUTH_DIR
    for subject in subjects:
        rng = np.random.default_rng([seed, 100, subject])
        sdir = out / f"subj{subject:02d}"
        ids, png, feats = train_ids, train_png, features
        if shared < n_images:
            mine, ids = _subject_scenes(
                train, train_ids, shared, subject, seed, free_ids, image_size
            )
            png, feats = _png_bytes(mine.images), scenes.image_features(mine)
            (truth / sdir.name).mkdir(parents=True, exist_ok=True)
            np.savez(truth / sdir.name / "images.npz", tint=mine.tint, nsd_id=ids)
        _write_images(sdir / SPLIT_IMAGE_DIRS["train"], "train", ids, png)
        _write_images(sdir / SPLIT_IMAGE_DIRS["test"], "test", test_ids, test_png)
        for d in (sdir / TRAIN_FMRI_DIR, sdir / "roi_masks", truth / sdir.name):
            d.mkdir(parents=True, exist_ok=True)
        for cls, rois in ROI_CLASSES.items():
            mapping = np.array({0: "Unknown", **dict(enumerate(rois, 1))}, dtype=object)
            np.save(sdir / "roi_masks" / f"mapping_{cls}.npy", mapping)  # pickled, as the real ones
        for hemi in HEMISPHERES:
            n_vertices = int(rng.integers(1500, 3001))
            masks, clean, noisy = simulate_hemisphere(rng, hemi, n_vertices, feats, scenes.GRID)
            for cls, codes in masks.items():
                np.save(sdir / "roi_masks" / f"{hemi}.{cls}_challenge_space.npy", codes)
            np.save(sdir / TRAIN_FMRI_DIR / f"{hemi}_training_fmri.npy", noisy)
            np.save(truth / sdir.name / f"{hemi}_training_fmri_noise_free.npy", clean)
    np.savez(truth / "images.npz", tint=train.tint, object_area=train.areas, nsd_id=train_ids)
    params = dict(subjects=subjects, n_images=n_images, n_test_images=n_test_images,
                  image_size=image_size, seed=seed)  # fmt: skip
    if n_shared is not None:
        params["n_shared"] = shared
    manifest = dict(generator_version=GENERATOR_VERSION, seed=seed, params=params,
                    categories=list(scenes.CATEGORIES), colors=list(COLOR_NAMES))  # fmt: skip
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log.info(
        "synthetic dataset (%s) written to %s in %.1f s", params, out, time.perf_counter() - start
    )
    return out


def ensure_synthetic_dataset(
    cache_dir: PathLike,
    *,
    subjects: Sequence[int] = (1,),
    n_images: int = 600,
    n_test_images: int = 50,
    image_size: int = 128,
    seed: int = 0,
    n_shared: int | None = None,
) -> Path:
    """Path of a cached synthetic dataset with these parameters, generating it only if absent.

    Generation goes to a temporary sibling then `os.rename`, so concurrent callers never see a
    half-written dataset; if another process finished first, its copy is used.
    """
    subjects = [int(s) for s in subjects]
    key = "subj{}_n{}_t{}_px{}_seed{}_v{}".format(
        "-".join(map(str, subjects)), n_images, n_test_images, image_size, seed, GENERATOR_VERSION
    )
    if n_shared is not None and int(n_shared) < n_images:  # earlier keys stay as they were
        key += f"_shared{int(n_shared)}"
    parent = Path(cache_dir) / "synthetic"
    final = parent / key
    if (final / TRUTH_DIR / "manifest.json").is_file():
        log.info("using cached synthetic dataset %s", final)
        return final
    if final.exists():  # never made by us (we rename complete folders only): don't guess
        raise DataError(
            f"incomplete synthetic dataset at {final}: delete that folder to regenerate it"
        )
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=parent))
    log.info("generating synthetic dataset %s", final)
    try:
        generate_dataset(tmp, subjects, n_images, n_test_images, image_size, seed, n_shared)
        os.rename(tmp, final)
    except OSError:
        if not (final / TRUTH_DIR / "manifest.json").is_file():
            raise
        log.info("another process generated %s first; using it", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _truth_files(root: PathLike, subject: int) -> dict[str, Path]:
    folder = Path(root) / TRUTH_DIR / f"subj{int(subject):02d}"
    return {h: folder / f"{h}_training_fmri_noise_free.npy" for h in HEMISPHERES}


def has_noise_free(root: PathLike, subject: int) -> bool:
    """Whether `root` holds noise-free responses for `subject` (a synthetic dataset)."""
    return all(p.is_file() for p in _truth_files(root, subject).values())


def load_noise_free_responses(
    root: PathLike,
    subject: int,
    roi: str,
    *,
    standardize: bool = True,
    images: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Noise-free responses (N, V_roi) float32, selected exactly as `load_responses` does."""
    subject_dir(root, subject)
    files = _truth_files(root, subject)
    return load_masked_responses(files, root, subject, roi, standardize=standardize, images=images)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder (the dataset root)")
    parser.add_argument("--subjects", type=int, nargs="+", default=[1])
    parser.add_argument("--images", type=int, default=600, help="training images")
    parser.add_argument("--test-images", type=int, default=50)
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", type=int, default=None, help="images all subjects share")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        generate_dataset(
            args.out,
            args.subjects,
            args.images,
            args.test_images,
            args.size,
            args.seed,
            args.shared,
        )
    except FmriRdmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
