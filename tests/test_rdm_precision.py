"""Numerical edge cases of the RDM routines against scipy in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from fmri_rdm.errors import DataError
from fmri_rdm.rsa.rdm import compute_rdm, condensed_index, pair_distances


def _near_duplicates(n: int = 60, v: int = 300, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Rows around the origin plus pairs of near-duplicate rows far from the mean (the case
    where |a|² + |b|² − 2a·b cancels: a true distance of ~1e-2 next to norms of ~1e3)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, v))
    far = 60.0 * rng.standard_normal((4, v))
    x[:4] = far
    x[4:8] = far + rng.choice([1e-4, 1e-3, 1e-2], size=(4, 1)) * rng.standard_normal((4, v))
    x[8] = x[9] + 1e-3  # a near-duplicate of an ordinary row
    return x.astype(dtype)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_euclidean_near_duplicates_far_from_the_mean(dtype):
    x = _near_duplicates(dtype=dtype)
    ref = pdist(x.astype(np.float64), "euclidean")
    assert _rel(compute_rdm(x, "euclidean").astype(np.float64), ref) < 1e-4
    # small blocks: several candidates' blocks, the refinement on every one of them
    assert _rel(compute_rdm(x, "euclidean", block_rows=7).astype(np.float64), ref) < 1e-4


@pytest.mark.parametrize("n_pairs", [5, 1000])  # gathered path and dense (GEMM) path
def test_pair_distances_near_duplicates_on_both_paths(n_pairs):
    x = _near_duplicates()
    n = len(x)
    i, j = np.triu_indices(n, 1)
    keep = np.r_[np.flatnonzero((i < 8) & (j == i + 4)), np.arange(n_pairs)][:n_pairs]
    keep = np.unique(keep)
    ref = pdist(x.astype(np.float64), "euclidean")[condensed_index(i[keep], j[keep], n)]
    got = pair_distances(x, i[keep], j[keep], "euclidean").astype(np.float64)
    assert _rel(got, ref) < 1e-4
    assert _rel(got[:4], ref[:4]) < 1e-4  # the four far near-duplicate pairs are there


@pytest.mark.parametrize("n_pairs", [2, 1000])
def test_a_constant_row_no_pair_touches_is_no_error_on_either_path(n_pairs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((60, 20)).astype(np.float32)
    x[59] = 1.5  # constant: its correlation distance is undefined
    i, j = np.triu_indices(59, 1)  # no pair touches row 59
    i, j = i[:n_pairs], j[:n_pairs]
    ref = pdist(x[:59].astype(np.float64), "correlation")[condensed_index(i, j, 59)]
    np.testing.assert_allclose(pair_distances(x, i, j, "correlation"), ref, atol=1e-5)


@pytest.mark.parametrize("n_pairs", [2, 1000])
@pytest.mark.parametrize("bad", ["constant", "nan"])
def test_a_touched_bad_row_raises_on_either_path(n_pairs, bad):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((60, 20)).astype(np.float32)
    x[0] = 1.5 if bad == "constant" else np.nan
    i, j = np.triu_indices(60, 1)
    i, j = i[:n_pairs], j[:n_pairs]  # the first pairs all touch row 0
    with pytest.raises(DataError, match="zero variance" if bad == "constant" else "NaN"):
        pair_distances(x, i, j, "correlation")
