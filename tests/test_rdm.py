"""Tests for fmri_rdm.rsa.rdm against scipy and rsatoolbox references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.rdm import (
    binarize_rdm,
    compute_rdm,
    condensed_index,
    condensed_to_pairs,
    n_items,
    rdm_values,
    square_rdm,
)


def _responses(n: int = 13, v: int = 29, seed: int = 0, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, v)) + offset).astype(np.float32)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_scipy_pdist(metric: str, dtype: type[np.floating]) -> None:
    x = _responses(offset=3.0).astype(dtype)
    got = compute_rdm(x, metric)
    want = pdist(x.astype(np.float64), metric)
    assert got.dtype == np.float32
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5)


def test_correlation_of_nearly_identical_rows_is_small_and_non_negative() -> None:
    x = _responses(n=4, v=50)
    x[1] = 2 * x[0] + 5  # r = 1 exactly
    x[2] = -x[0]  # r = -1 exactly
    d = compute_rdm(x)
    assert d.min() >= 0 and d.max() <= 2
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    assert d[1] == pytest.approx(2.0, abs=1e-6)


def test_euclidean_identical_rows_give_zero_not_nan() -> None:
    x = _responses(n=3, v=40, offset=100.0)
    x[1] = x[0]
    d = compute_rdm(x, "euclidean")
    assert np.all(np.isfinite(d))
    assert d[0] == pytest.approx(0.0, abs=1e-2)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_matches_rsatoolbox(metric: str) -> None:
    rsa_data = pytest.importorskip("rsatoolbox.data")
    rsa_rdm = pytest.importorskip("rsatoolbox.rdm")
    x = _responses(n=11, v=23).astype(np.float64)
    want = rsa_rdm.calc_rdm(rsa_data.Dataset(x), method=metric).dissimilarities[0]
    got = compute_rdm(x, metric).astype(np.float64)
    if metric == "euclidean":
        # rsatoolbox's 'euclidean' is the squared distance divided by the number of channels.
        got = got**2 / x.shape[1]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_block_size_invariance(metric: str) -> None:
    x = _responses(n=10, v=17, seed=3)
    ref = compute_rdm(x, metric, block_rows=10)
    for block_rows in (1, 3, 9, 100):
        np.testing.assert_allclose(compute_rdm(x, metric, block_rows=block_rows), ref, atol=1e-6)


def test_two_rows() -> None:
    x = _responses(n=2, v=5)
    np.testing.assert_allclose(compute_rdm(x), pdist(x, "correlation"), atol=1e-6)


def test_unknown_metric_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="correlation, euclidean"):
        compute_rdm(_responses(), "cosine")
    with pytest.raises(ConfigError, match="valid metrics"):
        binarize_rdm(np.zeros(3, np.float32), "manhattan")


def test_zero_variance_rows_are_counted() -> None:
    x = _responses(n=6, v=8)
    x[1] = 3.0
    x[4] = 0.0
    with pytest.raises(DataError, match="2 of 6 response rows have zero variance"):
        compute_rdm(x)
    # Euclidean distance is defined for constant rows.
    assert np.all(np.isfinite(compute_rdm(x, "euclidean")))


@pytest.mark.parametrize(
    "x",
    [
        np.zeros((1, 4), np.float32),  # fewer than 2 rows
        np.zeros(4, np.float32),  # not 2-D
        np.zeros((3, 0), np.float32),  # no features
        np.array([["a", "b"], ["c", "d"]]),  # not numbers
    ],
)
def test_bad_shapes_raise_data_error(x: np.ndarray) -> None:
    with pytest.raises(DataError):
        compute_rdm(x)


def test_non_finite_values_raise() -> None:
    x = _responses()
    x[2, 3] = np.nan
    with pytest.raises(DataError, match="NaN or inf"):
        compute_rdm(x, "euclidean")


def test_bad_block_rows() -> None:
    with pytest.raises(ConfigError, match="block_rows"):
        compute_rdm(_responses(), block_rows=0)


def test_binarize_semantics() -> None:
    d = np.array([0.2, 1.5, 1.0, 0.9, 1.2], dtype=np.float32)
    np.testing.assert_array_equal(binarize_rdm(d, "correlation"), [0, 1, 0, 0, 1])
    np.testing.assert_array_equal(binarize_rdm(d, "euclidean"), [0, 1, 0, 0, 1])
    assert binarize_rdm(d, "euclidean").dtype == bool


def test_condensed_index_matches_squareform() -> None:
    n = 7
    sq = squareform(np.arange(n * (n - 1) // 2))
    i, j = np.triu_indices(n, 1)
    got = condensed_index(i, j, n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, sq[i, j])
    np.testing.assert_array_equal(got, np.arange(n * (n - 1) // 2))


def test_condensed_index_large_n_does_not_overflow() -> None:
    n = 100_000
    i = np.array([n - 2], dtype=np.int32)
    got = condensed_index(i, i + 1, n)
    assert got[0] == n * (n - 1) // 2 - 1


@pytest.mark.parametrize("n", [2, 3, 10, 57])
def test_condensed_to_pairs_inverts_condensed_index(n: int) -> None:
    i, j = condensed_to_pairs(np.arange(n * (n - 1) // 2), n)
    ti, tj = np.triu_indices(n, 1)
    np.testing.assert_array_equal(i, ti)
    np.testing.assert_array_equal(j, tj)
    assert i.dtype == np.int32 and j.dtype == np.int32


def test_condensed_to_pairs_large_n_edges() -> None:
    n = 70_000
    k = np.array([0, n - 2, n - 1, n * (n - 1) // 2 - 2, n * (n - 1) // 2 - 1])
    i, j = condensed_to_pairs(k, n)
    np.testing.assert_array_equal(condensed_index(i, j, n), k)


@pytest.mark.parametrize(
    ("i", "j"), [([2], [1]), ([1], [1]), ([-1], [2]), ([0], [7]), ([0, 1], [2])]
)
def test_condensed_index_rejects_bad_pairs(i: list[int], j: list[int]) -> None:
    with pytest.raises(DataError):
        condensed_index(np.array(i), np.array(j), 7)


def test_rdm_values_and_square() -> None:
    x = _responses(n=6, v=9)
    d = compute_rdm(x)
    sq = squareform(d)
    i = np.array([0, 1, 3], dtype=np.int32)
    j = np.array([5, 2, 4], dtype=np.int32)
    vals = rdm_values(d, i, j, 6)
    assert vals.dtype == np.float32
    np.testing.assert_array_equal(vals, sq[i, j])
    np.testing.assert_array_equal(square_rdm(d), sq)
    subset = np.array([4, 1, 5])
    np.testing.assert_array_equal(square_rdm(d, subset), sq[np.ix_(subset, subset)])
    with pytest.raises(DataError, match="expected"):
        rdm_values(d, i, j, 7)
    with pytest.raises(DataError, match="subset"):
        square_rdm(d, np.array([0, 6]))


@pytest.mark.parametrize(("length", "n"), [(0, 1), (1, 2), (3, 3), (45, 10)])
def test_n_items(length: int, n: int) -> None:
    assert n_items(np.zeros(length)) == n


@pytest.mark.parametrize("bad", [np.zeros(2), np.zeros(44), np.zeros((3, 1))])
def test_n_items_rejects_non_triangular(bad: np.ndarray) -> None:
    with pytest.raises(DataError):
        n_items(bad)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
@pytest.mark.parametrize("n_pairs", [3, 400])  # the gathered path and the GEMM path
def test_pair_distances_equal_pdist(metric, n_pairs):
    from fmri_rdm.rsa.rdm import pair_distances

    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 7)).astype(np.float32)
    codes = np.sort(rng.choice(60 * 59 // 2, n_pairs, replace=False))
    i, j = condensed_to_pairs(codes, 60)
    want = pdist(x.astype(np.float64), metric)[codes]
    np.testing.assert_allclose(pair_distances(x, i, j, metric), want, rtol=1e-5, atol=1e-5)


def test_trial_metrics_compare_features_with_the_euclidean_distance() -> None:
    from fmri_rdm.rsa.rdm import MEASURED_METRICS, feature_metric, pair_distances

    x = _responses(n=6, v=9)
    assert [feature_metric(m) for m in MEASURED_METRICS] == [
        "correlation", "euclidean", "euclidean", "euclidean", "euclidean"
    ]  # fmt: skip
    np.testing.assert_array_equal(compute_rdm(x, "crossnobis"), compute_rdm(x, "euclidean"))
    i, j = np.array([0, 1]), np.array([2, 5])
    np.testing.assert_array_equal(pair_distances(x, i, j, "poisson_cv"),
                                  pair_distances(x, i, j, "euclidean"))  # fmt: skip
    labels = binarize_rdm(np.array([-0.2, -0.1, 0.3, 0.5]), "crossnobis")
    np.testing.assert_array_equal(labels, [False, False, True, True])  # the median, not 0
    with pytest.raises(ConfigError, match="unknown RDM metric"):
        feature_metric("cosine")
