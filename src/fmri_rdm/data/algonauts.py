"""Read the Algonauts 2023 layout: fMRI responses per ROI, image paths, ROI masks.

Layout under the data root (real and synthetic alike)::

    subjNN/training_split/training_fmri/{lh,rh}_training_fmri.npy   (N x V_hemi float32)
    subjNN/training_split/training_images/train-0001_nsd-00013.png  (sorted = row order)
    subjNN/test_split/test_images/test-0001_nsd-00845.png
    subjNN/roi_masks/{lh,rh}.<class>_challenge_space.npy            (V_hemi ints, 0 = outside)
    subjNN/roi_masks/mapping_<class>.npy                            (pickled dict code -> name)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fmri_rdm.data.files import open_npy, read_mapping, read_mask
from fmri_rdm.data.images import image_files
from fmri_rdm.data.nonfinite import finite_parts
from fmri_rdm.data.rois import ANY, HEMISPHERES, ROI_CLASSES, resolve_roi
from fmri_rdm.errors import ConfigError, DataError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
TRAIN_FMRI_DIR = Path("training_split", "training_fmri")
SPLIT_IMAGE_DIRS = {
    "train": Path("training_split", "training_images"),
    "test": Path("test_split", "test_images"),
}
_ZSCORE_CHUNK = 4096  # columns z-scored at a time in float64 (bounds the temporary's memory)


def subject_dir(root: PathLike | None, subject: int) -> Path:
    """`<root>/subjNN`, checking that both exist."""
    if root is None or str(root) == "" or not Path(root).is_dir():
        raise DataError(
            f"data root {str(root)!r} does not exist: set data.root or $ALGONAUTS_DIR, "
            "or use experiment=demo for synthetic data"
        )
    path = Path(root) / f"subj{int(subject):02d}"
    if not path.is_dir():
        found = sorted(p.name for p in Path(root).glob("subj*") if p.is_dir())
        raise DataError(
            f"subject folder {path} not found; subjects in {root}: "
            f"{', '.join(found) or 'none'} (choose one of them or fix data.root)"
        )
    return path


def image_paths(root: PathLike, subject: int, split: str = "train") -> list[Path]:
    """Image files of one split ("train" or "test"), sorted by name = fMRI row order."""
    if split not in SPLIT_IMAGE_DIRS:
        raise ConfigError(f"unknown image split {split!r}: use 'train' or 'test'")
    folder = subject_dir(root, subject) / SPLIT_IMAGE_DIRS[split]
    if not folder.is_dir():
        raise DataError(f"missing image folder {folder}: the {split} images are not there")
    return image_files(folder)  # stray files (.DS_Store, Thumbs.db, README.txt) skipped


def select_images(
    n_total: int, n_images: int | None = None, *, random_subset: bool = False, seed: int = 0
) -> np.ndarray:
    """Sorted int64 row indices: all rows, the first `n_images`, or a seeded random subset."""
    n = n_total if n_images is None else int(n_images)
    if n < 2 or n > n_total:
        raise ConfigError(
            f"n_images={n_images} is impossible with {n_total} images: choose 2..{n_total} "
            "(or null for all)"
        )
    if not random_subset or n == n_total:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=n, replace=False)).astype(np.int64)


def _mask_path(sdir: Path, hemi: str, cls: str) -> Path:
    return sdir / "roi_masks" / f"{hemi}.{cls}_challenge_space.npy"


def available_rois(root: PathLike, subject: int) -> dict[str, list[str]]:
    """Class -> ROI names with at least one vertex in either hemisphere (classes on disk only)."""
    sdir = subject_dir(root, subject)
    found: dict[str, list[str]] = {}
    for cls, names in ROI_CLASSES.items():
        mapping_path = sdir / "roi_masks" / f"mapping_{cls}.npy"
        paths = [_mask_path(sdir, h, cls) for h in HEMISPHERES]
        if not mapping_path.is_file() or not all(p.is_file() for p in paths):
            log.warning("ROI class %s is incomplete in %s; skipping it", cls, sdir / "roi_masks")
            continue
        mapping = read_mapping(mapping_path)
        codes = np.unique(np.concatenate([read_mask(p) for p in paths]))
        present = {mapping.get(int(c)) for c in codes if c != 0}
        found[cls] = [n for n in names if n in present]
    return found


def roi_vertices(
    root: PathLike, subject: int, roi: str, n_vertices: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """Per hemisphere, sorted int64 indices of the vertices `roi` selects.

    `n_vertices` gives each hemisphere's vertex count (fMRI columns), checked against the masks.
    A ROI absent in one hemisphere is taken from the other with a warning.
    """
    pairs = resolve_roi(roi)
    if pairs == [(ANY, ANY)]:
        return {h: np.arange(n_vertices[h], dtype=np.int64) for h in HEMISPHERES}
    sdir = subject_dir(root, subject)
    selected = {h: np.zeros(n_vertices[h], dtype=bool) for h in HEMISPHERES}
    for cls in dict.fromkeys(c for c, _ in pairs):
        names = {n for c, n in pairs if c == cls}
        codes: list[int] = []
        if ANY not in names:
            mapping = read_mapping(sdir / "roi_masks" / f"mapping_{cls}.npy")
            codes = [code for code, name in mapping.items() if name in names and code != 0]
        for h in HEMISPHERES:
            mask = read_mask(_mask_path(sdir, h, cls), n_vertices[h])
            selected[h] |= (mask != 0) if ANY in names else np.isin(mask, codes)
    counts = {h: int(sel.sum()) for h, sel in selected.items()}
    if not any(counts.values()):
        have = [n for names in available_rois(root, subject).values() for n in names]
        raise DataError(
            f"ROI {roi!r} has no vertices for subject {subject} ({sdir / 'roi_masks'}): "
            f"choose one this subject has: {', '.join(have) or 'none'}"
        )
    for h, count in counts.items():
        if count == 0:
            log.warning(
                "ROI %s is absent in %s of subject %d; using the other hemisphere only",
                roi,
                h,
                subject,
            )
    return {h: np.flatnonzero(sel) for h, sel in selected.items()}


# ---------------------------------------------------------------- responses
def _check_rows(images: Sequence[int] | np.ndarray | None, n_rows: int) -> np.ndarray | None:
    if images is None:
        return None
    rows = np.asarray(images)
    if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ConfigError("images must be a non-empty 1-D array of integer row indices")
    if rows.min() < 0 or rows.max() >= n_rows:
        raise ConfigError(f"image indices must lie in 0..{n_rows - 1} (the fMRI has {n_rows} rows)")
    return rows.astype(np.int64)


def _take(arr: np.ndarray, rows: np.ndarray | None, cols: np.ndarray) -> np.ndarray:
    """arr[rows][:, cols] without reading the whole (memory-mapped) file twice."""
    all_cols = cols.size == arr.shape[1]  # cols are sorted and unique, so this means "every column"
    if rows is None:
        return arr if all_cols else arr[:, cols]
    return arr[rows] if all_cols else arr[np.ix_(rows, cols)]


def zscore_columns(x: np.ndarray) -> np.ndarray:
    """Z-score each column of float32 `x` (N, V) over rows (ddof=0), in place; constant -> 0."""
    n_const = 0
    for start in range(0, x.shape[1], _ZSCORE_CHUNK):  # chunks of columns, not single voxels
        block = x[:, start : start + _ZSCORE_CHUNK].astype(np.float64)
        block -= block.mean(axis=0)
        std = np.sqrt((block * block).mean(axis=0))
        n_const += int(np.sum(std == 0))
        block /= np.where(std == 0, 1.0, std)
        x[:, start : start + _ZSCORE_CHUNK] = block
    if n_const:
        log.warning(
            "%d voxels are constant over images; they are all zeros after z-scoring", n_const
        )
    return x


def load_masked_responses_kept(
    fmri_files: Mapping[str, Path],
    root: PathLike,
    subject: int,
    roi: str,
    *,
    standardize: bool = True,
    images: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(responses (M, V_roi) float32 of `roi` from the lh then rh files, kept (M,) int64).

    kept: positions, among the selected rows (`images`, or all rows), of the images kept: an
    image with NaN/inf responses is left out, and a vertex NaN/inf for many images is dropped
    (`data.nonfinite`); the caller drops the same images from its image list. Shared by the
    loaders of measured and noise-free responses, so both select identically.
    """
    arrays = {h: open_npy(fmri_files[h], ndim=2, mmap=True) for h in HEMISPHERES}
    n_rows = arrays["lh"].shape[0]
    if arrays["rh"].shape[0] != n_rows:
        raise DataError(
            f"{fmri_files['lh']} has {n_rows} rows but {fmri_files['rh']} has "
            f"{arrays['rh'].shape[0]}: the two hemispheres must cover the same images"
        )
    all_paths = image_paths(root, subject, "train")
    if len(all_paths) != n_rows:
        raise DataError(
            f"subject {subject} has {len(all_paths)} training images but {n_rows} fMRI rows in "
            f"{fmri_files['lh']}: images and responses must match one to one"
        )
    rows = _check_rows(images, n_rows)
    cols = roi_vertices(root, subject, roi, {h: a.shape[1] for h, a in arrays.items()})
    parts = [_take(arrays[h], rows, cols[h]) for h in HEMISPHERES]
    x = np.concatenate(parts, axis=1, dtype=np.float32)
    named = all_paths if rows is None else [all_paths[r] for r in rows]
    kept, vertices = finite_parts(x, named, roi, fmri_files["lh"].parent)
    if kept.size < x.shape[0] or vertices.size < x.shape[1]:
        x = x[np.ix_(kept, vertices)]
    return (zscore_columns(x) if standardize else x), kept


