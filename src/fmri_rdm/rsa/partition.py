"""Cross-validated variance partitioning of a brain RDM among 2-4 candidate RDMs.

Every non-empty subset of the candidates is fitted by least squares (with an intercept) on a
fold's fit pairs and scored by R² on its test pairs (folds are image-disjoint: a test pair has
both images in the fold's test images, a fit pair none). With R²(U) for each subset U and
f(T) = R²(all) - R²(all minus T), the variance explained by exactly the candidates in S
(commonality analysis) is c(S) = sum over non-empty T within S of (-1)^(|S|-|T|) f(T): for S of
one candidate its unique variance, for larger S the variance those candidates share and no
other candidate explains. The components add up to R²(all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.weighting import block_grams, least_squares, r_squared

MAX_CANDIDATES = 4


def image_parts(folds: Sequence[tuple[np.ndarray, np.ndarray]], n_images: int) -> np.ndarray:
    """(n_images,) int: the fold whose test set holds each image, -1 for none.

    folds: [(train_images, test_images)]; test sets must be disjoint and each fold's training
    images must be exactly the images outside its test set that some fold tests or that no
    fold tests (a K-fold partition, or one split).
    """
    parts = np.full(n_images, -1, dtype=np.int64)
    for f, (_, test) in enumerate(folds):
        test = np.asarray(test)
        if np.any(parts[test] >= 0):
            raise DataError("variance partitioning needs folds with disjoint test images")
        parts[test] = f
    for f, (train, test) in enumerate(folds):
        expected = np.setdiff1d(np.arange(n_images), test)
        if not np.array_equal(np.sort(np.asarray(train)), expected):
            raise DataError(f"fold {f}: its training images are not all the other images")
    return parts


def subset_names(names: Sequence[str], mask: int) -> list[str]:
    """The candidate names whose bit is set in `mask`."""
    return [n for k, n in enumerate(names) if mask >> k & 1]


def components(r2: Mapping[int, float], k: int) -> dict[int, float]:
    """{subset mask: variance explained by exactly that subset} from {subset mask: R²}.

    r2 holds every non-empty subset of k candidates (bit b = candidate b).
    """
    full = (1 << k) - 1

    def explained_only_by(t: int) -> float:  # f(T) = R²(all) - R²(all minus T)
        rest = full & ~t
        return r2[full] - (r2[rest] if rest else 0.0)

    out = {}
    for s in range(1, full + 1):
        total = 0.0
        t = s
        while t:  # every non-empty t within s
            total += (-1) ** (bin(s).count("1") - bin(t).count("1")) * explained_only_by(t)
            t = (t - 1) & s
        out[s] = total
    return out


def _fold_grams(
    grams: np.ndarray, n_folds: int, f: int, has_rest: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, test) Gram of fold f from the per-part-pair blocks (parts 0..F-1, F = untested)."""
    n_parts = n_folds + int(has_rest)
    fit = sum(
        grams[a * n_parts + b] for a in range(n_parts) for b in range(a, n_parts) if f not in (a, b)
    )
    return np.asarray(fit), grams[f * n_parts + f]


def partition_variance(
    candidates: Mapping[str, np.ndarray],
    y: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    n_images: int,
) -> dict:
    """Unique and shared variance of y (P,) explained by 2-4 candidate RDMs (name -> (P,)).

    i, j: (P,) image indices of the pairs; folds: image-disjoint [(train, test)] over n_images.
    Returns {"candidates", "folds": [{"r2": {...}, "components": {...}}], "mean": {...}} where a
    component key is "unique:A" or "shared:A+B" and "total" is R² of all candidates together.
    """
    names = list(candidates)
    k = len(names)
    if not 2 <= k <= MAX_CANDIDATES:
        raise ConfigError(f"variance partitioning takes 2 to {MAX_CANDIDATES} candidates, got {k}")
    parts = image_parts(folds, n_images)
    has_rest = bool(np.any(parts < 0))
    n_parts = len(folds) + int(has_rest)
    part = np.where(parts < 0, len(folds), parts).astype(np.int16)  # 2 bytes a pair below
    pi = part.take(np.asarray(i))
    pj = part.take(np.asarray(j))
    block = np.minimum(pi, pj) * np.int16(n_parts) + np.maximum(pi, pj)
    del pi, pj
    grams = block_grams(list(candidates.values()), y, block, n_parts * n_parts)
    per_fold = []
    for f in range(len(folds)):
        fit, test = _fold_grams(grams, len(folds), f, has_rest)
        r2 = {}
        for mask in range(1, 1 << k):
            subset = [b for b in range(k) if mask >> b & 1]
            b0, w = least_squares(fit, subset)
            r2[mask] = r_squared(test, b0, w, subset)
        per_fold.append(
            {
                "r2": _named(r2, names, component=False, total=r2[(1 << k) - 1]),
                "components": _named(
                    components(r2, k), names, component=True, total=r2[(1 << k) - 1]
                ),
            }
        )
    return {"candidates": names, "folds": per_fold, "mean": _mean_over(per_fold)}


def _label(names: Sequence[str], mask: int, component: bool) -> str:
    chosen = subset_names(names, mask)
    if not component:
        return "+".join(chosen)
    return f"unique:{chosen[0]}" if len(chosen) == 1 else "shared:" + "+".join(chosen)


def _named(
    values: Mapping[int, float], names: Sequence[str], *, component: bool, total: float
) -> dict[str, float | None]:
    """{label: value} in subset order, then the full set's R² as "total"; NaN -> None.

    Labels are "unique:A" / "shared:A+B" for components, "A" / "A+B" for subsets' R²."""
    out: dict[str, float | None] = {}
    for size in range(1, len(names) + 1):
        for chosen in combinations(range(len(names)), size):
            mask = sum(1 << b for b in chosen)
            v = values[mask]
            out[_label(names, mask, component)] = None if not np.isfinite(v) else float(v)
    out["total"] = float(total) if np.isfinite(total) else None
    return out


def _mean_over(per_fold: Sequence[Mapping[str, Mapping[str, float | None]]]) -> dict:
    """Mean over folds of each component (folds with undefined values left out)."""
    keys = list(per_fold[0]["components"])
    out: dict[str, float | None] = {}
    for key in keys:
        vals = [v for f in per_fold if (v := f["components"][key]) is not None]
        out[key] = float(np.mean(vals)) if vals else None
    return out
