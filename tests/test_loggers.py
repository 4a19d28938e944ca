"""wandb: offline unless configured, one run per job with the final metrics in its summary
(read back from the run files, no server); `logger=none` starts no wandb at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fmri_rdm.pipeline.experiment import run
from fmri_rdm.reporting.loggers import wandb_mode
from tests.helpers import MODEL_OVERRIDES, tiny_config


@pytest.fixture
def no_wandb_env(monkeypatch, tmp_path):
    for var in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc login
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))


def test_wandb_mode_is_offline_unless_configured(no_wandb_env, monkeypatch, tmp_path):
    assert wandb_mode(None) == "offline"
    assert wandb_mode(False) == "online" and wandb_mode(True) == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert wandb_mode(None) == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode(None) == "disabled"
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.delenv("WANDB_API_KEY")
    (tmp_path / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40)
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    assert wandb_mode(None) == "online"


@pytest.fixture
def wandb_inits(monkeypatch) -> list[dict]:
    """The keyword arguments of every `wandb.init` call from now on (the real init still runs)."""
    import wandb

    calls: list[dict] = []
    real_init = wandb.init

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_init(*args, **kwargs)

    monkeypatch.setattr(wandb, "init", spy)
    return calls


def _summary(run_dir: Path) -> dict:
    files = list(run_dir.glob("wandb/offline-run-*"))
    assert len(files) == 1
    wandb_cli = Path(sys.executable).parent / "wandb"
    out = subprocess.run(
        [str(wandb_cli), "leet", "inspect", "--summary", "--json", str(files[0])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_wandb_offline_run_holds_the_final_metrics(no_wandb_env, wandb_inits, tmp_path, cache_dir):
    extra = [*MODEL_OVERRIDES["mlp"], "logger=wandb", "evaluation.k_folds=1"]
    metrics = run(tiny_config(tmp_path, cache_dir, extra)).to_json()
    # one run per job, and the spy sees it (so the logger=none test below can trust it)
    assert len(wandb_inits) == 1 and wandb_inits[0]["mode"] == "offline"
    record = _summary(tmp_path)
    assert record["state"] == "finished" and record["project"] == "fmri-rdm"
    summary = record["summary"]
    assert summary["test.pearson.mean"] == pytest.approx(metrics["test"]["pearson"]["mean"])
    assert summary["baselines.zero_training_spearman.mean"] == pytest.approx(
        metrics["baselines"]["zero_training_spearman"]["mean"]
    )
    assert summary["model"] == "mlp"
    assert record["config"]["model"]["net"]["hidden_layers"] == 2


def test_logger_none_starts_no_wandb(wandb_inits, tmp_path, cache_dir):
    run(tiny_config(tmp_path, cache_dir, [*MODEL_OVERRIDES["mlp"], "evaluation.k_folds=1"]))
    assert not (tmp_path / "wandb").exists()
    assert wandb_inits == []  # not even a run that was started and finished again
