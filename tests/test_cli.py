"""`fmri-rdm COMMAND`: dispatch, exit statuses and the packaged configs (the slow end-to-end
check of the installed wheel is tests/test_wheel.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fmri_rdm import cli
from fmri_rdm.paths import conf_dir

ROOT = Path(__file__).resolve().parents[1]


def test_conf_dir_is_the_top_level_conf_in_a_clone():
    assert conf_dir() == ROOT / "conf"


def test_unknown_command_suggests(capsys):
    assert cli.main(["trian"]) == 2
    assert "did you mean 'train'?" in capsys.readouterr().err
    assert cli.main([]) == 2
    assert cli.main(["--help"]) == 0
    assert "fmri-rdm train" in capsys.readouterr().out


def test_subcommands_keep_their_exit_status(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["compare", str(tmp_path / "none")]) == 2
    assert cli.main(["predict", "nonsense"]) == 2
    with pytest.raises(SystemExit) as stop:  # argparse's own status for a bad option
        cli.main(["export", "--no-such-option"])
    assert stop.value.code == 2


def test_data_lists_a_dataset_folder(tmp_path, capsys):
    """`fmri-rdm data ROOT` is `python -m fmri_rdm.data ROOT`: a folder that is no dataset is
    one line and exit 2."""
    assert cli.main(["data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    with pytest.raises(SystemExit) as stop:  # argparse: the folder is required
        cli.main(["data"])
    assert stop.value.code == 2


def test_train_typo_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fmri_rdm.cli", "train", "experiment=demo", "model=siamse"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "did you mean 'siamese'?" in done.stderr
