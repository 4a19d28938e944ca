"""Image-disjoint splits (fmri_rdm.rsa.splits) against brute-force and scikit-learn references:
train/test splits, K folds over images, and the pairs that fall within each side."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.special import comb
from sklearn.model_selection import KFold

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa import splits
from fmri_rdm.rsa.splits import (
    image_disjoint_folds,
    image_disjoint_split,
    pairs_within,
    split_pairs,
)
from tests.helpers import all_pairs


def _brute_masks(
    i: np.ndarray, j: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair Python reference: both images in train / both in test."""
    train_set, test_set = set(train.tolist()), set(test.tolist())
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    in_train = [a in train_set and b in train_set for a, b in pairs]
    in_test = [a in test_set and b in test_set for a, b in pairs]
    return np.array(in_train, dtype=bool), np.array(in_test, dtype=bool)


@pytest.mark.parametrize(("test_size", "n_test"), [(0.25, 5), (7, 7), (np.int64(3), 3)])
def test_image_disjoint_split(test_size: float | int, n_test: int) -> None:
    n = 20
    train, test = image_disjoint_split(n, test_size, seed=4)
    assert test.size == n_test and train.size == n - n_test
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    _, test2 = image_disjoint_split(n, test_size, seed=4)
    np.testing.assert_array_equal(test, test2)


@pytest.mark.parametrize("test_size", [1, 19, 0.01, 0.99, 0.0, 1.0, 1.5, True, "0.2"])
def test_image_disjoint_split_errors(test_size: object) -> None:
    with pytest.raises(ConfigError):
        image_disjoint_split(20, test_size, seed=0)  # type: ignore[arg-type]


def test_folds_partition_images_and_are_seeded() -> None:
    n, k = 23, 5
    folds = image_disjoint_folds(n, k, seed=9)
    assert len(folds) == k
    tests = np.concatenate([te for _, te in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == n
        assert test.size in (4, 5)
    again = image_disjoint_folds(n, k, seed=9)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


@pytest.mark.parametrize("k", [1, 0, 24])
def test_folds_errors(k: int) -> None:
    with pytest.raises(ConfigError, match="number of folds"):
        image_disjoint_folds(23, k, seed=0)


def test_split_pairs_is_image_disjoint() -> None:
    n = 30
    i, j = all_pairs(n)
    train, test = image_disjoint_split(n, 0.3, seed=2)
    train_mask, test_mask = split_pairs(i, j, train, test, n)
    train_set, test_set = set(train.tolist()), set(test.tolist())
    for a, b, tr, te in zip(i.tolist(), j.tolist(), train_mask, test_mask, strict=True):
        assert tr == (a in train_set and b in train_set)
        assert te == (a in test_set and b in test_set)
    # No test pair touches a train image; cross pairs are dropped.
    assert not np.isin(i[test_mask], train).any() and not np.isin(j[test_mask], train).any()
    assert not np.any(train_mask & test_mask)
    n_cross = train.size * test.size
    assert train_mask.sum() + test_mask.sum() + n_cross == i.size


def test_pairs_within_and_split_errors() -> None:
    i = np.array([0, 1, 2], dtype=np.int32)
    j = np.array([1, 3, 4], dtype=np.int32)
    np.testing.assert_array_equal(pairs_within(i, j, np.array([0, 1, 3]), 5), [1, 1, 0])
    with pytest.raises(DataError, match="both train and test"):
        split_pairs(i, j, np.array([0, 1]), np.array([1, 2]), 5)
    with pytest.raises(DataError, match=r"\[0, 5\)"):
        pairs_within(i, j, np.array([7]), 5)
    with pytest.raises(DataError, match="equal shape"):
        pairs_within(i, j[:2], np.array([0]), 5)


def test_fold_sizes_match_scikit_learn_kfold() -> None:
    """Test folds hold n // k or n // k + 1 images, as many of each as scikit-learn's KFold."""
    for n, k in [(23, 5), (10, 2), (12, 12), (50, 7)]:
        ours = sorted(test.size for _, test in image_disjoint_folds(n, k, seed=1))
        ref = sorted(test.size for _, test in KFold(n_splits=k).split(np.arange(n)))
        assert ours == ref


def test_folds_differ_between_seeds() -> None:
    a = image_disjoint_folds(40, 4, seed=0)
    b = image_disjoint_folds(40, 4, seed=1)
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, b, strict=True))


def test_test_pairs_of_all_folds_are_each_pair_within_one_fold() -> None:
    """Over K folds, the test pairs are exactly the pairs whose two images share a test fold,
    each counted once: sum over folds of C(|fold|, 2)."""
    n, k = 17, 4
    i, j = all_pairs(n)
    folds = image_disjoint_folds(n, k, seed=3)
    fold_of = np.empty(n, dtype=int)
    for f, (_, test) in enumerate(folds):
        fold_of[test] = f
    counts = np.zeros(i.size, dtype=int)
    for train, test in folds:
        train_mask, test_mask = split_pairs(i, j, train, test, n)
        ref_train, ref_test = _brute_masks(i, j, train, test)
        np.testing.assert_array_equal(train_mask, ref_train)
        np.testing.assert_array_equal(test_mask, ref_test)
        counts += test_mask
    np.testing.assert_array_equal(counts, (fold_of[i] == fold_of[j]).astype(int))
    assert counts.sum() == sum(comb(t.size, 2, exact=True) for _, t in folds)


def test_more_folds_than_half_the_images_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=splits.__name__):
        folds = image_disjoint_folds(5, 3, seed=0)
    assert "some test folds hold no pair" in caplog.text
    assert min(test.size for _, test in folds) == 1  # a one-image fold has no test pair


def test_split_pairs_with_images_on_neither_side() -> None:
    """Validation images (in neither set) put their pairs in neither mask."""
    n = 25
    i, j = all_pairs(n)
    perm = np.random.default_rng(5).permutation(n)
    train, test = np.sort(perm[:12]), np.sort(perm[12:20])  # perm[20:] are on neither side
    got = split_pairs(i, j, train, test, n)
    ref = _brute_masks(i, j, train, test)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(pairs_within(i, j, train, n), ref[0])


def test_chunked_pair_lookup_matches_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs are looked up in chunks of _PAIR_CHUNK: chunk edges and a short last chunk must not
    change a mask (a 7-pair chunk over 435 pairs, int32 and int64 indices)."""
    monkeypatch.setattr(splits, "_PAIR_CHUNK", 7)
    n = 30
    i, j = all_pairs(n)
    train, test = image_disjoint_split(n, 0.4, seed=8)
    ref = _brute_masks(i, j, train, test)
    for dtype in (np.int32, np.int64):
        got = split_pairs(i.astype(dtype), j.astype(dtype), train, test, n)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_no_pairs_and_no_images() -> None:
    empty = np.array([], dtype=np.int64)
    train_mask, test_mask = split_pairs(empty, empty, np.array([0, 1]), np.array([2, 3]), 4)
    assert train_mask.shape == test_mask.shape == (0,)
    i, j = all_pairs(4)
    assert not pairs_within(i, j, empty, 4).any()


def test_split_errors_say_what_is_wrong() -> None:
    i, j = all_pairs(5)
    with pytest.raises(DataError, match="2 images are in both"):
        split_pairs(i, j, np.array([0, 1, 2]), np.array([1, 2, 3]), 5)
    with pytest.raises(DataError, match=r"pair indices must lie in \[0, 4\)"):
        split_pairs(i, j, np.array([0, 1]), np.array([2, 3]), 4)
    with pytest.raises(ConfigError, match="each side needs at least 2"):
        image_disjoint_split(3, 1, seed=0)
