"""Scores of one fold and their aggregation: model metrics beside chance baselines.

Every score a run reports sits beside the numbers that make it interpretable: predicting the
training mean, the model's own predictions against shuffled targets (chance), the zero-training
baseline (the raw-embedding RDM read as a prediction) and, on synthetic data, the noise ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sklearn import metrics as skm
from torchmetrics import functional as tmf

REGRESSION_METRICS = ("pearson", "spearman", "r2", "mse")
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def _finite(value: float) -> float | None:
    """JSON-safe float: NaN/inf (e.g. correlation with a constant vector) become None."""
    return float(value) if math.isfinite(value) else None


def regression_scores(
    target: np.ndarray, prediction: np.ndarray, raw: np.ndarray | None = None
) -> dict[str, float | None]:
    """Pearson, Spearman, R² and MSE of predictions (P,) against targets (P,), in float64.

    raw: (P,) the learner's own predictions before calibration (None: `prediction` is them).
    Pearson and Spearman are scored on `raw`, R² and MSE on `prediction`: a correlation does
    not depend on a calibration's affine map, so it is never computed from the mapped values
    (a clamped slope of 1e-6 leaves them a few distinct values in float32, issue 35).
    """
    t = torch.as_tensor(np.asarray(target, dtype=np.float64))
    p = torch.as_tensor(np.asarray(prediction, dtype=np.float64))
    r = p if raw is None else torch.as_tensor(np.asarray(raw, dtype=np.float64))
    if t.numel() < 2:
        return dict.fromkeys(REGRESSION_METRICS)
    constant = bool(torch.all(r == r[0])) or bool(torch.all(t == t[0]))
    return {
        "pearson": None if constant else _finite(tmf.pearson_corrcoef(r, t).item()),
        "spearman": None if constant else _finite(tmf.spearman_corrcoef(r, t).item()),
        "r2": _finite(tmf.r2_score(p, t).item()),
        "mse": _finite(tmf.mean_squared_error(p, t).item()),
    }


def classification_scores(
    target: np.ndarray, predicted: np.ndarray, decision: np.ndarray
) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1 (positive = dissimilar), ROC-AUC of the decision values."""
    target = np.asarray(target, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    both_classes = target.any() and (~target).any()
    return {
        "accuracy": float(skm.accuracy_score(target, predicted)),
        "precision": float(skm.precision_score(target, predicted, zero_division=0)),
        "recall": float(skm.recall_score(target, predicted, zero_division=0)),
        "f1": float(skm.f1_score(target, predicted, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(target, decision)) if both_classes else None,
    }


def confusion(target: np.ndarray, predicted: np.ndarray) -> list[list[int]]:
    """2x2 confusion matrix, rows = true (similar, dissimilar), columns = predicted."""
    return skm.confusion_matrix(target, predicted, labels=[False, True]).tolist()


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation of two vectors (None when undefined)."""
    return regression_scores(a, b)["spearman"]


def regression_baselines(
    y_train: np.ndarray,
    y_test: np.ndarray,
    prediction: np.ndarray,
    embedding_distance: np.ndarray,
    *,
    seed: int,
    raw: np.ndarray | None = None,
) -> dict[str, float | None]:
    """Chance and zero-training baselines of one regression fold, all on the same test pairs.
    raw: the uncalibrated predictions (the shuffled correlations use them, as the model's).

    - mean_predictor_*: predict the mean of the training targets for every test pair.
    - shuffled_*: the model's predictions scored against a seeded permutation of the test
      targets (what the same predictions score when they carry no pair information).
    - zero_training_*: the raw embedding dissimilarity of each test pair used as the prediction
      (rank metrics only: its scale is not the brain RDM's).
    """
    mean_pred = np.full_like(y_test, float(np.mean(y_train)), dtype=np.float64)
    mean_scores = regression_scores(y_test, mean_pred)
    shuffled = np.random.default_rng(seed).permutation(y_test)
    shuffled_scores = regression_scores(shuffled, prediction, raw)
    zero = regression_scores(y_test, embedding_distance)
    return {
        "mean_predictor_mse": mean_scores["mse"],
        "mean_predictor_r2": mean_scores["r2"],
        "shuffled_mse": shuffled_scores["mse"],
        "shuffled_pearson": shuffled_scores["pearson"],
        "shuffled_spearman": shuffled_scores["spearman"],
        "zero_training_spearman": zero["spearman"],
        "zero_training_pearson": zero["pearson"],
    }


def classification_baselines(
    y_train: np.ndarray,
    y_test: np.ndarray,
    predicted: np.ndarray,
    embedding_distance: np.ndarray,
    *,
    seed: int,
) -> dict[str, float | None]:
    """Chance and zero-training baselines of one classification fold.

    - majority_accuracy: always predicting the training set's majority class.
    - shuffled_accuracy / shuffled_f1: the model's predictions against permuted test labels.
    - zero_training_roc_auc: the raw embedding distance as a score for "dissimilar";
      zero_training_spearman: its rank correlation with the binary targets.
    """
    y_train = np.asarray(y_train, dtype=bool)
    y_test = np.asarray(y_test, dtype=bool)
    majority = bool(y_train.mean() >= 0.5)
    shuffled = np.random.default_rng(seed).permutation(y_test)
    both = y_test.any() and (~y_test).any()
    return {
        "majority_accuracy": float(np.mean(y_test == majority)),
        "shuffled_accuracy": float(skm.accuracy_score(shuffled, predicted)),
        "shuffled_f1": float(skm.f1_score(shuffled, predicted, zero_division=0)),
        "zero_training_roc_auc": float(skm.roc_auc_score(y_test, embedding_distance))
        if both
        else None,
        "zero_training_spearman": spearman(y_test.astype(np.float64), embedding_distance),
    }


def mean_std(values: Iterable[float | None]) -> dict[str, float | None]:
    """Mean and (population) standard deviation over folds, ignoring undefined values."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {"mean": None, "std": None, "n": 0}
    arr = np.asarray(finite, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std()), "n": len(finite)}


def aggregate_folds(folds: Sequence[Mapping[str, Any]], section: str) -> dict:
    """{name: {mean, std, n}} over folds for every metric in `section` of the per-fold dicts."""
    names: list[str] = []
    for fold in folds:
        names.extend(k for k in fold.get(section, {}) if k not in names)
    return {name: mean_std(fold.get(section, {}).get(name) for fold in folds) for name in names}
