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
    # the results table (title, header, rule, score rows by section) and its notes
    start = next(k for k, line in enumerate(lines) if "siamese · subject 1" in line)
    end = lines.index("embeddings came from randomly initialised weights")
    block = lines[start:end]
    rows = [line for line in block if re.match(r"^\s+[a-z][a-z0-9_]*\s+-?\d", line)]
    assert len(rows) == 15  # 4 test scores, 9 baselines, 2 ceilings
    assert all(len(line) <= 80 for line in block)  # an 80-column terminal (issue 36)
    # warnings stay (this tiny run has a few: random weights, the alpha grid, calibration)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert "warning: ViT-B-32 has RANDOM weights" in "\n".join(warnings)
    others = [
        line
        for k, line in enumerate(lines)
        if not start <= k < end
        and line not in folds + warnings
        and line != "embeddings came from randomly initialised weights"
        and not line.startswith("run directory: ")
    ]
    assert others == [], runs["quiet"]
    # folds, the table and its notes, warnings, the random-weights note, the run directory
    assert len(lines) == 3 + len(block) + len(warnings) + 1 + 1
    assert not any(noise in runs["quiet"] for noise in NOISE)


def test_verbose_brings_the_rest_back(runs: dict[str, str]) -> None:
    verbose = runs["verbose"]
    assert "GPU available" in verbose and "wandb:" in verbose
    assert "fold 1/3" in verbose and "[fmri_rdm" in verbose  # Hydra's own log format
    assert len(verbose.splitlines()) > 2 * len(runs["quiet"].splitlines())
    # the deprecation inside Lightning and the other folds' checkpoints stay quiet even so
    assert "LeafSpec" not in verbose and "Checkpoint directory" not in verbose
