"""Pair distributions over one table of N images (`all`, `extremes`, `balanced`, `colors`).

Pairs are two int32 arrays `i`, `j` with `i < j`, returned in condensed (`pdist`) order.
Image-disjoint splits of the images and of their pairs are in `fmri_rdm.rsa.splits`.
"""

from __future__ import annotations

import logging

import numpy as np

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.rdm import check_metric, condensed_to_pairs, n_items, n_pairs

# The colours a dominant-colour label names (an index into this tuple; -1 none).
COLOR_NAMES: tuple[str, str, str] = ("red", "green", "blue")
# The two colours of the colour-pair experiment unless distribution.colors names others (the
# original student project's red / blue; the config's own default is in
# conf/base/distribution.yaml).
DEFAULT_COLORS: tuple[str, str] = ("red", "blue")

logger = logging.getLogger(__name__)

DISTRIBUTIONS: tuple[str, ...] = ("all", "extremes", "balanced", "colors")

Pairs = tuple[np.ndarray, np.ndarray]  # (i, j), i < j, int32
Seed = int | np.random.Generator

# Square-matrix elements gathered per block in `extremes_pairs` (~32 MB of float32).
_BLOCK_ELEMENTS = 1 << 23


def _check_rdm(rdm: np.ndarray, n_images: int) -> None:
    if n_items(rdm) != n_images:
        raise DataError(f"RDM covers {n_items(rdm)} images but n_images is {n_images}")


def all_pairs(n: int) -> Pairs:
    """Every pair (i, j), i < j, among `n` images in condensed order; two (n(n-1)/2,) int32.

    Built with int32 only (repeat + cumsum), ~8 bytes per pair in total.
    """
    if n < 0:
        raise ConfigError(f"number of images must be >= 0, got {n}")
    if n < 2:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    row_len = np.arange(n - 1, 0, -1)  # pairs per row i: n-1-i
    i = np.repeat(np.arange(n - 1, dtype=np.int32), row_len)
    # j steps by +1 inside a row and jumps back to i+1 at each row start: cumsum of steps.
    j = np.ones(n_pairs(n), dtype=np.int32)
    starts = np.cumsum(row_len[:-1])  # first position of rows 1 .. n-2
    rows = np.arange(1, n - 1, dtype=np.int32)
    j[starts] = rows + 1 - (n - 1)
    np.cumsum(j, out=j)
    return i, j


def _square_rows(
    rdm: np.ndarray, n: int, r0: int, r1: int, base: np.ndarray, idx_dtype: type[np.integer]
) -> np.ndarray:
    """Rows r0..r1-1 of the square matrix as float32 (r1 - r0, n), NaN on the diagonal.

    Column c of row r is condensed(c, r) = base[c] + r left of the diagonal and
    condensed(r, c) = base[r] + c right of it; one gather reads them all.
    """
    r: np.ndarray = np.arange(r0, r1, dtype=idx_dtype)[:, None]
    cols: np.ndarray = np.arange(n, dtype=idx_dtype)[None, :]
    b = base.astype(idx_dtype)  # int32 where possible: half the index traffic
    idx = b[None, :] + r
    np.add(b[r], cols, out=idx, where=cols > r)
    np.clip(idx, 0, rdm.shape[0] - 1, out=idx)  # the diagonal's entry, rewritten below
    out = np.asarray(rdm[idx], dtype=np.float32)
    out[np.arange(r1 - r0), np.arange(r0, r1)] = np.nan  # NaN sorts last and compares False
    return out


