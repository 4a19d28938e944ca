"""Stable public path of the pair distributions and splits (outside code calls
`fmri_rdm.pairs.select_pairs`, `image_disjoint_split`, ...); they live in `fmri_rdm.rsa`."""

from fmri_rdm.rsa.pairs import (
    DISTRIBUTIONS,
    all_pairs,
    balanced_pairs,
    color_images,
    color_pairs,
    extremes_pairs,
    select_pairs,
)
from fmri_rdm.rsa.splits import image_disjoint_folds, image_disjoint_split, split_pairs

__all__ = [
    "DISTRIBUTIONS",
    "all_pairs",
    "balanced_pairs",
    "color_images",
    "color_pairs",
    "extremes_pairs",
    "image_disjoint_folds",
    "image_disjoint_split",
    "select_pairs",
    "split_pairs",
]
