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
from fmri_rdm.data.cortex import simulate_hemisphere
from fmri_rdm.data.rois import HEMISPHERES, ROI_CLASSES
from fmri_rdm.errors import ConfigError, DataError, FmriRdmError
from fmri_rdm.rsa.pairs import COLOR_NAMES
from fmri_rdm.runtime.console import HEADLINE

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
TRUTH_DIR = "synthetic_truth"


def _encode_png(images: np.ndarray) -> list[bytes]:
    from PIL import Image

    out = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG", compress_level=1)
        out.append(buf.getvalue())
    return out


def _png_bytes(images: np.ndarray) -> list[bytes]:
    """PNG files of images (n, S, S, 3) uint8, encoded once and reused for every subject
    (zlib releases the GIL, so chunks run on threads)."""
    return [png for chunk in scenes.map_image_chunks(_encode_png, images, None) for png in chunk]


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


def synthetic_dataset_path(
    cache_dir: PathLike,
    *,
    subjects: Sequence[int] = (1,),
    n_images: int = 600,
    n_test_images: int = 50,
    image_size: int = 128,
    seed: int = 0,
    n_shared: int | None = None,
) -> Path:
    """Where `ensure_synthetic_dataset` keeps the dataset with these parameters (not created)."""
    key = "subj{}_n{}_t{}_px{}_seed{}_v{}".format(
        "-".join(str(int(s)) for s in subjects),
        n_images,
        n_test_images,
        image_size,
        seed,
        GENERATOR_VERSION,
    )
    if n_shared is not None and int(n_shared) < n_images:  # earlier keys stay as they were
        key += f"_shared{int(n_shared)}"
    return Path(cache_dir) / "synthetic" / key


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
    final = synthetic_dataset_path(
        cache_dir,
        subjects=subjects,
        n_images=n_images,
        n_test_images=n_test_images,
        image_size=image_size,
        seed=seed,
        n_shared=n_shared,
    )
    parent, key = final.parent, final.name
    if (final / TRUTH_DIR / "manifest.json").is_file():
        log.info("using cached synthetic dataset %s", final)
        return final
    if final.exists():  # never made by us (we rename complete folders only): don't guess
        raise DataError(
            f"incomplete synthetic dataset at {final}: delete that folder to regenerate it"
        )
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=parent))
    log.info("generating synthetic dataset %s (once)", final, extra=HEADLINE)
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
