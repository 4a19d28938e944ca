"""The terminal of a run: quiet by default (one line per fold, the results table, warnings),
everything with `-v`. Counted on a real `train.py` process, piped as a test sees it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import TINY, train_py

# TINY with the defaults a user gets: the wandb logger (offline) and the progress bar
QUIET_RUN = [a for a in TINY if not a.startswith(("logger=", "trainer.enable_progress_bar"))] + [
    "model=siamese"
]
NOISE = ("GPU available", "TPU", "litlogger", "LeafSpec", "Checkpoint directory", "wandb:")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict[str, str]:
    """stdout + stderr of the same run with -v, then quiet (data and embeddings cached)."""
    out = {}
    for name, flags in (("verbose", ["-v"]), ("quiet", [])):
        cwd = tmp_path_factory.mktemp(name)
        result = train_py([*flags, *QUIET_RUN], cache_dir, cwd)
        assert result.returncode == 0, result.stderr[-3000:]
        out[name] = result.stdout + result.stderr
    return out


def test_quiet_run_is_one_line_per_fold_plus_the_table(runs: dict[str, str]) -> None:
    lines = runs["quiet"].splitlines()
    folds = [line for line in lines if re.match(r"fold \d/3 done in ", line)]
    assert len(folds) == 3
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    title = [line for line in lines if "siamese · subject 1" in line]
    # warnings stay (this tiny run has a few: random weights, the alpha grid, calibration)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert "warning: ViT-B-32 has RANDOM weights" in "\n".join(warnings)
    rest = {"embeddings came from randomly initialised weights"}
    others = [
        line
        for line in lines
        if line not in folds + table + title + warnings
        and line not in rest
        and not line.startswith("run directory: ")
    ]
    assert others == [], runs["quiet"]
    # folds, table, its title, the random-weights note, the run directory
    assert len(lines) == 3 + len(table) + 1 + 1 + 1 + len(warnings)
    assert len(table) == 19  # 3 header lines, 15 scores, the bottom rule
    assert not any(noise in runs["quiet"] for noise in NOISE)


def test_verbose_brings_the_rest_back(runs: dict[str, str]) -> None:
    verbose = runs["verbose"]
    assert "GPU available" in verbose and "wandb:" in verbose
    assert "fold 1/3" in verbose and "[fmri_rdm" in verbose  # Hydra's own log format
    assert len(verbose.splitlines()) > 2 * len(runs["quiet"].splitlines())
    # the deprecation inside Lightning and the other folds' checkpoints stay quiet even so
    assert "LeafSpec" not in verbose and "Checkpoint directory" not in verbose
