import logging

import numpy as np
import pytest
from sklearn.svm import SVC

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.svm.classifier import SVMPairClassifier, pair_features
from tests.helpers import all_pairs


def _data(n: int = 30, d: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    table = rng.normal(size=(n, d)).astype(np.float32)
    i, j = all_pairs(n)
    y = np.linalg.norm(table[i] - table[j], axis=1) < 3.0
    return table, i, j, y


@pytest.mark.parametrize("features", ["concat", "symmetric"])
def test_matches_plain_sklearn(features: str) -> None:
    table, i, j, y = _data()
    model = SVMPairClassifier(features=features).fit(table, i, j, y)
    x = pair_features(table, i, j, features)
    ref = SVC(kernel="poly", degree=2, C=1.0, gamma="scale").fit(x, y)
    np.testing.assert_allclose(model.decision_function(table, i, j), ref.decision_function(x))
    np.testing.assert_array_equal(model.predict(table, i, j), ref.predict(x))
    assert model.predict(table, i, j).dtype == np.bool_


def test_symmetric_features_are_order_free() -> None:
    table, i, j, _ = _data()
    np.testing.assert_array_equal(
        pair_features(table, i, j, "symmetric"), pair_features(table, j, i, "symmetric")
    )


def test_subsample_is_stratified_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    table, i, j, y = _data()
    model = SVMPairClassifier(max_train_pairs=100)
    with caplog.at_level(logging.INFO, logger="fmri_rdm.models.svm.classifier"):
        model.fit(table, i, j, y)
    assert model.n_train_pairs == 100
    assert "100 of 435" in caplog.text
    kept = model._sample(y)
    assert abs(y[kept].mean() - y.mean()) < 0.01


def test_save_load_roundtrip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table, i, j, y = _data()
    model = SVMPairClassifier(features="symmetric").fit(table, i, j, y)
    model.save(tmp_path / "svm.joblib")
    loaded = SVMPairClassifier.load(tmp_path / "svm.joblib")
    np.testing.assert_array_equal(
        loaded.decision_function(table, i, j), model.decision_function(table, i, j)
    )


def test_rejects_bad_targets_and_config() -> None:
    table, i, j, y = _data()
    with pytest.raises(ConfigError, match="bool"):
        SVMPairClassifier().fit(table, i, j, y.astype(float))
    with pytest.raises(ConfigError, match="one class"):
        SVMPairClassifier().fit(table, i, j, np.ones_like(y))
    with pytest.raises(ConfigError):
        SVMPairClassifier(features="diff")
