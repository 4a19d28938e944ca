"""Faults: interrupted training resumes to the same result, killed or concurrent embedding
extractions never leave or use a partial cache, metrics.json is written atomically, and the
same seed gives the same numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from fmri_rdm.data.algonauts import image_paths
from fmri_rdm.embeddings import ClipEmbedder, cached_embeddings
from fmri_rdm.pipeline.experiment import run
from fmri_rdm.runtime.artifacts import write_json
from tests.helpers import ROOT, TINY, tiny_config, train_py

SMALL = "embeddings.model_name=ViT-S-32-alt"  # random-init small CLIP, fast on 2 cores
BASE = [*TINY, SMALL, "model=mlp", "model.net.dropout=0.2", "evaluation.k_folds=2"]
SAME_SEED = [*BASE, "evaluation.folds=[1]"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults_cache")


def _numbers(metrics: dict[str, Any]) -> dict[str, Any]:
    """metrics.json without timings and file paths: what must repeat exactly."""
    out = {k: v for k, v in metrics.items() if k != "seconds"}
    timing = ("best_checkpoint", "seconds")
    out["folds"] = [{k: v for k, v in f.items() if k not in timing} for f in out["folds"]]
    return out


def _popen(args: list[str], cache: Path, cwd: Path, **kwargs: Any) -> subprocess.Popen:
    env = dict(os.environ, FMRI_RDM_CACHE=str(cache), FMRI_RDM_ROOT=str(cwd))
    env.pop("ALGONAUTS_DIR", None)
    return subprocess.Popen(args, cwd=cwd, env=env, text=True, **kwargs)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"process ended (status {proc.returncode}) before {path}"
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.02)


# ------------------------------------------------------------------ reproducibility, atomicity
def test_same_seed_gives_identical_metrics_json(tmp_path, cache):
    first, second = tmp_path / "first", tmp_path / "second"
    run(tiny_config(first, cache, SAME_SEED))
    run(tiny_config(second, cache, SAME_SEED))
    a = json.loads((first / "metrics.json").read_text())
    b = json.loads((second / "metrics.json").read_text())
    assert a["test"]["pearson"]["mean"] is not None
    assert _numbers(a) == _numbers(b)


_WRITER = """
import os, sys, time
from pathlib import Path
from fmri_rdm.runtime.artifacts import write_json

def stall(fd):  # the whole new text is in the temp file; hold here until killed
    print("writing", flush=True)
    time.sleep(600)

os.fsync = stall
write_json(Path(sys.argv[1]), {"status": "new", "values": list(range(100000))})
"""


def test_metrics_json_killed_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"status": "old"})
    proc = _popen(
        [sys.executable, "-c", _WRITER, str(target)], tmp_path, tmp_path, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait(timeout=30)
    assert json.loads(target.read_text()) == {"status": "old"}


# ------------------------------------------------------------------ embedding extraction
_EXTRACT = """
import sys, time
from pathlib import Path
import fmri_rdm.embeddings.clip as clip
from fmri_rdm.embeddings import ClipEmbedder, cached_embeddings

cache, paths = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
batches = clip.device_batches

def reported(*args, **kwargs):
    for k, batch in enumerate(batches(*args, **kwargs)):
        print(f"batch {k}", flush=True)
        time.sleep(0.05)
        yield batch

