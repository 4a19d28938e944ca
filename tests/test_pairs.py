"""Tests for fmri_rdm.rsa.pairs against brute-force references on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.pairs import (
    COLOR_NAMES,
    all_pairs,
    balanced_pairs,
    color_images,
    color_pairs,
    extremes_pairs,
    select_pairs,
)
from fmri_rdm.rsa.rdm import condensed_index


def _rdm(n: int, seed: int = 0, scale: float = 2.0) -> np.ndarray:
    """Random condensed RDM without ties, values in [0, scale)."""
    rng = np.random.default_rng(seed)
    return (rng.random(n * (n - 1) // 2) * scale).astype(np.float32)


def _brute_extremes(rdm: np.ndarray, n: int, k: int) -> set[tuple[int, int]]:
    sq = squareform(rdm)
    out: set[tuple[int, int]] = set()
    for a in range(n):
        partners = sorted((b for b in range(n) if b != a), key=lambda b: sq[a, b])
        for b in partners[:k] + partners[-k:]:
            out.add((min(a, b), max(a, b)))
    return out


def _as_set(i: np.ndarray, j: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _assert_condensed_order(i: np.ndarray, j: np.ndarray, n: int) -> None:
    assert i.dtype == np.int32 and j.dtype == np.int32
    assert np.all(i < j)
    codes = condensed_index(i, j, n)
    assert np.all(np.diff(codes) > 0)  # sorted, no duplicates


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9])
def test_all_pairs_matches_squareform_order(n: int) -> None:
    i, j = all_pairs(n)
    assert i.dtype == np.int32 and j.dtype == np.int32
    ti, tj = np.triu_indices(n, 1)
    np.testing.assert_array_equal(i, ti)
    np.testing.assert_array_equal(j, tj)
    if n >= 2:
        sq = squareform(np.arange(n * (n - 1) // 2))
        np.testing.assert_array_equal(sq[i, j], np.arange(n * (n - 1) // 2))


@pytest.mark.parametrize(("n", "k"), [(12, 1), (12, 3), (15, 5), (30, 4)])
def test_extremes_match_brute_force(n: int, k: int) -> None:
    rdm = _rdm(n, seed=n + k)
    i, j = extremes_pairs(rdm, n, k)
    _assert_condensed_order(i, j, n)
    assert _as_set(i, j) == _brute_extremes(rdm, n, k)


def test_extremes_across_several_row_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import fmri_rdm.rsa.pairs as pairs_mod

    n, k = 23, 3
    rdm = _rdm(n, seed=7)
    monkeypatch.setattr(pairs_mod, "_BLOCK_ELEMENTS", 2 * n)  # 2 rows per block
    i, j = extremes_pairs(rdm, n, k)
    assert _as_set(i, j) == _brute_extremes(rdm, n, k)


@pytest.mark.parametrize("k", [5, 10, 50])
def test_extremes_cover_everything_gives_all_pairs(k: int) -> None:
    n = 11
    i, j = extremes_pairs(_rdm(n), n, k)
    ti, tj = np.triu_indices(n, 1)
    np.testing.assert_array_equal(i, ti)
    np.testing.assert_array_equal(j, tj)


def test_extremes_errors() -> None:
    with pytest.raises(ConfigError, match="n_per_image"):
        extremes_pairs(_rdm(10), 10, 0)
    with pytest.raises(DataError, match="covers 10 images"):
        extremes_pairs(_rdm(10), 11, 2)


def test_balanced_correlation_band() -> None:
    n, k = 40, 2
    rdm = _rdm(n, seed=1)
    i, j = balanced_pairs(rdm, n, "correlation", k, seed=0, mid_band=0.3)
    _assert_condensed_order(i, j, n)
    ext = _brute_extremes(rdm, n, k)
    got = _as_set(i, j)
    assert ext <= got
    mid = got - ext
    assert len(mid) == len(ext)
    sq = squareform(rdm)
    assert all(abs(sq[a, b] - 1.0) <= 0.3 + 1e-6 for a, b in mid)


def test_balanced_euclidean_quantiles_and_determinism() -> None:
    n, k = 40, 2
    rdm = _rdm(n, seed=2, scale=30.0)
    q = (0.4, 0.6)
    i, j = balanced_pairs(rdm, n, "euclidean", k, seed=5, mid_quantiles=q)
    ext = _brute_extremes(rdm, n, k)
    mid = _as_set(i, j) - ext
    assert len(mid) == len(ext)
    lo, hi = np.quantile(rdm, q)
    sq = squareform(rdm)
    assert all(lo <= sq[a, b] <= hi for a, b in mid)
    i2, j2 = balanced_pairs(rdm, n, "euclidean", k, seed=5, mid_quantiles=q)
    np.testing.assert_array_equal(i, i2)
    np.testing.assert_array_equal(j, j2)
    i3, _ = balanced_pairs(rdm, n, "euclidean", k, seed=6, mid_quantiles=q)
    assert not np.array_equal(i, i3)


def test_balanced_takes_all_mid_pairs_when_too_few(caplog: pytest.LogCaptureFixture) -> None:
    n, k = 20, 2
    rdm = _rdm(n, seed=3)
    rdm[[5, 17, 60]] = 1.0  # exactly three pairs in a tiny band, plus maybe some extremes
    i, j = balanced_pairs(rdm, n, "correlation", k, seed=0, mid_band=1e-7)
    ext = _brute_extremes(rdm, n, k)
    mid = _as_set(i, j) - ext
    assert 1 <= len(mid) <= 3
    assert "taking all of them" in caplog.text


def test_balanced_errors() -> None:
    n = 20
    rdm = _rdm(n, scale=0.5)  # all correlation distances far below 1
    with pytest.raises(ConfigError, match=r"no mid-range pairs.*raise mid_band"):
        balanced_pairs(rdm, n, "correlation", 2, seed=0)
    with pytest.raises(ConfigError, match="mid_band"):
        balanced_pairs(rdm, n, "correlation", 2, seed=0, mid_band=0.0)
    with pytest.raises(ConfigError, match="mid_quantiles"):
        balanced_pairs(rdm, n, "euclidean", 2, seed=0, mid_quantiles=(0.6, 0.4))
    with pytest.raises(ConfigError, match="valid metrics"):
        balanced_pairs(rdm, n, "cosine", 2, seed=0)


def _labels() -> np.ndarray:
    # 5 red, 2 green, 3 blue, 2 unlabelled
    return np.array([0, 2, -1, 0, 1, 0, 2, 0, 1, -1, 2, 0], dtype=np.int8)


def test_color_images_balanced_and_seeded() -> None:
    labels = _labels()
    red, blue = color_images(labels, ("red", "blue"), seed=1)
    assert red.size == blue.size == 3
    assert np.all(labels[red] == COLOR_NAMES.index("red"))
    np.testing.assert_array_equal(blue, [1, 6, 10])
    np.testing.assert_array_equal(red, np.sort(red))
    red2, _ = color_images(labels, ("red", "blue"), seed=1)
    np.testing.assert_array_equal(red, red2)
    seen = {tuple(color_images(labels, ("red", "blue"), seed=s)[0]) for s in range(20)}
    assert len(seen) > 1


def test_color_pairs_are_all_pairs_among_used_images() -> None:
    labels = _labels()
    i, j = color_pairs(labels, ("green", "blue"), seed=0)
    green, blue = color_images(labels, ("green", "blue"), seed=0)
    used = sorted(green.tolist() + blue.tolist())
    want = {(a, b) for a in used for b in used if a < b}
    assert _as_set(i, j) == want
    _assert_condensed_order(i, j, labels.size)


def test_color_errors() -> None:
    labels = np.array([0, 0, 0, 2, 1, 1], dtype=np.int8)
    with pytest.raises(ConfigError, match="red=3, blue=1"):
        color_pairs(labels, ("red", "blue"), seed=0)
    with pytest.raises(ConfigError, match="valid colours: red, green, blue"):
        color_pairs(labels, ("red", "purple"), seed=0)
    with pytest.raises(ConfigError, match="two different"):
        color_pairs(labels, ("red", "red"), seed=0)


def test_select_pairs_dispatch() -> None:
    n = 12
    rdm = _rdm(n)
    labels = _labels()
    ai, _ = select_pairs("all", rdm, n, metric="correlation")
    assert ai.size == n * (n - 1) // 2
    ei, ej = select_pairs("extremes", rdm, n, metric="correlation", n_per_image=2)
    assert _as_set(ei, ej) == _brute_extremes(rdm, n, 2)
    bi, bj = select_pairs("balanced", rdm, n, metric="euclidean", n_per_image=1, seed=3)
    assert _as_set(bi, bj) == _as_set(*balanced_pairs(rdm, n, "euclidean", 1, seed=3))
    ci, cj = select_pairs("colors", rdm, n, metric="correlation", labels=labels, seed=2)
    assert _as_set(ci, cj) == _as_set(*color_pairs(labels, seed=2))
    with pytest.raises(ConfigError, match="all, extremes, balanced, colors"):
        select_pairs("random", rdm, n, metric="correlation")
    with pytest.raises(ConfigError, match="colour labels"):
        select_pairs("colors", rdm, n, metric="correlation")
    with pytest.raises(DataError, match="labels for"):
        select_pairs("colors", rdm, n, metric="correlation", labels=labels[:5])


def test_extremes_with_tied_values_keep_k_per_side() -> None:
    n, k = 40, 4
    rdm = np.round(_rdm(n, seed=11), 1)  # 20 distinct values: ties at most thresholds
    i, j = extremes_pairs(rdm, n, k)
    _assert_condensed_order(i, j, n)
    sq = squareform(rdm)
    chosen = _as_set(i, j)
    for a in range(n):
        partners = np.array([b for b in range(n) if b != a])
        values = sq[a, partners]
        lo, hi = np.sort(values)[k - 1], np.sort(values)[-k]
        mine = [b for b in partners if (min(a, b), max(a, b)) in chosen]
        assert sum(sq[a, b] <= lo for b in mine) >= k
        assert sum(sq[a, b] >= hi for b in mine) >= k
    assert len(chosen) <= 2 * k * n
