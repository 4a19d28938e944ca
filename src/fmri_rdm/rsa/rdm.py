"""Representational dissimilarity matrices (RDMs) in condensed form.

An RDM over N items is stored as a condensed float32 vector of length N(N-1)/2 in
`scipy.spatial.distance.pdist` order: (0,1), (0,2), ..., (0,N-1), (1,2), ...
The condensed index of (i, j), i < j, is `N*i - i*(i+1)//2 + (j - i - 1)`.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.cancellation import PAIR_ELEMENTS, exact_squared, refine_close_pairs

logger = logging.getLogger(__name__)

METRICS: tuple[str, ...] = ("correlation", "euclidean")
# metrics of a measured RDM computed from trial-level data (rsa.distances; data/trial_rdm.py)
TRIAL_METRICS: tuple[str, ...] = ("mahalanobis", "crossnobis", "poisson_cv")
MEASURED_METRICS: tuple[str, ...] = METRICS + TRIAL_METRICS

# Elements per (rows x columns) block product: ~64 MB of float32, small next to a subject's
# responses (~1.6 GB) while keeping the GEMM large enough to run near peak speed.
_BLOCK_ELEMENTS = 1 << 24


def check_metric(metric: str) -> str:
    """Return `metric` if it is a measured RDM's metric, else ConfigError listing them."""
    if metric not in MEASURED_METRICS:
        raise ConfigError(
            f"unknown RDM metric {metric!r}; valid metrics: {', '.join(MEASURED_METRICS)}"
        )
    return metric


def feature_metric(metric: str) -> str:
    """The metric models use between two feature vectors (embeddings, predicted responses,
    network outputs) when the measured RDM has `metric`: itself for correlation / euclidean;
    euclidean for the trial metrics (mahalanobis, crossnobis, poisson_cv estimate squared
    distances between patterns: a model's distance only has to rank and scale like them)."""
    return "correlation" if check_metric(metric) == "correlation" else "euclidean"


def n_pairs(n: int) -> int:
    """Number of unordered pairs among `n` items, i.e. the condensed RDM length."""
    return n * (n - 1) // 2


def n_items(rdm: np.ndarray) -> int:
    """Number of items N of a condensed RDM of length N(N-1)/2.

    rdm: (L,) condensed vector. Raises DataError if it is not 1-D or L is not triangular.
    """
    if rdm.ndim != 1:
        raise DataError(f"a condensed RDM must be 1-D, got shape {rdm.shape}")
    length = rdm.shape[0]
    n = (1 + math.isqrt(1 + 8 * length)) // 2
    if n_pairs(n) != length:
        raise DataError(f"RDM length {length} is not N(N-1)/2 for any N (not a condensed RDM)")
    return n


