"""`trainer=ddp` on CPU (gloo, 2 ranks) end to end through train.py, against one process.

With dropout 0, two ranks at batch B step on exactly the pairs one process sees at batch 2B
(rank r serves the global batches r, r + 2, ... and DDP averages the two ranks' gradients),
so the scores must be close; the ranks' step count shows that each did half of the epoch.
About 25 s on 2 cores: in the default suite because it is the only check that DDP works.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from tests.helpers import train_py

BASE = [
    "experiment=demo",
    "logger=none",
    "data.generate.n_images=72",
    "data.generate.n_test_images=6",
    "data.generate.image_size=64",
    "evaluation.folds=[0]",
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    "model.net.dropout=0",
]
DDP = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.precision=32-true"]


def _run(args: list[str], cache: Path, cwd: Path) -> tuple[Path, str]:
    result = train_py(args, cache, cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = [p.parent for p in (cwd / "outputs").rglob("metrics.json")]
    return run_dir, result.stdout


def test_two_cpu_ranks_split_the_epoch_and_match_one_process(tmp_path_factory) -> None:
    cache = tmp_path_factory.mktemp("ddp_cache")
    single_dir, _ = _run([*BASE, "training.batch_size=256"], cache, tmp_path_factory.mktemp("one"))
    ddp_cwd = tmp_path_factory.mktemp("ddp")
    ddp_dir, stdout = _run([*BASE, *DDP, "training.batch_size=128"], cache, ddp_cwd)

    # one run directory, one set of artifacts, written by rank 0 only
    assert len(list(ddp_cwd.rglob("metrics.json"))) == 1
    assert len(list(ddp_cwd.rglob("predictions.npz"))) == 1
    assert len(list(ddp_cwd.rglob("run_config.yaml"))) == 1
    assert stdout.count("siamese · subject 1 ·") == 1  # the results table, printed once
    rank1_log = (ddp_dir / "train_ddp_process_1.log").read_text()
    assert "wrote" not in rank1_log and "wrote" in (ddp_dir / "train.log").read_text()

    single = json.loads((single_dir / "metrics.json").read_text())
    ddp = json.loads((ddp_dir / "metrics.json").read_text())
    n_fit = ddp["folds"][0]["n_pairs_train"]
    assert n_fit == single["folds"][0]["n_pairs_train"]
    # each rank took ceil(ceil(n / 128) / 2) steps per epoch: half of the 128-pair batches
    ckpt = torch.load(ddp_dir / "checkpoints" / "fold0-last.ckpt", weights_only=False)
    assert ckpt["global_step"] == 2 * math.ceil(math.ceil(n_fit / 128) / 2)
    for name in ("pearson", "spearman"):
        one, two = single["test"][name]["mean"], ddp["test"][name]["mean"]
        assert two == pytest.approx(one, abs=0.05), (name, one, two)
