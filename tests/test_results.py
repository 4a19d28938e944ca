"""The metrics.json contract: written once (`RunMetrics.from_folds`, `FailedRun`), read back by
typed accessors, tolerant of older runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmri_rdm.reporting.results import FailedRun, RunMetrics, from_json, read_metrics
from fmri_rdm.rsa.scores import mean_std
from tests.helpers import sweep_metrics


def test_from_folds_aggregates_and_round_trips() -> None:
    data = sweep_metrics(1)
    folds = data["folds"]
    assert data["test"]["pearson"] == mean_std(f["test"]["pearson"] for f in folds)
    assert data["n_pairs_train"] == 100 and data["n_pairs_test"] == 20
    assert data["optimized_metric"] == {
        "name": "test.pearson.mean",
        "value": data["test"]["pearson"]["mean"],
    }
    assert data["pretrained"] == "openai" and data["random_init"] is False
    assert "inter_subject" not in data  # only written when there is one
    again = RunMetrics.from_json(json.loads(json.dumps(data))).to_json()
    assert again == data and list(again) == list(data)  # same keys, same order


def test_typed_accessors() -> None:
    run = RunMetrics.from_json(sweep_metrics(1))
    assert run.test_score("pearson") == pytest.approx(0.4)
    assert run.baseline("encoding_pearson") == pytest.approx(0.35)
    assert run.ceiling("pearson") == pytest.approx(0.95)
    assert run.baseline("nope") is None and run.test_score("roc_auc") is None
    assert run.value("test.pearson.mean") == pytest.approx((0.4, 0.02))
    assert run.value("test.pearson") == run.value("test.pearson.mean")
    assert run.value("seconds.training") == (11.0, None)
    assert run.value("test.nope.mean") == (None, None)
    assert run.fit_seconds == 2 * 3.0  # two folds of 3 s each
    assert [f.fold for f in run.folds] == [0, 1]
    assert run.folds[0].score("pearson") == pytest.approx(0.38)
    assert run.flat()["test.pearson.mean"] == run.test_score("pearson")
    assert run.optimized_name == "test.pearson.mean" and run.task == "regression"


def test_older_runs_read_with_defaults() -> None:
    old = RunMetrics.from_json({"model": "svm", "folds": [{"fold": 0, "test": {"roc_auc": 0.7}}]})
    assert old.task == "classification"  # before the "task" key, svm was the classifier
    assert old.fit_seconds is None and old.optimized_name is None
    assert old.folds[0].interval("roc_auc") is None and old.folds[0].p_value("roc_auc") is None
    assert RunMetrics.from_json({"model": "mlp"}).task == "regression"
    kept = RunMetrics.from_json({"model": "mlp", "custom": 1})
    assert kept.extra == {"custom": 1} and kept.to_json()["custom"] == 1


def test_failed_run_layout(tmp_path: Path) -> None:
    failed = FailedRun("DataError: gone", {"model": {"name": "rsa"}}, {"resume_from": "x.ckpt"})
    data = failed.to_json()
    assert list(data) == ["status", "error", "resume_from", "config"]
    assert data["status"] == "failed"
    back = from_json(data)
    assert isinstance(back, FailedRun) and back.to_json() == data and back.model == "rsa"
    (tmp_path / "metrics.json").write_text("{not json")
    result, raw = read_metrics(tmp_path)
    assert isinstance(result, FailedRun) and raw is None
    assert result.error.startswith("unreadable metrics.json:")
    (tmp_path / "metrics.json").write_text("[1, 2]")
    assert read_metrics(tmp_path)[0].error == "metrics.json is not a JSON object"  # type: ignore[union-attr]