clip.device_batches = reported
embedder = ClipEmbedder("ViT-S-32-alt", pretrained=None, batch_size=4, num_workers=0, device="cpu")
cached_embeddings(embedder, paths, cache)
print("done", flush=True)
"""


def _embedder() -> ClipEmbedder:
    return ClipEmbedder("ViT-S-32-alt", pretrained=None, batch_size=4, num_workers=0, device="cpu")


def test_extraction_killed_half_way_is_recomputed_cleanly(synthetic_root, tmp_path, caplog):
    paths = image_paths(synthetic_root, 1)
    cache = tmp_path / "cache"
    args = [sys.executable, "-c", _EXTRACT, str(cache), *map(str, paths)]
    proc = _popen(args, tmp_path, ROOT, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    for line in proc.stdout:
        assert line.strip() != "done", "the extraction finished before it could be killed"
        if line.strip() == f"batch {len(paths) // 4 // 2}":  # half of the batches
            proc.send_signal(signal.SIGKILL)
            break
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not list((cache / "embeddings").glob("*.npy"))
    with caplog.at_level("INFO", logger="fmri_rdm.embeddings.cache"):
        again = cached_embeddings(_embedder(), paths, cache)
    assert "cache miss" in caplog.text
    assert again.shape[0] == len(paths) and np.isfinite(again).all()
    np.testing.assert_array_equal(again, cached_embeddings(_embedder(), paths, cache))
    assert len(list((cache / "embeddings").glob("*.npy"))) == 1


class _Embedder:
    """Instant embeddings (one row per image): this test is about the cache files."""

    backend, cacheable = "instant", True

    def embed(self, paths):
        return np.arange(len(paths) * 64, dtype=np.float32).reshape(len(paths), 64)

    def cache_key(self):
        return {"backend": self.backend}

    def describe(self):
        return {"backend": self.backend, "model": None, "pretrained": None, "random_init": False}


def _stall_in_write(paths, cache, writing) -> None:
    def stall(fd):  # the temp file is written; hold before the rename until killed
        writing.set()
        time.sleep(600)

    os.fsync = stall
    cached_embeddings(_Embedder(), paths, cache)


def test_extraction_killed_while_writing_the_cache_leaves_no_cache_file(synthetic_root, tmp_path):
    import multiprocessing

    paths, cache = image_paths(synthetic_root, 1), tmp_path / "cache"
    ctx = multiprocessing.get_context("fork")
    writing = ctx.Event()
    child = ctx.Process(target=_stall_in_write, args=(paths, cache, writing))
    child.start()
    assert writing.wait(timeout=60)
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=30)
    folder = cache / "embeddings"
    assert not list(folder.glob("*.npy")) and len(list(folder.glob(".*.tmp"))) == 1
    again = cached_embeddings(_Embedder(), paths, cache)  # the temp file is never read
    np.testing.assert_array_equal(again, _Embedder().embed(paths))
    np.testing.assert_array_equal(np.load(next(folder.glob("*.npy"))), again)


def _extract_in_job(paths: list[Path], cache: Path) -> np.ndarray:
    embedder = ClipEmbedder("ViT-S-32-alt", pretrained=None, num_workers=2, device="cpu")
    return cached_embeddings(embedder, paths, cache)


def test_two_joblib_workers_extract_the_same_embeddings_at_once(synthetic_root, tmp_path):
    """What two jobs of `hydra/launcher=joblib` do: loky workers, DataLoader workers inside."""
    from joblib import Parallel, delayed

    paths, cache = image_paths(synthetic_root, 1), tmp_path / "cache"
    jobs = Parallel(n_jobs=2, backend="loky")(delayed(_extract_in_job)(paths, cache) for _ in "ab")
    np.testing.assert_array_equal(jobs[0], jobs[1])
    folder = cache / "embeddings"
    assert len(list(folder.glob("*.npy"))) == 1 and len(list(folder.glob("*.json"))) == 1
    assert not list(folder.glob(".*.tmp"))
    np.testing.assert_array_equal(np.load(next(folder.glob("*.npy"))), jobs[0])


@pytest.mark.slow
def test_two_jobs_of_a_joblib_multirun_extract_the_same_embeddings(tmp_path):
    cache = tmp_path / "cache"  # empty: both jobs generate the data and extract embeddings
    args = [
        "-m",
        *TINY,
        "model=mlp",
        "model.hidden_layers=0,1",
        "evaluation.k_folds=2",
        "evaluation.folds=[0]",
        "trainer.max_epochs=1",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    ]
    result = train_py(args, cache, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p.parent for p in (tmp_path / "multirun").glob("*/*/*/metrics.json"))
    assert len(jobs) == 2
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["model"] == "mlp"
    folder = cache / "embeddings"
    assert len(list(folder.glob("*.npy"))) == 1 and len(list(folder.glob("*.json"))) == 1
    assert not list(folder.glob(".*.tmp"))
    logs = [(job / "train.log").read_text() for job in jobs]
    misses = sum("embedding cache miss" in text for text in logs)
    assert misses >= 1  # usually 2: both extracted at the same time


# ------------------------------------------------------------------ interrupt and resume
RESUME = [
    *BASE,
    "evaluation.folds=[0]",
    "trainer.max_epochs=6",
    "training.batch_size=32",  # 13 steps an epoch: time to interrupt after the first one
]


def _interrupt_and_resume(signum: int, tmp_path: Path, cache: Path) -> None:
    train = [sys.executable, str(ROOT / "train.py"), *RESUME]
    full = _popen(
        [*train, f"hydra.run.dir={tmp_path / 'full'}"],
        cache,
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    part = _popen(
        [*train, f"hydra.run.dir={tmp_path / 'part'}"],
        cache,
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    last = tmp_path / "part" / "checkpoints" / "fold0-last.ckpt"
    _wait_for(last, part)
    part.send_signal(signum)
    _, err = part.communicate(timeout=300)
    assert part.returncode == 128 + signum, err[-3000:]
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    name = signal.Signals(signum).name
    assert line.startswith(f"interrupted: {name} stopped fold 0 during epoch "), err[-3000:]
    assert line.endswith(f"; resume with the same command plus ckpt_path={last}")
    stopped = json.loads((tmp_path / "part" / "metrics.json").read_text())
    assert stopped["status"] == "failed" and stopped["resume_from"] == str(last)
    assert torch.load(last, weights_only=True)["epoch"] < 5  # really stopped early

    resumed = _popen(
        [*train, f"hydra.run.dir={tmp_path / 'resumed'}", f"ckpt_path={last}"],
        cache,
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for proc in (full, resumed):
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    a = json.loads((tmp_path / "full" / "metrics.json").read_text())
    b = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert _numbers(a) == _numbers(b)
    assert a["folds"][0]["epochs"] == b["folds"][0]["epochs"] == 6
    weights = [
        torch.load(tmp_path / run / "checkpoints" / "fold0-last.ckpt", weights_only=True)
        for run in ("full", "resumed")
    ]
    assert weights[0]["epoch"] == weights[1]["epoch"] == 5
    for key, value in weights[0]["state_dict"].items():
        assert torch.equal(value, weights[1]["state_dict"][key]), key
    assert (tmp_path / "resumed" / "checkpoints" / "fold0-best.ckpt").is_file()


def test_sigterm_then_resume_matches_an_uninterrupted_run(tmp_path, cache):
    _interrupt_and_resume(signal.SIGTERM, tmp_path, cache)


@pytest.mark.slow
def test_ctrl_c_then_resume_matches_an_uninterrupted_run(tmp_path, cache):
    _interrupt_and_resume(signal.SIGINT, tmp_path, cache)


def test_resume_errors_are_one_line(tmp_path, cache, capsys):
    from fmri_rdm.entry.train import run_training

    bogus = tmp_path / "fold1-last.ckpt"
    bogus.write_bytes(b"not a checkpoint")
    cases = [
        (tmp_path / "missing.ckpt", "not found"),
        (bogus, "fold 1, which this run does not train"),
    ]
    for ckpt, fragment in cases:
        cfg = tiny_config(tmp_path / "out", cache, [*RESUME, f"ckpt_path={ckpt}"])
        with pytest.raises(SystemExit) as info:
            run_training(cfg)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err
    truncated = tmp_path / "fold0-last.ckpt"
    truncated.write_bytes(b"PK\x03\x04 truncated")
    cfg = tiny_config(tmp_path / "out", cache, [*RESUME, f"ckpt_path={truncated}"])
    with pytest.raises(SystemExit):
        run_training(cfg)
    assert "cannot read checkpoint" in capsys.readouterr().err
