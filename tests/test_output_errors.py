"""Errors while writing a run's outputs (issue 23, item 5): a full disk, a read-only or
unwritable folder, a file where a folder should be, a checkpoint that cannot be written. Each
ends with one line naming the path and the cause and exit status 2; the job is recorded as
failed where the disk still allows it (so `skip_completed` runs it again), and a failure to
record it is a warning, not a traceback."""

from __future__ import annotations

import errno
import json
import os

import pytest

from fmri_rdm.entry.train import run_training
from fmri_rdm.entry.wrapper import user_error
from fmri_rdm.pipeline.completed import decide
from fmri_rdm.runtime.artifacts import atomic_write, writing
from tests.helpers import tiny_config, train_py

FULL = (errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(*FULL, "/runs/x/metrics.json"), "No space left on device: /runs/x/metrics.json"),
        (OSError(errno.EROFS, "Read-only file system", "/ro/x"), "Read-only file system: /ro/x"),
        (PermissionError(errno.EACCES, "Permission denied", "/p"), "Permission denied: /p"),
    ],
)
def test_disk_errors_are_user_errors_naming_path_and_cause(error, expected):
    found = user_error(error, running=True)
    assert found is not None and found[1].startswith(expected) and "\n" not in found[1]


def test_other_os_errors_stay_bugs():
    assert user_error(OSError(*FULL), running=True) is None  # no path: cannot name it
    assert user_error(FileNotFoundError(errno.ENOENT, "No such file", "/x"), running=True) is None


def test_writing_names_the_path_and_leaves_no_temp_file(tmp_path):
    def full(handle):
        raise OSError(*FULL)  # a failed write() names no file

    target = tmp_path / "metrics.json"
    with pytest.raises(OSError) as caught:
        atomic_write(target, full)
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError) as named, writing(target):
        raise OSError(errno.EROFS, "Read-only file system", str(target))
    assert named.value.__cause__ is None  # already named: re-raised as it was


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_run_dir_under_a_file_through_train_py(tmp_path, cache_dir):
    (tmp_path / "afile").write_text("")
    done = train_py(
        ["experiment=demo", "logger=none", "model=rsa", "hydra.run.dir=afile/run"],
        cache_dir,
        tmp_path,
    )
    assert done.returncode == 2
    assert "afile/run" in _one_line(done.stderr) and "Not a directory" in done.stderr


def test_full_disk_while_saving_a_checkpoint(tmp_path, cache_dir, capsys, monkeypatch):
    import pytorch_lightning as pl

    def full_disk(self, *args, **kwargs):
        raise OSError(*FULL)

    monkeypatch.setattr(pl.Trainer, "save_checkpoint", full_disk)
    out = tmp_path / "run"
    cfg = tiny_config(out, cache_dir, ["model=siamese", "trainer.max_epochs=1"])
    with pytest.raises(SystemExit) as stop:
        run_training(cfg)
    assert stop.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert "No space left on device" in line and str(out / "checkpoints") in line
    recorded = json.loads((out / "metrics.json").read_text())
    assert recorded["status"] == "failed" and "No space left on device" in recorded["error"]
    assert not decide(cfg, out).skip  # skip_completed runs it again


def test_full_disk_for_every_file_is_still_one_line(tmp_path, cache_dir, capsys, monkeypatch):
    def full_disk(fd):
        raise OSError(*FULL)

    monkeypatch.setattr(os, "fsync", full_disk)  # every atomic write fails, the record's too
    out = tmp_path / "run"
    cfg = tiny_config(out, cache_dir, ["model=rsa"])
    with pytest.raises(SystemExit) as stop:
        run_training(cfg)
    assert stop.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert "No space left on device" in line and str(out) in line
    assert not (out / "metrics.json").exists()  # nothing half-written; the job runs again
    assert not decide(cfg, out).skip
