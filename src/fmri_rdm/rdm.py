"""Stable public path of the RDM routines (outside code calls `fmri_rdm.rdm.compute_rdm`);
they live in `fmri_rdm.rsa.rdm`, the RSA core."""

from fmri_rdm.rsa.rdm import (
    METRICS,
    binarize_rdm,
    check_metric,
    compute_rdm,
    condensed_index,
    condensed_to_pairs,
    n_items,
    n_pairs,
    pair_distances,
    rdm_values,
    square_rdm,
)

__all__ = [
    "METRICS",
    "binarize_rdm",
    "check_metric",
    "compute_rdm",
    "condensed_index",
    "condensed_to_pairs",
    "n_items",
    "n_pairs",
    "pair_distances",
    "rdm_values",
    "square_rdm",
]
