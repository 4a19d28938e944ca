"""Variance partitioning against per-fold sklearn fits on explicit pair designs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.partition import components, partition_variance
from fmri_rdm.rsa.splits import image_disjoint_folds

N = 24


def _data(
    k: int, seed: int = 0
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(N, 1)
    shared = rng.random(i.size)
    cands = {f"c{b}": shared * (b + 1) * 0.5 + rng.random(i.size) for b in range(k)}
    y = sum(cands.values()) + 0.5 * rng.standard_normal(i.size)
    return cands, y, i, j


def _reference_r2(x: np.ndarray, y: np.ndarray, fit: np.ndarray, test: np.ndarray) -> float:
    model = LinearRegression().fit(x[fit], y[fit])
    return float(model.score(x[test], y[test]))


@pytest.mark.parametrize("k", [2, 3, 4])
def test_partition_matches_sklearn_fold_by_fold(k: int) -> None:
    cands, y, i, j = _data(k)
    folds = image_disjoint_folds(N, 3, seed=1)
    out = partition_variance(cands, y, i, j, folds, N)
    x = np.column_stack(list(cands.values()))
    names = list(cands)
    for f, (train, test) in enumerate(folds):
        fit = np.isin(i, train) & np.isin(j, train)
        tst = np.isin(i, test) & np.isin(j, test)
        full = _reference_r2(x, y, fit, tst)
        assert out["folds"][f]["r2"]["+".join(names)] == pytest.approx(full, abs=1e-9)
        assert out["folds"][f]["components"]["total"] == pytest.approx(full, abs=1e-9)
        for b, name in enumerate(names):  # unique = R²(all) - R²(all but one)
            rest = [c for c in range(k) if c != b]
            unique = full - _reference_r2(x[:, rest], y, fit, tst)
            assert out["folds"][f]["components"][f"unique:{name}"] == pytest.approx(
                unique, abs=1e-9
            )
        parts = sum(v for key, v in out["folds"][f]["components"].items() if key != "total")
        assert parts == pytest.approx(full, abs=1e-9)


def test_two_candidate_shared_is_sum_of_singles_minus_joint() -> None:
    r2 = {1: 0.3, 2: 0.2, 3: 0.4}
    c = components(r2, 2)
    assert c[1] == pytest.approx(0.2) and c[2] == pytest.approx(0.1)
    assert c[3] == pytest.approx(0.3 + 0.2 - 0.4)


def test_bad_inputs() -> None:
    cands, y, i, j = _data(2)
    folds = image_disjoint_folds(N, 3, seed=1)
    with pytest.raises(ConfigError, match="2 to 4"):
        partition_variance({"a": y}, y, i, j, folds, N)
    overlapping = [folds[0], (folds[1][0], np.concatenate([folds[1][1], folds[0][1][:1]]))]
    with pytest.raises(DataError, match="disjoint"):
        partition_variance(cands, y, i, j, overlapping, N)