def condensed_index(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Condensed (pdist-order) positions of pairs (i, j), i < j, among `n` items.

    i, j: (P,) integer arrays. Returns (P,) int64. Raises DataError on invalid pairs
    (one compiled pass, `rsa/pair_index.py`).
    """
    from fmri_rdm.rsa.pair_index import condensed_positions  # numba: loaded when first used

    return condensed_positions(i, j, n)


def condensed_to_pairs(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of `condensed_index`: the pairs (i, j) at condensed positions `k`.

    k: (P,) integer array with 0 <= k < n(n-1)/2. Returns (i, j), each (P,) int32.
    """
    k64 = np.asarray(k, dtype=np.int64)
    if k64.size and (k64.min() < 0 or k64.max() >= n_pairs(n)):
        raise DataError(f"condensed indices must lie in [0, {n_pairs(n)})")
    # Row i is the largest i with start(i) <= k, start(i) = n*i - i*(i+1)/2; solve the
    # quadratic in float64, then fix the rare off-by-one from rounding.
    disc = (2 * n - 1) ** 2 - 8 * k64.astype(np.float64)
    i = np.floor(((2 * n - 1) - np.sqrt(disc)) / 2).astype(np.int64)
    np.clip(i, 0, max(n - 2, 0), out=i)
    start = n * i - i * (i + 1) // 2
    i -= start > k64
    start = n * i - i * (i + 1) // 2
    nxt = start + (n - 1 - i)
    i += nxt <= k64
    start = n * i - i * (i + 1) // 2
    j = k64 - start + i + 1
    return i.astype(np.int32), j.astype(np.int32)


def rdm_values(rdm: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Dissimilarities of pairs (i, j), i < j, from a condensed RDM over `n` items.

    rdm: (n(n-1)/2,) ; i, j: (P,). Returns (P,) float32.
    """
    if rdm.shape != (n_pairs(n),):
        raise DataError(f"RDM has shape {rdm.shape}, expected ({n_pairs(n)},) for {n} items")
    from fmri_rdm.rsa.pair_index import condensed_values

    return np.asarray(condensed_values(rdm, i, j, n), dtype=np.float32)


def square_rdm(rdm: np.ndarray, subset: np.ndarray | None = None) -> np.ndarray:
    """Square (k, k) float32 matrix of a condensed RDM, zero diagonal, for plots.

    rdm: (N(N-1)/2,) condensed. subset: (k,) item indices in the order wanted (default all N;
    prefer a subset for large N, the full matrix needs N^2 floats).
    """
    n = n_items(rdm)
    items = np.arange(n) if subset is None else np.asarray(subset, dtype=np.int64)
    if items.ndim != 1 or (items.size and (items.min() < 0 or items.max() >= n)):
        raise DataError(f"subset must be a 1-D array of item indices in [0, {n})")
    k = items.shape[0]
    a, b = np.triu_indices(k, 1)
    lo = np.minimum(items[a], items[b])
    hi = np.maximum(items[a], items[b])
    out = np.zeros((k, k), dtype=np.float32)
    distinct = lo != hi  # a repeated item is at distance 0 from itself
    vals = np.zeros(a.shape[0], dtype=np.float32)
    vals[distinct] = rdm[condensed_index(lo[distinct], hi[distinct], n)]
    out[a, b] = vals
    out[b, a] = vals
    return out


def binarize_rdm(rdm: np.ndarray, metric: str) -> np.ndarray:
    """Binary "dissimilar" labels: d > 1 for correlation (r < 0), d > median for the others
    (crossnobis values can be negative: the median, not 0, splits them in halves).

    rdm: (L,) condensed. Returns (L,) bool.
    """
    check_metric(metric)
    if metric == "correlation":
        return np.asarray(rdm > 1.0)
    return np.asarray(rdm > np.median(rdm))


def _prepare_rows(responses: np.ndarray, metric: str, block_rows: int) -> np.ndarray:
    """float32 copy of the rows, ready for dot products (built in row blocks, no float64 copy).

    correlation: rows centred and scaled to unit norm, so Z @ Z.T is Pearson r.
    euclidean: columns centred (distances unchanged, less float32 cancellation in the
    |a|^2 + |b|^2 - 2ab expansion).
    Returns (N, V) float32.
    """
    n, _ = responses.shape
    z = np.empty(responses.shape, dtype=np.float32)
    col_mean: np.ndarray = np.zeros(0)
    if metric == "euclidean":
        col_mean = np.asarray(np.mean(responses, axis=0, dtype=np.float64))
    n_constant = 0
    n_nonfinite = 0
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        raw = np.asarray(responses[start:stop])
        block = raw if metric == "euclidean" else np.asarray(raw, dtype=np.float32)
        finite = np.isfinite(block).all(axis=1)
        n_nonfinite += int((~finite).sum())
        if metric == "correlation":
            # Constancy tested on the raw values: centring in float32 leaves rounding noise.
            constant = (block == block[:, :1]).all(axis=1)
            n_constant += int((constant & finite).sum())
            out = z[start:stop]
            np.subtract(block, block.mean(axis=1, dtype=np.float64)[:, None], out=out)
            norm = np.sqrt(np.einsum("ij,ij->i", out, out, dtype=np.float64))
            out /= np.where(norm > 0, norm, 1.0).astype(np.float32)[:, None]
        else:  # centred before the cast: a float64 input keeps its precision
            np.subtract(block, col_mean.astype(block.dtype), out=z[start:stop], casting="unsafe")
    if n_nonfinite:
        raise DataError(f"{n_nonfinite} of {n} response rows contain NaN or inf values")
    if n_constant:
        raise DataError(
            f"{n_constant} of {n} response rows have zero variance; "
            "their correlation distance is undefined (use metric='euclidean' or drop them)"
        )
    return z


def _default_block_rows(n: int) -> int:
    # At least ~8 blocks, so that the wasted lower-left part of each diagonal block product is
    # ~1/16 of the work (one block would compute the full square, twice the pairs' flops), but
    # at least 256 rows per GEMM, and at most _BLOCK_ELEMENTS products per block.
    rows = max(256, -(-n // 8))
    return max(1, min(n, rows, _BLOCK_ELEMENTS // max(n, 1)))


def compute_rdm(
    responses: np.ndarray, metric: str = "correlation", *, block_rows: int | None = None
) -> np.ndarray:
    """Condensed RDM between the rows of `responses`, in `pdist` order.

    responses: (N, V) float32 or float64. metric: "correlation" (1 - Pearson r) or
    "euclidean" (a trial metric means its `feature_metric`, euclidean). block_rows: rows per
    block product (default: about N/8, 256 to ~16 M/N).
    Returns (N(N-1)/2,) float32.

    Memory: one float32 (N, V) working copy plus the output plus one (block_rows, N) block.
    A block of rows is multiplied by the rows from its first one on (a float32 GEMM that skips
    most of the lower triangle); in condensed order row r's pairs with later rows are one
    contiguous run, so each row's run is written straight into the output, transformed on the
    way (1 - r, or the distance), while it is in cache.
    """
    metric = feature_metric(metric)
    responses = np.asarray(responses)
    if responses.ndim != 2:
        raise DataError(f"responses must be 2-D (images x units), got shape {responses.shape}")
    n, v = responses.shape
    if n < 2 or v < 1:
        raise DataError(f"responses need at least 2 rows and 1 column, got shape {(n, v)}")
    if not np.issubdtype(responses.dtype, np.number) or np.iscomplexobj(responses):
        raise DataError(f"responses must be real numbers, got dtype {responses.dtype}")
    if block_rows is None:
        block_rows = _default_block_rows(n)
    if block_rows < 1:
        raise ConfigError(f"block_rows must be >= 1, got {block_rows}")

    z = _prepare_rows(responses, metric, block_rows)
    sq_norm = np.einsum("ij,ij->i", z, z) if metric == "euclidean" else None
    out = np.empty(n_pairs(n), dtype=np.float32)
    offset = 0
    for start in range(0, n - 1, block_rows):
        stop = min(start + block_rows, n - 1)
        prod = z[start:stop] @ z[start:].T  # (b, N - start) float32 GEMM
        block_start = offset
        for r in range(stop - start):  # rows, not pairs: each step moves a whole run
            seg = out[offset : offset + n - 1 - (start + r)]
            row = prod[r, r + 1 :]
            if sq_norm is None:
                np.subtract(1.0, row, out=seg)
            else:  # d^2 = |a|^2 + |b|^2 - 2 a.b
                np.multiply(row, -2.0, out=seg)
                seg += sq_norm[start + r + 1 :]
                seg += sq_norm[start + r]
            offset += seg.shape[0]
        done = out[block_start:offset]
        if sq_norm is None:
            # |r| can exceed 1 by rounding; keep d within its mathematical range [0, 2].
            np.clip(done, 0.0, 2.0, out=done)
        else:
            refine_close_pairs(done, n, responses, sq_norm, start, stop)
            np.maximum(done, 0.0, out=done)  # tiny negatives from cancellation
            np.sqrt(done, out=done)
    logger.debug("computed %s RDM over %d items x %d features", metric, n, v)
    return out


def pair_distances(
    features: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str = "correlation"
) -> np.ndarray:
    """Dissimilarity of the rows i and j of `features`, the brain RDM's own metric.

    features: (N, F) per-image vectors (embeddings, predicted responses, reweighted features).
    i, j: (P,) pair indices, i < j. Returns (P,) float32, equal to
    `rdm_values(compute_rdm(features, metric), i, j, N)`.

    When the pairs cover a good part of all pairs among the images they touch, the RDM of those
    images is computed with GEMMs and indexed; for a few pairs among many images the pairs are
    gathered in chunks instead, so the cost follows P rather than N².
    """
    metric = feature_metric(metric)
    features = np.asarray(features)
    n = len(features)
    from fmri_rdm.rsa.pair_index import check_pairs

    i, j = np.asarray(i), np.asarray(j)
    check_pairs(i, j, n)
    if len(i) == 0:
        return np.zeros(0, np.float32)
    # the images the pairs touch, sorted, and each one's position among them (a count and a
    # lookup table: the pairs of a fold are tens of millions, the images thousands)
    touched = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    used = np.flatnonzero(touched)
    position = np.zeros(n, dtype=np.int64)
    position[used] = np.arange(used.size)
    pi, pj = position[i], position[j]  # keep i < j: `used` is sorted
    if len(i) * 8 >= n_pairs(len(used)):
        return rdm_values(compute_rdm(features[used], metric), pi, pj, len(used))
    # only the rows the pairs touch are checked and prepared, as in the dense path (a constant
    # or non-finite row that no pair touches is no error in either)
    rows = features[used]
    z = _prepare_rows(rows, metric, _default_block_rows(len(rows)))
    out = np.empty(len(i), np.float64)
    if metric == "euclidean":
        exact_squared(rows, pi, pj, out=out)
        return np.sqrt(out).astype(np.float32)
    chunk = max(1, PAIR_ELEMENTS // max(z.shape[1], 1))
    for s in range(0, len(i), chunk):
        a, b = z[pi[s : s + chunk]], z[pj[s : s + chunk]]
        out[s : s + len(a)] = 1.0 - np.einsum("ij,ij->i", a, b)
    return np.clip(out, 0.0, 2.0).astype(np.float32)
