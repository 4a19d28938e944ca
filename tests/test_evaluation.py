"""Scores and baselines against independent references (scipy, scikit-learn)."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from fmri_rdm.rsa import scores as ev


@pytest.fixture
def scores_pair():
    rng = np.random.default_rng(0)
    target = rng.uniform(0.2, 1.8, 200)
    prediction = target + rng.normal(0, 0.3, 200)
    return target, prediction


def test_regression_scores_match_scipy_and_sklearn(scores_pair):
    target, prediction = scores_pair
    got = ev.regression_scores(target, prediction)
    assert got["pearson"] == pytest.approx(stats.pearsonr(target, prediction)[0], abs=1e-9)
    assert got["spearman"] == pytest.approx(stats.spearmanr(target, prediction)[0], abs=1e-6)
    assert got["r2"] == pytest.approx(skm.r2_score(target, prediction), abs=1e-9)
    assert got["mse"] == pytest.approx(skm.mean_squared_error(target, prediction), abs=1e-9)


def test_constant_prediction_has_undefined_correlation():
    got = ev.regression_scores(np.array([0.1, 0.5, 0.9]), np.full(3, 0.5))
    assert got["pearson"] is None and got["spearman"] is None
    assert got["mse"] == pytest.approx(np.mean((np.array([0.1, 0.5, 0.9]) - 0.5) ** 2))


def test_classification_scores_match_sklearn():
    rng = np.random.default_rng(1)
    target = rng.random(300) > 0.4
    decision = target + rng.normal(0, 0.8, 300)
    predicted = decision > 0.5
    got = ev.classification_scores(target, predicted, decision)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(target, predicted))
    assert got["precision"] == pytest.approx(skm.precision_score(target, predicted))
    assert got["recall"] == pytest.approx(skm.recall_score(target, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(target, predicted))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(target, decision))
    cm = ev.confusion(target, predicted)
    assert cm == skm.confusion_matrix(target, predicted).tolist()
    assert sum(map(sum, cm)) == 300


def test_regression_baselines(scores_pair):
    target, prediction = scores_pair
    y_train = np.array([1.0, 1.2, 0.8])
    base = ev.regression_baselines(y_train, target, prediction, -target, seed=0)
    assert base["mean_predictor_mse"] == pytest.approx(np.mean((target - 1.0) ** 2))
    assert base["zero_training_spearman"] == pytest.approx(-1.0)
    # shuffled targets carry no information about the predictions
    assert abs(base["shuffled_pearson"]) < 0.2
    shuffled = np.random.default_rng(0).permutation(target)
    assert base["shuffled_mse"] == pytest.approx(np.mean((shuffled - prediction) ** 2))


def test_classification_baselines():
    y_train = np.array([True, True, False])
    y_test = np.array([True, False, False, True])
    base = ev.classification_baselines(
        y_train, y_test, y_test, np.array([0.9, 0.1, 0.2, 0.8]), seed=0
    )
    assert base["majority_accuracy"] == pytest.approx(0.5)
    assert base["zero_training_roc_auc"] == pytest.approx(1.0)


def test_mean_std_and_aggregation_skip_undefined():
    folds = [
        {"test": {"pearson": 0.5, "mse": 0.1}},
        {"test": {"pearson": 0.7, "mse": None}},
    ]
    agg = ev.aggregate_folds(folds, "test")
    assert agg["pearson"]["mean"] == pytest.approx(0.6)
    assert agg["pearson"]["std"] == pytest.approx(np.std([0.5, 0.7]))
    assert agg["mse"] == {"mean": pytest.approx(0.1), "std": 0.0, "n": 1}
    assert ev.mean_std([None])["mean"] is None


def _clamped(target: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """What a calibration with a clamped slope stored before issue 35: mean(y) plus 1e-6 of the
    target's spread, in float32 (a few distinct values)."""
    slope = 1e-6 * target.std() / raw.std()
    return (target.mean() + slope * (raw - raw.mean())).astype(np.float32)


def test_correlations_are_scored_on_the_raw_predictions():
    """An RDM spread over 0.03 around 0.86, as the zero-training RDM of a real set: clamped
    calibration collapses it to a few float32 values, yet Pearson and Spearman are exactly the
    uncalibrated model's and scipy's; R² and MSE are the calibrated values'."""
    rng = np.random.default_rng(3)
    target = rng.uniform(0.2, 1.8, 253)
    raw = 0.86 + 0.03 * rng.standard_normal(253) + 0.002 * target
    calibrated = _clamped(target, raw)
    assert np.unique(calibrated).size < 40  # the collapse the raw scores avoid
    got = ev.regression_scores(target, calibrated, raw)
    uncalibrated = ev.regression_scores(target, raw)
    assert (got["pearson"], got["spearman"]) == (uncalibrated["pearson"], uncalibrated["spearman"])
    assert got["pearson"] == pytest.approx(stats.pearsonr(raw, target)[0], abs=1e-12)
    assert got["spearman"] == pytest.approx(stats.spearmanr(raw, target)[0], abs=1e-6)
    assert got["mse"] == pytest.approx(skm.mean_squared_error(target, calibrated), abs=1e-12)
    assert got["r2"] == pytest.approx(skm.r2_score(target, calibrated), abs=1e-9)
    # the mapped float32 values alone give another Pearson: the bug the raw scores remove
    assert ev.regression_scores(target, calibrated)["pearson"] != pytest.approx(
        uncalibrated["pearson"], abs=1e-3
    )


@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # scipy's note on the reference
def test_near_constant_raw_predictions_keep_their_correlation():
    """Raw predictions spread over 1e-9 are still a well-defined ranking (float64)."""
    rng = np.random.default_rng(4)
    target = rng.random(100)
    raw = 0.5 + 1e-9 * (target + rng.standard_normal(100))
    got = ev.regression_scores(target, np.full(100, target.mean()), raw)
    assert got["pearson"] == pytest.approx(stats.pearsonr(raw, target)[0], abs=1e-6)
    assert got["spearman"] == pytest.approx(stats.spearmanr(raw, target)[0], abs=1e-6)
    assert got["r2"] == pytest.approx(0.0, abs=1e-12)


def test_shuffled_baseline_correlations_use_the_raw_predictions(scores_pair):
    target, raw = scores_pair
    calibrated = _clamped(target, raw)
    got = ev.regression_baselines(target, target, calibrated, raw, seed=1, raw=raw)
    plain = ev.regression_baselines(target, target, raw, raw, seed=1)
    assert got["shuffled_pearson"] == plain["shuffled_pearson"]
    assert got["shuffled_spearman"] == plain["shuffled_spearman"]
