"""comparison_models.png: the pairwise tests against scipy's paired t-test with a hand Holm
correction, and the figure drawn from a group analysis."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fmri_rdm.plots.model_comparison import pairwise_tests, plot_model_comparison


def _scores() -> list[pd.Series]:
    subjects = ["s1", "s2", "s3", "s4", "s5"]
    rng = np.random.default_rng(0)
    base = rng.random(5)
    return [
        pd.Series(base + 0.5 + 0.01 * rng.standard_normal(5), index=subjects),
        pd.Series(base + 0.1 * rng.standard_normal(5), index=subjects),
        pd.Series(base[:4] + 0.3, index=subjects[:4]),  # one subject missing
    ]


def test_pairwise_tests_are_paired_t_with_holm() -> None:
    scores = _scores()
    found = pairwise_tests(scores)
    assert [(a, b) for a, b, *_ in found] == [(0, 1), (0, 2), (1, 2)]
    raw = []
    for a, b, p, _ in found:
        shared = scores[a].index.intersection(scores[b].index)
        ref = stats.ttest_rel(scores[a][shared], scores[b][shared]).pvalue
        assert p == pytest.approx(ref, rel=1e-12)
        raw.append(ref)
    order = np.argsort(raw)  # Holm by hand: (m - k) p_(k), running maximum, capped at 1
    steps = np.maximum.accumulate([min(1.0, (3 - k) * raw[i]) for k, i in enumerate(order)])
    for k, i in enumerate(order):
        assert found[i][3] == pytest.approx(steps[k], rel=1e-12)


def test_figure_is_written(tmp_path: Path) -> None:
    scores = _scores()
    table = pd.DataFrame(
        {
            "model.rdm": ["a", "b", "c"],
            "test_pearson_mean": [s.mean() for s in scores],
            "test_pearson_ci_low": [s.mean() - 0.1 for s in scores],
            "test_pearson_ci_high": [s.mean() + 0.1 for s in scores],
            "noise_ceiling_sessions_lower_mean": [0.8] * 3,
            "noise_ceiling_sessions_upper_mean": [0.9] * 3,
        }
    )
    subjects = pd.DataFrame(
        [
            {"model.rdm": name, "subject": subj, "test_pearson": v}
            for name, s in zip("abc", scores, strict=True)
            for subj, v in s.items()
        ]
    )
    analysis = SimpleNamespace(table=table, subjects=subjects, keys=["model.rdm"])
    path = plot_model_comparison(tmp_path / "models.png", analysis)  # type: ignore[arg-type]
    assert path.stat().st_size > 0
