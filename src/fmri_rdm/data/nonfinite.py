"""What to do with NaN / inf fMRI responses: drop broken vertices, or the few broken images.

Two kinds of damage look alike in the (images x vertices) array and need opposite fixes:
- a vertex that is non-finite for many images (outside the brain mask, a dead channel): the
  vertex is dropped;
- an image whose row (or part of it) is non-finite (a failed trial, a bad export): dropping the
  vertices would throw away a whole hemisphere of the ROI for one image, so the image is
  dropped instead, and the caller must drop the same rows of its image list and embeddings.

Thresholds: a vertex goes when it is non-finite for more than VERTEX_SHARE of the images
(5 %); the images still holding a non-finite value after that go when they are at most
IMAGE_SHARE of the images (5 %); beyond that the data is too damaged to guess, and loading
stops with one line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fmri_rdm.errors import DataError

log = logging.getLogger(__name__)

VERTEX_SHARE = 0.05  # vertices non-finite for more than this share of images are dropped
IMAGE_SHARE = 0.05  # at most this share of images may be dropped for non-finite values
_NAMED = 8  # images named in a message


def _names(paths: Sequence[Path | str], rows: np.ndarray) -> str:
    shown = ", ".join(Path(paths[r]).name for r in rows[:_NAMED])
    return shown + (f" and {len(rows) - _NAMED} more" if len(rows) > _NAMED else "")


def finite_parts(
    x: np.ndarray, paths: Sequence[Path | str], roi: str, source: Path | str
) -> tuple[np.ndarray, np.ndarray]:
    """(kept rows (M,) int64, kept vertices (V',) int64) of x (N, V) after the rules above.

    paths: (N,) the images of x's rows (named in the warning). Raises DataError when every
    vertex is broken or more than IMAGE_SHARE of the images would have to go.
    """
    n, v = x.shape
    bad = ~np.isfinite(x)
    if not bad.any():
        return np.arange(n), np.arange(v)
    vertex_share = bad.mean(axis=0)
    vertices = np.flatnonzero(vertex_share <= VERTEX_SHARE)
    if vertices.size == 0:
        raise DataError(f"every vertex of ROI {roi!r} holds NaN/inf in {source}")
    if vertices.size < v:
        log.warning(
            "dropping %d of %d vertices of ROI %s: NaN/inf for more than %.0f%% of the images",
            v - vertices.size,
            v,
            roi,
            100 * VERTEX_SHARE,
        )
    broken = np.flatnonzero(bad[:, vertices].any(axis=1))
    if broken.size > IMAGE_SHARE * n:
        raise DataError(
            f"{broken.size} of {n} images have NaN/inf responses in ROI {roi!r} ({source}; "
            f"e.g. {_names(paths, broken)}): more than {IMAGE_SHARE:.0%}, fix or re-export the data"
        )
    if broken.size:
        log.warning(
            "dropping %d of %d images with NaN/inf responses in ROI %s (their images and "
            "embeddings are left out too): %s",
            broken.size,
            n,
            roi,
            _names(paths, broken),
        )
    return np.setdiff1d(np.arange(n), broken), vertices
