"""What the printed table alone leaves unsaid is one `note:` line: a siamese that kept its rsa
prior, a very negative test R², why no noise ceiling is shown; and the table fits 80 columns."""

from __future__ import annotations

from typing import Any

import pytest

from fmri_rdm.entry.train import print_results
from fmri_rdm.reporting.notes import notes
from fmri_rdm.reporting.results import RunMetrics


def _metrics(**extra: Any) -> dict[str, Any]:
    folds = [
        {"fold": k, "test": {"pearson": 0.3, "r2": 0.1, "mse": 0.02}, "prior": "rsa",
         "kept": "prior" if k < 2 else "network",
         "baselines": {"mean_predictor_mse": 0.02}}
        for k in range(3)
    ]  # fmt: skip
    return {
        "model": "siamese", "subject": "sub-01", "roi": "inter_subject_spearman_IT",
        "metric": "correlation", "n_images": 92, "folds": folds,
        "test": {
            "pearson": {"mean": 0.312, "std": 0.051, "ci_low": -0.123, "ci_high": 0.456,
                        "p_value": 0.0123},
            "spearman": {"mean": 0.3, "std": 0.05, "ci_low": -0.1, "ci_high": 0.4},
        },
        "baselines": {"zero_training_spearman": {"mean": -0.012, "std": 0.034}},
        "noise_ceiling": {
            "inter_subject_spearman_lower": {"mean": 0.123, "std": 0.045},
            "inter_subject_spearman_upper": {"mean": 0.456, "std": 0.078},
        },
        "inter_subject": {"subjects": ["sub-02"], "n_images_shared": 92},
        **extra,
    }  # fmt: skip


def test_the_kept_prior_is_said_and_the_table_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    print_results(_metrics())
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    table = [x for x in out.splitlines() if "[-0.123, 0.456] p=0.0123" in x]
    assert len(table) == 1 and "0.312 ± 0.051" in table[0]  # one row, not wrapped
    assert "inter_subject_spearman_upper" in out
    assert "note: siamese kept its rsa prior in 2 of 3 folds" in " ".join(out.split())


def test_a_very_negative_r2_is_a_note():
    metrics = _metrics(model="frrsa")
    for f in metrics["folds"]:
        f.pop("kept")
        f["test"] |= {"r2": -2.7, "mse": 0.08}
    metrics["test"]["r2"] = {"mean": -2.7, "std": 0.3}
    (line,) = notes(RunMetrics.from_json(metrics))
    assert line.startswith("frrsa: test R² -2.70, MSE 4.0 x the mean predictor's")
    metrics["test"]["r2"]["mean"] = -0.5  # a poor fit, not far off the scale: no note
    assert notes(RunMetrics.from_json(metrics)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"kind": "responses"}, "responses without repeats: no within-subject ceiling"),
        ({"kind": "rdm", "n_sessions": 1}, "1 session: no within-subject ceiling"),
    ],
)
def test_why_no_ceiling_is_shown(data, reason):
    metrics = _metrics(noise_ceiling={}, data=data, inter_subject=None)
    for f in metrics["folds"]:
        f.pop("kept")
    (line,) = notes(RunMetrics.from_json(metrics))
    assert line == (
        "no noise ceiling: no inter-subject ceiling (evaluation.noise_ceiling=inter_subject: "
        f"needs other subjects with the same stimuli); {reason}"
    )
