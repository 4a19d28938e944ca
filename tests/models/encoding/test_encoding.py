"""The encoding learner against scikit-learn ridge, fitted directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.encoding.learner import EncodingLearner, himalaya_backend
from fmri_rdm.rsa.rdm import compute_rdm, rdm_values
from tests.models.fold import make_fold


def _standardised(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / x.std(0)


def test_single_alpha_equals_sklearn_ridge(fold, tmp_path):
    learner = EncodingLearner(alphas=[3.0], cv=3)
    learner.fit(fold)
    train = fold.train_images
    x = fold.table
    mean, std = x[train].mean(0), x[train].std(0)
    ref = Ridge(alpha=3.0).fit((x[train] - mean) / std, fold.responses[train])
    expected = ref.predict((x - mean) / std)
    np.testing.assert_allclose(learner.predict_responses(x), expected, rtol=1e-4, atol=1e-4)
    # a pair's dissimilarity is the RDM of the predicted responses
    test = np.arange(30, 40)
    i, j = np.array([30, 31, 35]), np.array([33, 39, 36])
    pred_rdm = compute_rdm(expected[test], "correlation")
    want = rdm_values(pred_rdm, i - 30, j - 30, len(test))
    np.testing.assert_allclose(learner.predict(x, i, j), want, atol=1e-5)
    # and it survives save / load
    learner.save(tmp_path, 0)
    again = EncodingLearner.load(tmp_path, 0, cfg=None)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.predict(x, i, j), learner.predict(x, i, j))


def test_alpha_per_voxel_matches_a_direct_cross_validation(tmp_path):
    fold = make_fold(n=60, d=10, v=6, n_train=50, seed=3, tmp=tmp_path)
    alphas = [0.01, 1.0, 30.0, 1000.0]
    learner = EncodingLearner(alphas=alphas, cv=5)
    learner.fit(fold)
    x = _standardised(fold.table[fold.train_images])
    y = fold.responses[fold.train_images]
    scores = np.zeros((len(alphas), y.shape[1]))
    for train, val in KFold(5, shuffle=True, random_state=fold.seed).split(x):
        for a, alpha in enumerate(alphas):
            pred = Ridge(alpha=alpha).fit(x[train], y[train]).predict(x[val])
            scores[a] += r2_score(y[val], pred, multioutput="raw_values")
    expected = np.asarray(alphas)[scores.argmax(0)]
    np.testing.assert_allclose(learner.state["best_alphas"], expected, rtol=1e-6)


def test_bad_settings_are_config_errors(fold):
    with pytest.raises(ConfigError, match="alphas"):
        EncodingLearner(alphas=[-1.0])
    with pytest.raises(ConfigError, match="backend"):
        himalaya_backend("jax")
    with pytest.raises(ConfigError, match="training images"):
        EncodingLearner(cv=20).fit(fold)
    assert himalaya_backend("auto", "cpu") == "torch"
    assert himalaya_backend("numpy", "gpu") == "numpy"


def test_alpha_grid_warning_names_the_real_key_once_per_run(fold, caplog):
    """A grid of huge alphas only: every voxel chooses its smallest value. The advice names
    where the grid lives (the baseline's `evaluation.encoding_model.*`, the run's `model.*`
    for model=encoding) and is given once per run, not once per fold."""
    from fmri_rdm.runtime.once import new_run

    new_run()
    baseline = dict(alphas=[1e6, 1e7], cv=3, config_key="evaluation.encoding_model")
    with caplog.at_level("WARNING", logger="fmri_rdm.models.encoding.learner"):
        for _ in range(3):  # three folds
            EncodingLearner(**baseline).fit(fold)  # type: ignore[arg-type]
    warnings = [r.getMessage() for r in caplog.records if "alpha" in r.getMessage()]
    assert warnings == [
        "encoding baseline: 100% of units chose the smallest alpha (1e+06): widen the grid "
        "with evaluation.encoding_model.log10_alpha_min (shown once per run)"
    ]
    caplog.clear()
    with caplog.at_level("WARNING", logger="fmri_rdm.models.encoding.learner"):
        EncodingLearner(alphas=[1e6, 1e7], cv=3).fit(fold)  # model=encoding: another key
        new_run()  # the next job of a sweep warns again
        EncodingLearner(alphas=[1e6, 1e7], cv=3).fit(fold)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert all(m.startswith("encoding model: ") and "model.log10_alpha_min" in m for m in messages)
    assert not any("evaluation." in m for m in messages)
