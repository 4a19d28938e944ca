"""The direct ridge solver against himalaya's RidgeCV (float64, numpy backend) on small inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from himalaya.backend import set_backend
from himalaya.ridge import RidgeCV
from himalaya.scoring import r2_score
from sklearn.model_selection import KFold

from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.models.encoding.ridge_eigh import ridge_cv_eigh
from tests.models.fold import make_fold

ALPHAS = np.logspace(-2, 5, 8)


def _data(n: int = 80, d: int = 12, v: int = 9, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Voxels from weak to strong signal, so that the chosen alphas spread over the grid."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) + 3.0  # an offset: the intercept matters
    y = x @ (rng.standard_normal((d, v)) * np.linspace(0.01, 1.0, v)) + rng.standard_normal((n, v))
    return x, y + 5.0


def _himalaya(x: np.ndarray, y: np.ndarray, cv: KFold) -> RidgeCV:
    set_backend("numpy", on_error="raise")
    solver = {"score_func": r2_score, "warn": False}
    return RidgeCV(alphas=ALPHAS, fit_intercept=True, cv=cv, solver_params=solver).fit(x, y)


@pytest.mark.parametrize("device", [None, "cpu"])  # numpy, and torch on the CPU
def test_matches_himalaya_in_float64(device: str | None) -> None:
    x, y = _data()
    cv = KFold(5, shuffle=True, random_state=0)
    ref = _himalaya(x, y, cv)
    got = ridge_cv_eigh(x, y, ALPHAS, list(cv.split(x)), dtype=np.float64, device=device)
    assert len(np.unique(got.best_alphas)) > 2  # the test spans several alphas
    np.testing.assert_allclose(got.best_alphas, ref.best_alphas_, rtol=1e-12)  # exp(log(a))
    np.testing.assert_allclose(got.coef, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.intercept, ref.intercept_, rtol=1e-8, atol=1e-10)
    # himalaya's scores carry its 1e-10 · log(alpha) tie-break slope
    np.testing.assert_allclose(got.cv_scores, ref.cv_scores_, atol=1e-8)


def test_ties_and_more_features_than_images() -> None:
    """A target that is a copy of another gets the same alpha; D > N still solves (the
    covariance is singular, the ridge is not)."""
    x, y = _data(n=30, d=40, v=3, seed=1)
    y = np.concatenate([y, y[:, :1]], axis=1)
    cv = KFold(3, shuffle=True, random_state=1)
    ref = _himalaya(x, y, cv)
    got = ridge_cv_eigh(x, y, ALPHAS, list(cv.split(x)), dtype=np.float64)
    np.testing.assert_allclose(got.best_alphas, ref.best_alphas_, rtol=1e-12)  # exp(log(a))
    assert got.best_alphas[0] == got.best_alphas[-1]
    np.testing.assert_allclose(got.coef, ref.coef_, rtol=1e-6, atol=1e-8)


def test_float32_agrees_with_float64() -> None:
    x, y = _data(n=200, d=30, v=20, seed=2)
    splits = list(KFold(5, shuffle=True, random_state=2).split(x))
    exact = ridge_cv_eigh(x, y, ALPHAS, splits, dtype=np.float64)
    fast = ridge_cv_eigh(x, y, ALPHAS, splits, dtype=np.float32)
    np.testing.assert_array_equal(fast.best_alphas, exact.best_alphas)
    np.testing.assert_allclose(fast.coef, exact.coef, rtol=1e-3, atol=1e-4)


def test_encoding_solvers_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """model.solver=eigh and =himalaya fit the same model (float32 on the CPU)."""
    fold = make_fold(n=80, d=10, v=7, n_train=70, seed=4, tmp=tmp_path)
    eigh = EncodingLearner(alphas=ALPHAS, cv=5, backend="numpy", solver="eigh")
    hima = EncodingLearner(alphas=ALPHAS, cv=5, backend="numpy", solver="himalaya")
    eigh_facts, hima_facts = eigh.fit(fold).facts, hima.fit(fold).facts
    assert eigh_facts["ridge_solver"] == "eigh" and hima_facts["ridge_solver"] == "himalaya"
    np.testing.assert_allclose(eigh.state["best_alphas"], hima.state["best_alphas"], rtol=1e-6)
    np.testing.assert_allclose(eigh.state["coef"], hima.state["coef"], rtol=1e-3, atol=1e-5)
    # auto: himalaya on the GPU path (unchanged), eigh on the CPU
    assert EncodingLearner(backend="torch_cuda").solver == "himalaya"
    assert EncodingLearner(backend="torch").solver == "eigh"


@pytest.mark.parametrize("device", [None, "cpu"])
def test_voxel_batches_and_rows_give_the_one_batch_fit(device: str | None) -> None:
    """Targets in batches of 4 (the outer loop), read from a larger array by row indices,
    give the same alphas, scores and coefficients as one batch of all targets (float64)."""
    x, y = _data(n=60, d=8, v=11, seed=3)
    splits = list(KFold(4, shuffle=True, random_state=3).split(x))
    whole = ridge_cv_eigh(x, y, ALPHAS, splits, dtype=np.float64, device=device)
    rows = np.random.default_rng(3).permutation(80)[:60]  # where x's rows sit in `source`
    source = np.zeros((80, y.shape[1]), dtype=np.float32)
    source[rows] = y
    args = dict(dtype=np.float64, device=device, n_targets_batch=4, rows=rows)
    got = ridge_cv_eigh(x, source, ALPHAS, splits, **args)  # type: ignore[arg-type]
    ref = ridge_cv_eigh(x, source[rows].astype(np.float64), ALPHAS, splits, dtype=np.float64)
    np.testing.assert_array_equal(got.best_alphas, ref.best_alphas)
    np.testing.assert_allclose(got.cv_scores, ref.cv_scores, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.coef, ref.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.intercept, ref.intercept, rtol=1e-10, atol=1e-12)
    assert len(np.unique(whole.best_alphas)) > 2


@pytest.mark.parametrize("device", [None, "cpu"])
def test_gram_and_prediction_errors_agree(device: str | None, monkeypatch) -> None:
    """Test errors from the test rows' Gram matrix (n_test > D) equal those of the
    predictions themselves (float64), alpha by alpha."""
    import fmri_rdm.models.encoding.ridge_eigh as ridge

    x, y = _data(n=120, d=10, v=13, seed=5)
    splits = list(KFold(4, shuffle=True, random_state=5).split(x))
    by_gram = ridge_cv_eigh(x, y, ALPHAS, splits, dtype=np.float64, device=device)
    split = ridge._split

    def without_gram(*args):  # type: ignore[no-untyped-def]
        return dataclasses.replace(split(*args), gram=None)

    monkeypatch.setattr(ridge, "_split", without_gram)
    by_prediction = ridge_cv_eigh(x, y, ALPHAS, splits, dtype=np.float64, device=device)
    assert len(np.unique(by_gram.best_alphas)) > 2
    np.testing.assert_array_equal(by_gram.best_alphas, by_prediction.best_alphas)
    np.testing.assert_allclose(by_gram.cv_scores, by_prediction.cv_scores, atol=1e-10)
    np.testing.assert_allclose(by_gram.coef, by_prediction.coef, rtol=1e-10, atol=1e-12)
