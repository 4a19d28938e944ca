"""Condensed positions and values of pairs (rsa/pair_index.py, compiled) against scipy's
squareform and the closed-form index in numpy, with the index types the project uses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from fmri_rdm.errors import DataError
from fmri_rdm.rsa import pair_index
from fmri_rdm.rsa.rdm import condensed_index, pair_distances, rdm_values


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.intp])
def test_positions_and_values_match_squareform(dtype: type) -> None:
    rng = np.random.default_rng(0)
    n = 9
    rdm = rng.random(n * (n - 1) // 2).astype(np.float32)
    square = squareform(rdm)
    i, j = np.triu_indices(n, 1)
    order = rng.permutation(i.size)[:25]
    i, j = i[order].astype(dtype), j[order].astype(dtype)
    pos = condensed_index(i, j, n)
    assert pos.dtype == np.int64
    i64, j64 = i.astype(np.int64), j.astype(np.int64)
    np.testing.assert_array_equal(pos, n * i64 - i64 * (i64 + 1) // 2 + (j64 - i64 - 1))
    np.testing.assert_array_equal(rdm_values(rdm, i, j, n), square[i64, j64])
    np.testing.assert_array_equal(pair_index.condensed_values(rdm.astype(np.float64), i, j, n),
                                  square[i64, j64])  # fmt: skip


def test_large_n_needs_int64_arithmetic() -> None:
    """N * i passes 2^31 above ~46k items: int32 pairs still index in int64."""
    n = 70_000
    i, j = np.array([60_000], dtype=np.int32), np.array([69_999], dtype=np.int32)
    expected = n * 60_000 - 60_000 * 60_001 // 2 + (69_999 - 60_000 - 1)
    assert condensed_index(i, j, n)[0] == expected


@pytest.mark.parametrize(
    ("i", "j"),
    [([0, 2], [1, 2]), ([1], [0]), ([-1], [2]), ([0], [5]), ([3, 0], [4, 7])],
)
def test_invalid_pairs_name_the_first_one(i: list[int], j: list[int]) -> None:
    with pytest.raises(DataError, match=r"0 <= i < j < 5; pair \d+ is"):
        condensed_index(np.array(i), np.array(j), 5)
    with pytest.raises(DataError, match=r"0 <= i < j < 5"):
        pair_index.check_pairs(np.array(i), np.array(j), 5)


def test_shapes_types_and_empty() -> None:
    with pytest.raises(DataError, match="differ in shape"):
        condensed_index(np.array([0, 1]), np.array([1]), 3)
    with pytest.raises(DataError, match="integers"):
        condensed_index(np.array([0.0]), np.array([1.0]), 3)
    empty = np.array([], dtype=np.int64)
    assert condensed_index(empty, empty, 3).shape == (0,)
    assert condensed_index(np.array([]), np.array([]), 3).shape == (0,)  # float, but empty
    assert rdm_values(np.zeros(3, np.float32), empty, empty, 3).shape == (0,)


def test_pair_distances_on_a_subset_of_images() -> None:
    """Pairs touching some images only: the touched images' RDM, looked up by position."""
    rng = np.random.default_rng(1)
    features = rng.standard_normal((12, 5))
    i = np.array([1, 1, 4, 9], dtype=np.int32)
    j = np.array([4, 9, 9, 11], dtype=np.int32)
    full = squareform(np.corrcoef(features) * -1 + 1, checks=False)
    expected = squareform(full)[i, j]
    np.testing.assert_allclose(pair_distances(features, i, j), expected, atol=1e-6)
