"""Permutation test of a fold's score against chance (Mantel-style), vectorized over permutations.

Pairs share images, so they are not independent and a per-pair test is invalid. The null
relabels the fold's test images of the TARGET RDM: with a permutation pi of the test images,
target'(a, b) = RDM[pi(a), pi(b)], read from the brain RDM restricted to the test images (all
pairs among them, also when the fold's test pairs are a subset: extremes / balanced), while the
predictions stay where they are. Under H0 (the predictions carry no information about which
image is which) every relabelling is equally likely, so

    p = (1 + #{null >= observed}) / (1 + n_perm)        (one-sided: "better than chance")

The observed statistic goes through the same code as the null (the identity relabelling), so
rounding cannot separate them.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.rsa import rdm as rdm_lib

STATISTICS = ("pearson", "spearman")
_BLOCK_ELEMENTS = 1 << 24  # (permutations x pairs) elements per re-ranked block


def square_rdm_among(rdm: np.ndarray, n_images: int, images: np.ndarray) -> np.ndarray:
    """(n, n) float64 square RDM among the sorted test images (n,), from the condensed RDM over
    all `n_images`; the diagonal is 0 and never read by a pair."""
    images = np.unique(np.asarray(images, dtype=np.int64))
    n = images.size
    a, b = np.triu_indices(n, 1)
    square = np.zeros((n, n))
    values = rdm_lib.rdm_values(rdm, images[a], images[b], n_images)
    square[a, b] = values
    square[b, a] = values
    return square


def _pearson_null(
    square: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray, perms: np.ndarray
) -> np.ndarray:
    """(R,) Pearson r of fixed values x (P,) with square[perm[a], perm[b]] for each perm row.

    One (P,) gather per permutation from a float32 copy of `square` (half the memory traffic;
    centred first so the variance does not cancel); pairs come grouped by their first image, so
    the gather reads about one row at a time. Then three dot products.
    """
    n = square.shape[0]
    iu = np.triu_indices(n, 1)
    flat = (square - square[iu].mean()).astype(np.float32).ravel()
    centred = x - x.mean()
    xc = (centred / max(float(np.linalg.norm(centred)), 1e-300)).astype(np.float32)
    count = len(a)
    out = np.empty(len(perms))
    for r, p in enumerate(perms):
        y = np.take(flat, np.take(p * n, a) + np.take(p, b))
        s1, s2, sxy = float(y.sum(dtype=np.float64)), float(y @ y), float(y @ xc)
        var = s2 - s1 * s1 / count
        out[r] = sxy / np.sqrt(var) if var > 1e-9 * max(s2, 1e-300) else np.nan
    return out


def _spearman_null_general(
    square: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray, perms: np.ndarray
) -> np.ndarray:
    """(R,) Spearman rho when the pairs are a subset: the permuted targets are re-ranked."""
    rx = rankdata(x)
    rx = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean())
    out = np.empty(len(perms))
    step = max(1, _BLOCK_ELEMENTS // max(len(a), 1))
    for s in range(0, len(perms), step):
        block = perms[s : s + step]
        y = square[block[:, a], block[:, b]]  # (r, P)
        ry = rankdata(y, axis=1)
        ry -= ry.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s : s + step] = (ry @ rx) / np.linalg.norm(ry, axis=1)
    return out


def permutation_null(
    square: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    prediction: np.ndarray,
    perms: np.ndarray,
    statistics: tuple[str, ...] = STATISTICS,
) -> dict[str, np.ndarray]:
    """{statistic: (R,)} of the prediction (P,) against the relabelled target in each
    permutation row of `perms` (R, n) (a row of arange(n) gives the observed statistic).

    square: (n, n) target RDM among the test images (`square_rdm_among`); a, b: (P,) pair positions.
    """
    a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
    x = np.asarray(prediction, dtype=np.float64)
    n = square.shape[0]
    out: dict[str, np.ndarray] = {}
    if "pearson" in statistics:
        out["pearson"] = _pearson_null(square, a, b, x, perms)
    if "spearman" in statistics:
        if len(a) == n * (n - 1) // 2:
            # all pairs: relabelling only reorders the target values, so their ranks can be
            # taken once and permuted like the values
            iu = np.triu_indices(n, 1)
            ranks = np.zeros_like(square)
            ranks[iu] = rankdata(square[iu])
            ranks += ranks.T
            out["spearman"] = _pearson_null(ranks, a, b, rankdata(x), perms)
        else:
            out["spearman"] = _spearman_null_general(square, a, b, x, perms)
    return out


def permutations(rng: np.random.Generator, n: int, n_perm: int) -> np.ndarray:
    """(n_perm + 1, n) intp: the identity (observed) first, then n_perm random permutations."""
    rows = [np.arange(n)] + [rng.permutation(n) for _ in range(n_perm)]
    return np.stack(rows).astype(np.intp)


def p_value(observed: float, null: np.ndarray) -> float:
    """(1 + #{null >= observed}) / (1 + len(null)); NaN when the observed value is undefined.
    Undefined null values (a constant relabelled target) count as not exceeding."""
    if not np.isfinite(observed):
        return float("nan")
    null = np.asarray(null, dtype=np.float64)
    exceed = np.count_nonzero(np.isfinite(null) & (null >= observed - 1e-12 * abs(observed)))
    return float((1 + exceed) / (1 + null.size))