def _extremes_codes(rdm: np.ndarray, n: int, k: int) -> np.ndarray:
    """Sorted unique condensed indices of each image's k lowest and k highest partners.

    Requires 2k < n - 1. Per block of square rows: the k-th lowest and k-th highest value of
    each row by two value-only partitions (half the cost of argpartition), the partners at or
    beyond them by comparison, marked in a bitmap over condensed positions (no sort for the
    union). A row whose threshold is tied keeps exactly k per side via argpartition.
    """
    idx_dtype = np.int32 if n_pairs(n) < 2**31 else np.int64
    i_all = np.arange(n, dtype=np.int64)
    base = n * i_all - i_all * (i_all + 1) // 2 - i_all - 1  # condensed(a, b) = base[a] + b
    keep = np.zeros(n_pairs(n), dtype=bool)
    block = max(1, _BLOCK_ELEMENTS // n)
    for r0 in range(0, n, block):
        r1 = min(r0 + block, n)
        sq = _square_rows(rdm, n, r0, r1, base, idx_dtype)
        lo = np.partition(sq, k - 1, axis=1)[:, k - 1 : k]
        hi = np.partition(sq, n - 1 - k, axis=1)[:, n - 1 - k : n - k]
        sel = sq <= lo
        sel |= sq >= hi
        rows, cols = np.divmod(np.flatnonzero(sel), n)  # 1-D nonzero: ~5x faster than 2-D
        tied = np.flatnonzero(np.bincount(rows, minlength=r1 - r0) != 2 * k)
        if tied.size:  # exactly k per side for rows with ties at a threshold
            untied = ~np.isin(rows, tied)
            rows, cols = rows[untied], cols[untied]
            sub = sq[tied]
            low = np.argpartition(sub, k - 1, axis=1)[:, :k]
            sub[np.isnan(sub)] = -np.inf  # the diagonal: now never among the highest
            high = np.argpartition(sub, n - k, axis=1)[:, n - k :]
            extra = np.concatenate([low, high], axis=1)
            rows = np.concatenate([rows, np.repeat(tied, 2 * k)])
            cols = np.concatenate([cols, extra.ravel()])
        r = rows.astype(np.int64) + r0
        c = cols.astype(np.int64)
        keep[np.where(c > r, base[r] + c, base[c] + r)] = True
    return np.flatnonzero(keep)


def extremes_pairs(rdm: np.ndarray, n_images: int, n_per_image: int = 50) -> Pairs:
    """Union of every image's `n_per_image` lowest and highest partners, condensed order.

    rdm: (N(N-1)/2,) condensed, N = n_images. Returns (i, j), each (P,) int32.
    Falls back to all pairs when the two extremes cover every partner. Among tied values the
    choice is arbitrary (but deterministic).
    """
    _check_rdm(rdm, n_images)
    if n_per_image < 1:
        raise ConfigError(f"n_per_image must be >= 1, got {n_per_image}")
    if 2 * n_per_image >= n_images - 1:
        return all_pairs(n_images)
    return condensed_to_pairs(_extremes_codes(rdm, n_images, n_per_image), n_images)


def _mid_mask(
    rdm: np.ndarray, metric: str, mid_band: float, mid_quantiles: tuple[float, float]
) -> tuple[np.ndarray, str]:
    """(L,) bool mask of mid-range dissimilarities and a description of the band."""
    if metric == "correlation":
        if not mid_band > 0:
            raise ConfigError(f"mid_band must be > 0, got {mid_band}")
        return np.abs(rdm - np.float32(1.0)) <= mid_band, f"|d - 1| <= {mid_band}"
    lo, hi = mid_quantiles
    if not 0.0 <= lo < hi <= 1.0:
        raise ConfigError(f"mid_quantiles must satisfy 0 <= low < high <= 1, got {mid_quantiles}")
    q_lo, q_hi = np.quantile(rdm, [lo, hi])
    return (rdm >= q_lo) & (rdm <= q_hi), f"quantiles {lo}..{hi} (d in [{q_lo:.4g}, {q_hi:.4g}])"


def balanced_pairs(
    rdm: np.ndarray,
    n_images: int,
    metric: str,
    n_per_image: int = 50,
    *,
    seed: Seed,
    mid_band: float = 0.1,
    mid_quantiles: tuple[float, float] = (0.45, 0.55),
) -> Pairs:
    """Extremes plus an equally large seeded random sample of mid-range pairs.

    Mid-range: |d - 1| <= mid_band for correlation; between the `mid_quantiles` of the RDM for
    euclidean. Mid pairs already among the extremes are excluded; if fewer remain than needed,
    all of them are taken (logged). rdm: (N(N-1)/2,). Returns (i, j), each (P,) int32.
    """
    check_metric(metric)
    _check_rdm(rdm, n_images)
    if n_per_image < 1:
        raise ConfigError(f"n_per_image must be >= 1, got {n_per_image}")
    if 2 * n_per_image >= n_images - 1:
        return all_pairs(n_images)
    extremes = _extremes_codes(rdm, n_images, n_per_image)
    mid, band = _mid_mask(rdm, metric, mid_band, mid_quantiles)
    mid[extremes] = False
    candidates = np.flatnonzero(mid)
    if candidates.size == 0:
        how = "raise mid_band" if metric == "correlation" else "widen mid_quantiles"
        raise ConfigError(
            f"no mid-range pairs outside the extremes for {metric} band {band}; {how}"
        )
    n_mid = extremes.size
    if candidates.size < n_mid:
        logger.warning(
            "only %d mid-range pairs (%s) for %d extremes; taking all of them",
            candidates.size,
            band,
            n_mid,
        )
        n_mid = candidates.size
    rng = np.random.default_rng(seed)
    sample = rng.choice(candidates, size=n_mid, replace=False)
    codes = np.sort(np.concatenate([extremes, sample]))
    logger.info("balanced pairs: %d extremes + %d mid-range (%s)", extremes.size, n_mid, band)
    return condensed_to_pairs(codes, n_images)


def _color_code(name: str) -> int:
    if name not in COLOR_NAMES:
        raise ConfigError(f"unknown colour {name!r}; valid colours: {', '.join(COLOR_NAMES)}")
    return COLOR_NAMES.index(name)


def color_images(
    labels: np.ndarray, colors: tuple[str, str] = DEFAULT_COLORS, *, seed: Seed
) -> tuple[np.ndarray, np.ndarray]:
    """Images of the two colours, equal counts (larger group randomly down-sampled, seeded).

    labels: (N,) int8, -1 none, else an index into COLOR_NAMES.
    Returns (images_a, images_b): sorted int32 arrays of equal length, for colors[0], colors[1].
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"colour labels must be 1-D (one per image), got shape {labels.shape}")
    if len(colors) != 2 or colors[0] == colors[1]:
        raise ConfigError(f"colors must be two different colour names, got {colors}")
    groups = [np.flatnonzero(labels == _color_code(c)).astype(np.int32) for c in colors]
    counts = [g.size for g in groups]
    if min(counts) < 2:
        raise ConfigError(
            f"need at least 2 images of each colour, found {colors[0]}={counts[0]}, "
            f"{colors[1]}={counts[1]}"
        )
    m = min(counts)
    rng = np.random.default_rng(seed)
    a, b = (np.sort(rng.choice(g, size=m, replace=False)) if g.size > m else g for g in groups)
    return a, b


def color_pairs(
    labels: np.ndarray, colors: tuple[str, str] = DEFAULT_COLORS, *, seed: Seed
) -> Pairs:
    """All pairs among the images of `color_images` (within and across colours), condensed order.

    labels: (N,) int8. Returns (i, j), each (P,) int32 indexing the full image table.
    """
    a, b = color_images(labels, colors, seed=seed)
    images = np.sort(np.concatenate([a, b]))
    li, lj = all_pairs(images.size)
    # `images` is sorted, so mapping local indices keeps i < j and condensed order.
    return images[li], images[lj]


def select_pairs(
    distribution: str,
    rdm: np.ndarray,
    n_images: int,
    *,
    metric: str,
    labels: np.ndarray | None = None,
    n_per_image: int = 50,
    colors: tuple[str, str] = DEFAULT_COLORS,
    mid_band: float = 0.1,
    mid_quantiles: tuple[float, float] = (0.45, 0.55),
    seed: Seed = 0,
) -> Pairs:
    """Pairs of the named distribution: "all", "extremes", "balanced" or "colors"."""
    if distribution not in DISTRIBUTIONS:
        raise ConfigError(
            f"unknown pair distribution {distribution!r}; valid: {', '.join(DISTRIBUTIONS)}"
        )
    check_metric(metric)
    _check_rdm(rdm, n_images)
    if distribution == "all":
        return all_pairs(n_images)
    if distribution == "extremes":
        return extremes_pairs(rdm, n_images, n_per_image)
    if distribution == "balanced":
        return balanced_pairs(
            rdm,
            n_images,
            metric,
            n_per_image,
            seed=seed,
            mid_band=mid_band,
            mid_quantiles=mid_quantiles,
        )
    if labels is None:
        raise ConfigError("distribution 'colors' needs per-image colour labels")
    if len(labels) != n_images:
        raise DataError(f"{len(labels)} colour labels for {n_images} images")
    return color_pairs(labels, colors, seed=seed)
