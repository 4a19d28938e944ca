"""The Nyström SVM against its references: SVC's kernel and gamma, LinearSVC's squared hinge."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel
from sklearn.svm import LinearSVC

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.svm import nystroem as ny
from fmri_rdm.models.svm.classifier import SVMPairClassifier, pair_features
from tests.helpers import all_pairs


def _data(n: int = 30, d: int = 5, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(n, d)).astype(np.float32)
    i, j = all_pairs(n)
    y = np.linalg.norm(table[i] - table[j], axis=1) < 3.0
    return table, i, j, y


@pytest.mark.parametrize("features", ["concat", "symmetric"])
def test_gamma_scale_is_svcs(features: str) -> None:
    table, i, j, _ = _data()
    x = pair_features(table, i, j, features).astype(np.float64)
    assert ny.scale_gamma(table, i, j, features) == pytest.approx(1 / (x.shape[1] * x.var()))


CASES = [("poly", "concat"), ("poly", "symmetric"), ("rbf", "concat"), ("linear", "concat")]


@pytest.mark.parametrize(("kind", "features"), CASES)
def test_landmark_kernel_and_whitening(kind: str, features: str) -> None:
    """Kernel blocks equal scikit-learn's kernel on explicit pair features; with every pair a
    landmark, the Nyström features reproduce the kernel matrix exactly (Z Z' = K)."""
    table, i, j, _ = _data(n=12, d=2)
    x = pair_features(table, i, j, features).astype(np.float64)
    gamma = 0.3
    ref = {
        "poly": polynomial_kernel(x, x, degree=2, gamma=gamma, coef0=0.0),
        "rbf": rbf_kernel(x, x, gamma=gamma),
        "linear": x @ x.T,
    }[kind]
    landmarks = ny.LandmarkMap(table, i, j, ny.PairKernel(kind, gamma, 2), features)
    k = np.concatenate(list(landmarks.blocks(table, i, j)))
    np.testing.assert_allclose(k, ref, rtol=1e-4, atol=1e-5)
    z = k.astype(np.float64) @ ny.whitening(k)
    np.testing.assert_allclose(z @ z.T, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


def test_newton_matches_liblinear_squared_hinge() -> None:
    """Same objective as LinearSVC(loss='squared_hinge'); liblinear penalises its intercept,
    which a large intercept_scaling makes negligible."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 6)).astype(np.float32)
    y = np.where(z @ rng.normal(size=6) + 0.8 * rng.normal(size=300) > 0.3, 1.0, -1.0)
    w, b, iterations = ny.l2svm_newton(z, y, c=0.5, tol=1e-12)
    ref = LinearSVC(C=0.5, loss="squared_hinge", intercept_scaling=1e3, tol=1e-10,
                    max_iter=200_000).fit(z.astype(np.float64), y)  # fmt: skip
    np.testing.assert_allclose(w, ref.coef_[0], rtol=1e-3, atol=1e-3)
    assert b == pytest.approx(ref.intercept_[0], abs=1e-3)
    assert 1 <= iterations < 50


def test_separable_data_leaves_the_margin() -> None:
    """Pairs outside the margin drop out of the Newton system: still the optimum."""
    z = np.array([[-2.0], [-1.5], [1.5], [2.0], [0.2]], np.float32)
    y = np.array([-1.0, -1.0, 1.0, 1.0, 1.0])
    w, b, _ = ny.l2svm_newton(z, y, c=10.0, tol=1e-14)
    ref = LinearSVC(C=10.0, intercept_scaling=1e4, tol=1e-12, max_iter=100_000).fit(z, y)
    assert w[0] == pytest.approx(ref.coef_[0, 0], rel=1e-3)
    assert np.all(np.sign(z[:, 0] * w[0] + b) == y)


def test_close_to_the_exact_svc_and_reports_what_it_did(caplog: pytest.LogCaptureFixture) -> None:
    table, i, j, y = _data(n=40)
    exact = SVMPairClassifier(method="exact").fit(table, i, j, y)
    with caplog.at_level(logging.INFO, logger="fmri_rdm.models.svm.classifier"):
        approx = SVMPairClassifier(method="nystroem", n_components=200).fit(table, i, j, y)
    assert "nystroem" in caplog.text and "780 training pairs" in caplog.text
    assert approx.facts["n_pairs_trained_on"] == 780
    assert approx.facts["svm_method"] == "nystroem"
    agree = np.mean(approx.predict(table, i, j) == exact.predict(table, i, j))
    assert agree > 0.95
    dec = approx.decision_function(table, i, j)
    assert dec.dtype == np.float64 and dec.shape == (780,)


def test_nystroem_save_load_and_old_pickles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table, i, j, y = _data()
    model = SVMPairClassifier(method="nystroem", n_components=50, features="symmetric")
    model.fit(table, i, j, y)
    model.save(tmp_path / "svm.joblib")
    loaded = SVMPairClassifier.load(tmp_path / "svm.joblib")
    np.testing.assert_array_equal(
        loaded.decision_function(table, i, j), model.decision_function(table, i, j)
    )
    # a classifier pickled before `method` existed is an exact SVC
    old = SVMPairClassifier(method="exact").fit(table, i, j, y)
    state = dict(old.__dict__)
    for key in ("method", "n_components", "facts", "_nystroem"):
        state.pop(key)
    revived = SVMPairClassifier.__new__(SVMPairClassifier)
    revived.__setstate__(state)
    np.testing.assert_array_equal(revived.predict(table, i, j), old.predict(table, i, j))


def test_bad_settings() -> None:
    with pytest.raises(ConfigError, match="method"):
        SVMPairClassifier(method="fast")
    with pytest.raises(ConfigError, match="Nyström"):
        SVMPairClassifier(method="nystroem", kernel="sigmoid")
    with pytest.raises(ConfigError, match="nystroem_components"):
        SVMPairClassifier(method="nystroem", n_components=0)
