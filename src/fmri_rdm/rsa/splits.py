"""Image-disjoint splits: train/test images, K folds over images, and the pairs of each side.

Splits are over *images*: a test pair has both images outside the training images, and pairs
with one image on each side are dropped, so nothing about a test image is seen in training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.pairs import Seed

logger = logging.getLogger(__name__)

ImageSplit = tuple[np.ndarray, np.ndarray]  # (train_images, test_images), sorted int32


def _split_count(n_images: int, test_size: float | int) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, int | float | np.number):
        raise ConfigError(f"test_size must be a fraction or a count, got {test_size!r}")
    if isinstance(test_size, float | np.floating):
        if not 0.0 < test_size < 1.0:
            raise ConfigError(f"a fractional test_size must be in (0, 1), got {test_size}")
        return round(float(test_size) * n_images)
    return int(test_size)


def image_disjoint_split(n_images: int, test_size: float | int, *, seed: Seed) -> ImageSplit:
    """Random split of the images: (train_images, test_images), sorted int32, disjoint.

    test_size: a float is the test fraction, an int the number of test images.
    Both sides must hold at least 2 images (a pair needs two).
    """
    n_test = _split_count(n_images, test_size)
    if n_test < 2 or n_images - n_test < 2:
        raise ConfigError(
            f"test_size={test_size} gives {n_test} test and {n_images - n_test} train images "
            f"of {n_images}; each side needs at least 2"
        )
    perm = np.random.default_rng(seed).permutation(n_images).astype(np.int32)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def image_disjoint_folds(n_images: int, k: int, *, seed: Seed) -> list[ImageSplit]:
    """K folds over images: [(train_images, test_images)] * k, sorted int32.

    Every image is in exactly one test fold; fold sizes differ by at most one.
    """
    if k < 2 or k > n_images:
        raise ConfigError(f"number of folds must be in [2, n_images={n_images}], got {k}")
    if n_images < 2 * k:
        logger.warning("%d folds over %d images: some test folds hold no pair", k, n_images)
    perm = np.random.default_rng(seed).permutation(n_images).astype(np.int32)
    parts = np.array_split(perm, k)
    return [
        (np.sort(np.concatenate(parts[:f] + parts[f + 1 :])), np.sort(parts[f])) for f in range(k)
    ]


# Pairs per chunk when looking up both images of a pair: numpy casts int32 indices to intp
# for `take`, and a whole-array cast of 48 M pairs costs a fresh 384 MB temporary per call.
_PAIR_CHUNK = 1 << 18


def _side_table(n_images: int, groups: list[np.ndarray]) -> np.ndarray:
    """(n_images,) uint8 lookup table with bit g set for the images of groups[g]."""
    table = np.zeros(n_images, dtype=np.uint8)
    for bit, images in enumerate(groups):
        images = np.asarray(images)
        if images.size and (images.min() < 0 or images.max() >= n_images):
            raise DataError(f"image indices must lie in [0, {n_images})")
        table[images] |= np.uint8(1 << bit)
    return table


def _pair_sides(i: np.ndarray, j: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(P,) uint8: table[i] & table[j], i.e. the groups holding both images of each pair."""
    i = np.asarray(i)
    j = np.asarray(j)
    if i.shape != j.shape or i.ndim != 1:
        raise DataError(f"pair index arrays must be 1-D of equal shape, got {i.shape}, {j.shape}")
    if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= table.size):
        raise DataError(f"pair indices must lie in [0, {table.size})")
    out = np.empty(i.size, dtype=np.uint8)
    for s in range(0, i.size, _PAIR_CHUNK):
        chunk = slice(s, s + _PAIR_CHUNK)
        np.bitwise_and(table.take(i[chunk]), table.take(j[chunk]), out=out[chunk])
    return out


def pairs_within(i: np.ndarray, j: np.ndarray, images: np.ndarray, n_images: int) -> np.ndarray:
    """(P,) bool mask of pairs whose both images are in `images`.

    i, j: (P,) int pair arrays with values in [0, n_images); images: (M,) image indices.
    """
    return _pair_sides(i, j, _side_table(n_images, [images])) == 1


def split_pairs(
    i: np.ndarray,
    j: np.ndarray,
    train_images: np.ndarray,
    test_images: np.ndarray,
    n_images: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(train_mask, test_mask), each (P,) bool; cross pairs (one image per side) are in neither.

    Raises DataError if the two image sets overlap.
    """
    table = _side_table(n_images, [train_images, test_images])
    n_both = int(np.count_nonzero(table == 3))
    if n_both:
        raise DataError(f"{n_both} images are in both train and test")
    sides = _pair_sides(i, j, table)
    return sides == 1, sides == 2


@dataclass(frozen=True)
class PairSplit:
    """Pairs (i[k], j[k]) with i < j, and their targets y[k] (float32, or bool for the SVM)."""

    i: np.ndarray
    j: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        shapes = {np.shape(self.i), np.shape(self.j), np.shape(self.y)}
        if len(shapes) != 1 or len(np.shape(self.i)) != 1:
            raise ConfigError(
                f"PairSplit needs 1-D i, j, y of one length, got shapes "
                f"{np.shape(self.i)}, {np.shape(self.j)}, {np.shape(self.y)}"
            )
        if len(self.i) and np.any(np.asarray(self.i) >= np.asarray(self.j)):
            raise ConfigError("PairSplit needs i < j for every pair (scipy condensed order)")

    def __len__(self) -> int:
        return len(self.i)

    def take(self, selection: np.ndarray) -> PairSplit:
        """The pairs a (P,) bool mask or an index array selects."""
        selection = np.asarray(selection)
        if selection.dtype == bool:  # one scan of the mask for the three arrays, not three
            if selection.shape != np.shape(self.i):
                raise ConfigError(f"mask of shape {selection.shape} for {len(self)} pairs")
            selection = np.flatnonzero(selection)
        return PairSplit(self.i[selection], self.j[selection], self.y[selection])

    @classmethod
    def empty(cls, like: PairSplit) -> PairSplit:
        """No pairs, with `like`'s dtypes."""
        return like.take(np.zeros(0, dtype=np.int64))
