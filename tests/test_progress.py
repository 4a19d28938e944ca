"""Progress lines (elapsed, time left, jobs done / total), stage timers, sweep facts."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from fmri_rdm.runtime import progress as progress_lib
from fmri_rdm.runtime.progress import RunProgress, clock, stage, stage_seconds
from fmri_rdm.runtime.sweep import Sweep, finished_jobs, sweep_overrides, swept_values


def test_clock():
    assert clock(4.26) == "4.3 s"
    assert clock(61) == "1:01"
    assert clock(3 * 3600 + 5 * 60 + 9.6) == "3:05:10"


def test_stages_are_recorded_per_fold_and_nowhere_else(monkeypatch):
    with stage("fit"):
        pass
    assert stage_seconds() == {}  # outside a fold: nothing recorded, nothing raised
    now = [100.0]
    monkeypatch.setattr(progress_lib.time, "perf_counter", lambda: now[0])
    run = RunProgress(3, started=90.0, from_hydra=False)
    run.start(0)
    with stage("fit"):
        now[0] += 2.0
    with stage("fit"):  # a stage timed twice in one fold adds up
        now[0] += 1.0
    with stage("predict"):
        now[0] += 0.5
    assert stage_seconds() == {"fit": 3.0, "predict": 0.5}
    now[0] += 0.5
    run.done()
    assert stage_seconds() == {}
    assert run.stages[0] == {"fit": 3.0, "predict": 0.5}
    assert run.fold_seconds == [4.0]
    assert run.seconds_left() == pytest.approx(8.0)  # 2 folds left at 4 s each
    assert run.line() == "fold 1/3 done in 4.0 s · run 14.0 s elapsed, ~8.0 s left"


def test_fold_that_raises_logs_no_line(caplog):
    run = RunProgress(2, started=time.perf_counter(), from_hydra=False)
    with pytest.raises(ValueError), run.fold(0):
        raise ValueError("boom")
    assert run.fold_seconds == [] and stage_seconds() == {}


def test_progress_line_of_a_sweep_job(tmp_path, caplog):
    for k, status in enumerate(["done", "failed", "done"]):
        (tmp_path / str(k)).mkdir()
        record = {"status": "failed"} if status == "failed" else {"test": {}}
        (tmp_path / str(k) / "metrics.json").write_text(json.dumps(record))
    (tmp_path / "3").mkdir()
    (tmp_path / "3" / "metrics.json").write_text("{trunc")  # being written
    assert finished_jobs(tmp_path) == 2
    sweep = Sweep(tmp_path, job=4, n_jobs=12, overrides=())
    run = RunProgress(2, started=time.perf_counter(), sweep=sweep)
    with caplog.at_level(logging.INFO, logger="fmri_rdm.runtime.progress"):
        with run.fold(0):
            pass
        with run.fold(1):
            pass
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("fold 1/2 done in ")
    assert lines[0].endswith(" left · sweep job 5/12 (2 finished)")
    assert "finishing · sweep job 5/12" in lines[1]


def test_sweep_overrides_and_swept_values(tmp_path: Path):
    task = ["embeddings=thingsvision", "embeddings.module_name=a.b,c", "seed=3"]
    OmegaConf.save({"hydra": {"overrides": {"task": task}}}, tmp_path / "multirun.yaml")
    found = sweep_overrides(tmp_path)
    assert found == task
    assert swept_values(found, "embeddings.module_name") == ["a.b", "c"]
    assert swept_values(found, "seed") == ["3"]
    assert swept_values(found, "model") is None
    assert swept_values(["x=choice(1,2)"], "x") == ["1", "2"]
    assert sweep_overrides(tmp_path / "missing") is None
