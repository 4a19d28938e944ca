"""Data-path and ROI mistakes are answered before torch, Lightning or a logger is loaded.

The answer's speed itself (~0.5 s against 6-20 s before) is measured by hand with `time`, not
here; this checks the messages and that the checks import nothing heavy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.pipeline.inputs import prepare_inputs
from fmri_rdm.pipeline.preflight import check_run_config
from tests.helpers import compose_config, train_py

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "pytorch_lightning", "wandb", "open_clip", "matplotlib")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ([], ["no Algonauts data folder", "experiment=demo"]),
        (["data.root={missing}"], ["{missing}", "does not exist", "data.root"]),
        (["data.root={data}", "roi.name=V9"], ["unknown ROI 'V9'", "V1v", "floc-faces"]),
        (["data.root={data}", "subject=subj02"], ["subj02", "subj01"]),
    ],
    ids=["no_data_folder", "wrong_root", "unknown_roi", "missing_subject"],
)
def test_train_py_answers_with_one_line(args, fragments, synthetic_root, tmp_path) -> None:
    values = {"missing": tmp_path / "nowhere", "data": synthetic_root}
    result = train_py([a.format(**values) for a in args], tmp_path / "cache", tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment.format(**values) in lines[0]
    assert not list(tmp_path.rglob("wandb"))  # no logger run was started


def test_preflight_imports_nothing_heavy(tmp_path) -> None:
    code = (
        "import sys\n"
        "from omegaconf import OmegaConf\n"
        "from fmri_rdm.pipeline.preflight import check_run_config\n"
        "from fmri_rdm.errors import DataError\n"
        "cfg = OmegaConf.create({'data': {'source': 'algonauts', 'root': sys.argv[1]},"
        " 'subject': {'id': 1}, 'roi': {'name': 'V1v'}})\n"
        "try:\n    check_run_config(cfg)\nexcept DataError:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "nowhere")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_synthetic_data_need_not_exist_yet(tmp_path) -> None:
    cfg = compose_config(["experiment=demo", f"paths.cache_dir={tmp_path / 'empty'}"])
    check_run_config(cfg)  # generated on first use: nothing to check on disk
    assert not (tmp_path / "empty").exists()


@pytest.mark.parametrize(
    ("override", "error", "fragments"),
    [
        ("subject=subj03", DataError, ["subj03", "not found", "subj01"]),
        ("roi.name=V9", ConfigError, ["unknown ROI 'V9'", "V1v"]),
    ],
    ids=["missing_subject", "unknown_roi"],
)
def test_preflight_says_what_loading_the_data_would_say(
    override, error, fragments, synthetic_root, tmp_path
) -> None:
    """The early answer is the error the real loading path (`prepare_inputs`, which never calls
    the preflight) raises later for the same mistake, word for word."""
    overrides = ["data=algonauts", f"data.root={synthetic_root}", override]
    cfg = compose_config([*overrides, f"paths.cache_dir={tmp_path / 'cache'}"])
    with pytest.raises(error) as early:
        check_run_config(cfg)
    with pytest.raises(error) as late:
        prepare_inputs(cfg)
    assert str(early.value) == str(late.value)
    assert all(fragment in str(early.value) for fragment in fragments), early.value


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["model.net.dropout=high"], "model.net.dropout: Value 'high'"),
        (["model=rsa", "evaluation.calibration=bogus"], "evaluation.calibration='bogus'"),
        (["evaluation.k_folds=0"], "evaluation.k_folds=0: use 1"),
        (["data.n_images=5"], "evaluation.k_folds=5 is impossible with 5 images"),
    ],
    ids=["network_value", "calibration", "no_folds", "too_few_images"],
)
def test_settings_errors_come_before_lightning_and_loggers(args, fragment, tmp_path) -> None:
    """The run's settings are checked before the experiment module loads Lightning and wandb
    (5-20 s): train.py exits with one line while neither is imported. (The speed itself is
    measured by hand, against `import torch` on the same machine.)"""
    probe = (
        "import runpy, sys\n"
        "sys.argv = [sys.argv[1], *sys.argv[2:]]\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "finally:\n"
        "    heavy = [m for m in ('pytorch_lightning', 'wandb') if m in sys.modules]\n"
        "    print('heavy:', heavy, file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), FMRI_RDM_CACHE=str(tmp_path / "c"))
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "train.py"), "experiment=demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert "heavy: []" in result.stderr
    assert not (tmp_path / "c").exists()  # no data generated, nothing embedded
