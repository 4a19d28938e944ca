"""Spearman of bootstrap resamples in linear blocks (numpy and torch) against the per-resample
reference (bench/statistics_reference.py) and scipy: ties, pair subsets, several predictions,
chunk boundaries inside tie groups, resamples without spread, both float widths, threads."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from bench import statistics_reference as ref
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats import rank_resamples as rr
from fmri_rdm.stats.backend import NumpyBackend, backend_for

DEVICES = ["cpu", "torch-cpu"]


def _fold(rng: np.random.Generator, n: int, ties: bool, subset: bool = False):
    a, b = np.triu_indices(n, 1)
    if subset:  # extremes / balanced: some pairs among the test images
        keep = rng.random(a.size) < 0.6
        a, b = a[keep], b[keep]
    target = rng.standard_normal(a.size)
    preds = np.stack([target + rng.standard_normal(a.size), rng.standard_normal(a.size)])
    if ties:  # coarse values: many tied pairs, tie groups that cross chunks
        target, preds = np.round(target, 0), np.round(preds, 0)
    return a, b, target, preds


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few pairs and segments of 4: many chunks, padding and tie groups that a
    chunk must extend to keep whole."""
    monkeypatch.setattr(NumpyBackend, "chunk_pairs", 10)
    monkeypatch.setattr(NumpyBackend, "segment", 4)
    monkeypatch.setattr(NumpyBackend, "block", 5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("ties", "subset"), [(False, False), (True, False), (True, True)])
def test_matches_the_per_resample_reference(device: str, ties: bool, subset: bool) -> None:
    rng = np.random.default_rng(1)
    a, b, target, preds = _fold(rng, 14, ties, subset)
    counts = boot.resample_counts(rng, 14, 23)
    expected = ref.weighted_spearman(counts, a, b, target, preds)
    got = rr.weighted_spearman(counts, a, b, target, preds, device)
    assert got.shape == (2, 23)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, atol=1e-6)  # the reference sums in float32


@pytest.mark.parametrize("device", DEVICES)
def test_wide_chunks_take_the_cumulative_sum_path(device: str, monkeypatch) -> None:
    """Chunks wider than the prefix-sum product (a GPU's one chunk of all pairs, a large tie
    group) sum their segments with a cumulative sum instead: the same values."""
    monkeypatch.setattr(rr, "PREFIX_PRODUCT_MAX", 1)
    rng = np.random.default_rng(6)
    a, b, target, preds = _fold(rng, 13, ties=True)
    counts = boot.resample_counts(rng, 13, 8)
    expected = ref.weighted_spearman(counts, a, b, target, preds)
    np.testing.assert_allclose(
        rr.weighted_spearman(counts, a, b, target, preds, device), expected, atol=1e-6
    )


@pytest.mark.parametrize("device", DEVICES)
def test_float64_path_matches(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above 4,096 images the integer ranks leave float32: the float64 path, forced here."""
    monkeypatch.setattr(rr, "backend_for", lambda d, exact=False: backend_for(d, exact=False))
    rng = np.random.default_rng(2)
    a, b, target, preds = _fold(rng, 12, ties=True)
    counts = boot.resample_counts(rng, 12, 9)
    expected = ref.weighted_spearman(counts, a, b, target, preds)
    got = rr.weighted_spearman(counts, a, b, target, preds, device)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_is_spearman_of_the_duplicated_pairs(device: str) -> None:
    rng = np.random.default_rng(3)
    n = 9
    a, b, target, preds = _fold(rng, n, ties=True)
    counts = boot.resample_counts(rng, n, 6)
    got = rr.weighted_spearman(counts, a, b, target, preds, device)
    for r, c in enumerate(counts):
        keep = np.repeat(np.arange(a.size), c[a] * c[b])
        for k in range(2):
            expected = spearmanr(target[keep], preds[k][keep])[0]
            assert got[k, r] == pytest.approx(expected, abs=1e-10, nan_ok=True)


@pytest.mark.parametrize("device", DEVICES)
def test_undefined_resamples_are_nan(device: str) -> None:
    a, b = np.array([0, 0, 1]), np.array([1, 2, 2])
    counts = np.array([[3, 0, 0], [1, 1, 0], [1, 1, 1]])  # no pair, one pair, all pairs
    got = rr.weighted_spearman(counts, a, b, np.array([0.1, 0.2, 0.3]), np.arange(3.0), device)
    assert np.isnan(got[0, :2]).all() and got[0, 2] == pytest.approx(1.0)
    constant = rr.weighted_spearman(counts, a, b, np.ones(3), np.arange(3.0), device)
    assert np.isnan(constant).all()
    empty = rr.weighted_spearman(counts[:0], a, b, np.ones(3), np.arange(3.0), device)
    assert empty.shape == (1, 0)


def test_threads_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    a, b, target, preds = _fold(rng, 11, ties=True)
    counts = boot.resample_counts(rng, 11, 17)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = rr.weighted_spearman(counts, a, b, target, preds)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    np.testing.assert_array_equal(rr.weighted_spearman(counts, a, b, target, preds), one)


def test_bootstrap_scores_route_spearman_to_the_device() -> None:
    rng = np.random.default_rng(5)
    a, b, target, preds = _fold(rng, 10, ties=False)
    counts = boot.resample_counts(rng, 10, 7)
    numpy = boot.bootstrap_scores(target, preds, a, b, counts)
    torch = boot.bootstrap_scores(target, preds, a, b, counts, boot.SCORES, "torch-cpu")
    assert list(torch) == list(numpy)
    for name in boot.SCORES:
        np.testing.assert_allclose(torch[name], numpy[name], atol=1e-12)


@pytest.mark.parametrize(("block", "bucket_rows"), [(1, 3), (4, 7), (16, 1)])
def test_compiled_blocks_and_buckets_match(block: int, bucket_rows: int, monkeypatch) -> None:
    """The CPU kernels with blocks of resamples and join buckets that cut tie groups and end
    mid-block: the per-resample reference's values."""
    monkeypatch.setattr(rr, "COMPILED_BLOCK", block)
    monkeypatch.setattr(rr, "BUCKET_BYTES", bucket_rows * block * 4)  # float32 rows
    rng = np.random.default_rng(7)
    a, b, target, preds = _fold(rng, 12, ties=True, subset=True)
    counts = boot.resample_counts(rng, 12, 19)
    expected = ref.weighted_spearman(counts, a, b, target, preds)
    got = rr.weighted_spearman(counts, a, b, target, preds, "cpu")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("stored", [np.int32, np.float64])
def test_compiled_stored_types_match(stored: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above 4,096 images the target's v leave float32 (int32, then float64): forced here."""
    monkeypatch.setattr(rr, "stored_dtype", lambda n: stored)
    rng = np.random.default_rng(8)
    a, b, target, preds = _fold(rng, 12, ties=True)
    counts = boot.resample_counts(rng, 12, 9)
    expected = ref.weighted_spearman(counts, a, b, target, preds)
    np.testing.assert_allclose(
        rr.weighted_spearman(counts, a, b, target, preds), expected, atol=1e-6
    )
