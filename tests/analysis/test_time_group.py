"""`compare --across subject` on time-resolved runs: the group time course per model, its
clusters, onset and peak, the difference of two models, the figures, and what it equals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.data.synthetic_time import generate_time_folder
from fmri_rdm.stats.time_group import group_time_courses
from tests.test_folder_runs import folder_config

TIMES = np.arange(0.0, 60.0, 10.0)
QUICK = [
    "evaluation.time.n_bootstrap=20",
    "evaluation.encoding_baseline=false",
    "evaluation.calibration=none",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    from fmri_rdm.pipeline.experiment import run

    base = tmp_path_factory.mktemp("timegroup")
    root = generate_time_folder(
        base / "ds", n_subjects=3, n_images=24, n_units=12, times_ms=TIMES, onset_ms=10,
        switch_ms=30, seed=3,
    )  # fmt: skip
    cache = base / "cache"
    for k, model in enumerate(["rsa", "encoding"]):
        for s in range(1, 4):
            extra = [*QUICK, f"model={model}"]
            out = base / "sweep" / f"{k}_{s}"
            run(folder_config(out, cache, root, f"sub-0{s}", "MEG", extra))
    return base / "sweep"


@pytest.mark.slow  # six runs (two models x three subjects) over six windows: ~3 min on 2 cores
def test_group_time_courses_from_the_runs(sweep, tmp_path, capsys):
    from fmri_rdm.compare import main as compare_main

    runs = sorted(str(p) for p in sweep.iterdir())
    out = tmp_path / "group"
    assert compare_main([*runs, "--across", "subject", "--out", str(out), "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "time course (spearman) model=rsa: onset" in printed
    result = json.loads((out / "time_course_group.json").read_text())
    assert set(result["groups"]) == {"model=rsa", "model=encoding"}
    pair = {result["difference"]["a"], result["difference"]["b"]}
    assert pair == {"model=rsa", "model=encoding"} and result["difference"]["tail"] == 0
    for name in ("time_course_group.png", "time_course_difference.png"):
        assert (out / name).is_file()
    # the group statistics are those of the subjects' fold-mean courses from metrics.json
    courses = {}
    for run in runs:
        metrics = json.loads((Path(run) / "metrics.json").read_text())
        model = f"model={metrics['model']}"
        values = metrics["time_course"]["scores"]["spearman"]["mean"]
        courses.setdefault(model, {})[metrics["subject"]] = np.asarray(values, dtype=float)
    want = group_time_courses({"model=rsa": courses["model=rsa"]}, TIMES, n_boot=50)
    assert result["groups"]["model=rsa"]["mean"] == pytest.approx(
        want["models"]["model=rsa"]["mean"]
    )
    assert result["groups"]["model=rsa"]["clusters"] == want["models"]["model=rsa"]["clusters"]


def _fake(tmp_path: Path, times: np.ndarray, values: dict) -> tuple:
    """A GroupAnalysis and Runs of (model, subject) -> (T,) courses, without running."""
    import pandas as pd

    from fmri_rdm.analysis.group import GroupAnalysis
    from fmri_rdm.analysis.runs import Run
    from fmri_rdm.reporting.results import RunMetrics

    runs, rows = [], []
    for (model, subject), course in values.items():
        metrics = {"time_course": {"times_ms": times.tolist(),
                                   "scores": {"spearman": {"mean": list(course)}}}}  # fmt: skip
        path = tmp_path / f"{model}_{subject}"
        runs.append(Run(path, RunMetrics.from_json({"model": model}), metrics))
        rows.append({"model": model, "subject": subject, "dir": str(path)})
    frame = pd.DataFrame(rows)
    return GroupAnalysis(["model"], "model", "B", frame, frame, frame), runs


def test_time_group_pairs_the_reference_and_checks_windows(tmp_path):
    from fmri_rdm.analysis.time_group import summary_lines, time_group, write_time_group
    from fmri_rdm.errors import DataError

    rng = np.random.default_rng(0)
    times = np.arange(0.0, 200.0, 10.0)
    values = {
        (m, f"s{k}"): (0.3 * (times >= start) + rng.normal(0, 0.1, times.size))
        for m, start in (("A", 50), ("B", 120))
        for k in range(6)
    }
    analysis, runs = _fake(tmp_path, times, values)
    result = time_group(analysis, runs, n_permutations=200, n_boot=50)
    assert result is not None
    assert (result["difference"]["a"], result["difference"]["b"]) == ("model=A", "model=B")
    assert abs(result["groups"]["model=A"]["onset"]["ms"] - 50) <= 10
    paths = write_time_group(result, tmp_path / "out")
    assert all(p.is_file() for p in paths.values())
    assert len(summary_lines(result)) == 3
    values[("B", "s0")] = values[("B", "s0")][:-1]
    analysis, runs = _fake(tmp_path, times, values)
    runs[-6].metrics["time_course"]["times_ms"] = times[:-1].tolist()
    with pytest.raises(DataError, match="windows differ"):
        time_group(analysis, runs, n_permutations=50, n_boot=10)