def load_masked_responses(
    fmri_files: Mapping[str, Path],
    root: PathLike,
    subject: int,
    roi: str,
    *,
    standardize: bool = True,
    images: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Responses (N, V_roi) float32 of `roi` for exactly the selected images: DataError when
    some of them would be dropped for NaN/inf (`load_masked_responses_kept` drops them)."""
    x, kept = load_masked_responses_kept(
        fmri_files, root, subject, roi, standardize=standardize, images=images
    )
    n = len(images) if images is not None else len(image_paths(root, subject, "train"))
    if kept.size != n:
        raise DataError(
            f"{n - kept.size} of the {n} selected images of subject {subject} have NaN/inf "
            f"responses in ROI {roi!r}: select other images or fix the data"
        )
    return x


def _fmri_files(root: PathLike, subject: int) -> dict[str, Path]:
    fmri_dir = subject_dir(root, subject) / TRAIN_FMRI_DIR
    return {h: fmri_dir / f"{h}_training_fmri.npy" for h in HEMISPHERES}


def load_responses(
    root: PathLike,
    subject: int,
    roi: str,
    *,
    standardize: bool = True,
    images: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """fMRI responses (N, V_roi) float32 of `roi` (lh then rh vertices), z-scored per voxel.

    `images` optionally selects rows (fMRI row = sorted training image index). Every selected
    image is returned: one with NaN/inf responses is a DataError (`load_responses_kept` leaves
    such images out instead).
    """
    files = _fmri_files(root, subject)
    return load_masked_responses(files, root, subject, roi, standardize=standardize, images=images)


def load_responses_kept(
    root: PathLike,
    subject: int,
    roi: str,
    *,
    standardize: bool = True,
    images: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(responses (M, V_roi), kept (M,) positions among the selected images): images with
    NaN/inf responses left out with a warning naming them (`data.nonfinite`)."""
    files = _fmri_files(root, subject)
    return load_masked_responses_kept(
        files, root, subject, roi, standardize=standardize, images=images
    )


__all__ = [
    "available_rois",
    "image_paths",
    "load_masked_responses",
    "load_masked_responses_kept",
    "load_responses",
    "load_responses_kept",
    "read_mapping",
    "read_mask",
    "roi_vertices",
    "select_images",
    "subject_dir",
    "zscore_columns",
]
