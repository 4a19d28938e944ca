"""skip_completed=true: finished jobs are skipped (nothing rewritten, their metric returned),
missing, failed, stale or changed ones run, interrupted ones resume from their checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmri_rdm.entry.train import run_training
from fmri_rdm.pipeline.completed import decide, differences
from fmri_rdm.runtime.artifacts import write_json
from tests.helpers import ROOT, TINY, tiny_config

# No fitting, no resampling: a job takes a second once the embeddings are cached.
FAST = [
    "model=rsa",
    "evaluation.k_folds=2",
    "evaluation.encoding_baseline=false",
    "evaluation.n_bootstrap=0",
    "evaluation.n_permutations=0",
]


def _stamp(path: Path) -> tuple[int, int, str]:
    """(inode, mtime_ns, content): any rewrite, even atomic (new inode), changes it."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, path.read_text()


def _config(out: Path, cache: Path, *extra: str):
    return tiny_config(out, cache, [*FAST, "skip_completed=true", *extra])


def test_differences_names_every_changed_key():
    old = {"model": {"name": "rsa", "dropout": 0.5}, "seed": 0, "gone": 1}
    new = {"model": {"name": "rsa", "dropout": 0.25}, "seed": 0, "added": [1]}
    assert differences(old, new) == ["added", "gone", "model.dropout"]
    assert differences(old, old) == []
    assert differences({"a": [1, 2]}, {"a": [1, 3]}) == ["a"]


def test_finished_run_is_skipped_and_returns_its_metric(tmp_path, cache_dir):
    out = tmp_path / "run"
    first = run_training(_config(out, cache_dir))
    before = _stamp(out / "metrics.json")
    metrics = json.loads((out / "metrics.json").read_text())
    stored = metrics["optimized_metric"]["value"]
    # the fold's stage times come from the run itself (runtime.progress.stage)
    assert set(metrics["folds"][0]["seconds"]) >= {"fit", "save", "predict", "statistics"}
    assert first == pytest.approx(stored)

    # the logger, threads and the flag itself cannot change a result: still skipped
    again = run_training(_config(out, cache_dir, "logger=csv", "threads=1"))
    assert again == pytest.approx(stored)
    assert _stamp(out / "metrics.json") == before

    decision = decide(_config(out, cache_dir, "metric=euclidean"), out)
    assert not decision.skip and "metric.name" in decision.reason
    run_training(_config(out, cache_dir, "metric=euclidean"))  # a changed config re-runs
    assert json.loads((out / "metrics.json").read_text())["metric"] == "euclidean"
    assert _stamp(out / "metrics.json") != before


def test_failed_stale_and_missing_runs_are_not_complete(tmp_path, cache_dir):
    out = tmp_path / "run"
    cfg = _config(out, cache_dir)
    assert not decide(cfg, out).skip  # nothing there yet
    run_training(cfg)
    assert decide(cfg, out).skip
    metrics = out / "metrics.json"
    finished = metrics.read_text()

    # an attempt that started after this metrics.json was written (and died) makes it stale
    config_file = out / "run_config.yaml"
    later = metrics.stat().st_mtime_ns + 1_000_000
    os.utime(config_file, ns=(later, later))
    assert "older" in decide(cfg, out).reason

    write_json(metrics, {"status": "failed", "error": "DataError: broken", "config": {}})
    assert not decide(cfg, out).skip and "failed" in decide(cfg, out).reason

    checkpoint = out / "checkpoints" / "fold1-last.ckpt"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"")
    interrupted = {"status": "failed", "error": "interrupted: SIGTERM", "config": {}}
    write_json(metrics, interrupted | {"resume_from": str(checkpoint)})
    decision = decide(cfg, out)
    assert not decision.skip and decision.resume_from == str(checkpoint)

    metrics.write_text(finished[:40])  # truncated by hand: unreadable, runs again
    assert "unreadable" in decide(cfg, out).reason


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path, cache_dir, monkeypatch):
    from fmri_rdm.pipeline import completed

    out = tmp_path / "run"
    cfg = _config(out, cache_dir)
    run_training(cfg)
    checkpoint = out / "checkpoints" / "fold1-last.ckpt"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"")
    write_json(
        out / "metrics.json",
        {"status": "failed", "error": "interrupted", "resume_from": str(checkpoint)},
    )
    again = _config(out, cache_dir)
    decision = completed.skip_or_prepare(again, out)
    assert decision is not None and not decision.skip
    assert again.ckpt_path == str(checkpoint)  # the fold continues where it stopped
    given = _config(out, cache_dir, f"ckpt_path={tmp_path / 'mine.ckpt'}")
    completed.skip_or_prepare(given, out)
    assert given.ckpt_path == str(tmp_path / "mine.ckpt")  # the user's own choice wins
    off = tiny_config(out, cache_dir, FAST)
    assert completed.skip_or_prepare(off, out) is None  # the flag is off by default


def _sweep(tmp_path: Path, cache: Path, launcher: list[str]) -> subprocess.CompletedProcess:
    """A 2-job sweep into a fixed directory, as a user re-runs it."""
    args = [
        "-m",
        *TINY,
        *FAST,
        *launcher,
        "skip_completed=true",
        "metric=correlation,euclidean",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    env = dict(os.environ, FMRI_RDM_CACHE=str(cache), FMRI_RDM_ROOT=str(tmp_path))
    env.pop("ALGONAUTS_DIR", None)
    cmd = [sys.executable, str(ROOT / "train.py"), *args]
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _check_resumable_sweep(tmp_path: Path, cache: Path, launcher: list[str]) -> None:
    _sweep(tmp_path, cache, launcher)
    jobs = [tmp_path / "sweep" / str(k) / "metrics.json" for k in range(2)]
    stamps = [_stamp(p) for p in jobs]

    again = _sweep(tmp_path, cache, launcher)
    assert [_stamp(p) for p in jobs] == stamps  # nothing rewritten
    if not launcher:  # the basic launcher logs in this process (others: in their workers)
        said = again.stdout + again.stderr
        assert said.count("is complete") == 2, said[-3000:]

    jobs[1].unlink()
    _sweep(tmp_path, cache, launcher)
    assert _stamp(jobs[0]) == stamps[0]  # only the deleted job ran
    assert json.loads(jobs[1].read_text())["metric"] == "euclidean"


def test_rerun_sweep_skips_finished_jobs_and_recomputes_a_missing_one(tmp_path, cache_dir):
    _check_resumable_sweep(tmp_path, cache_dir, [])


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher",
    [["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], ["hydra/launcher=submitit_local"]],
    ids=["joblib", "submitit_local"],
)
def test_rerun_sweep_with_other_launchers(launcher, tmp_path, cache_dir):
    _check_resumable_sweep(tmp_path, cache_dir, launcher)
