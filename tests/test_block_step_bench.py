"""bench.block_step runs one blocks-plan step end to end and reports what it measured."""

from __future__ import annotations

import json

import numpy as np
import torch

from bench.block_step import block_targets, main


def test_block_targets_are_the_upper_triangle_with_a_tenth_left_out() -> None:
    y = block_targets(40)
    kept = ~torch.isnan(y)
    assert not kept.tril().any()
    n_upper = 40 * 39 // 2
    assert 0.8 * n_upper < int(kept.sum()) < n_upper


def test_one_step_prints_its_seconds_and_memory(capsys) -> None:
    result = main(["--images", "30", "--device", "cpu", "--voxels", "12", "--repeats", "1"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == result
    assert result["images"] == 30 and result["device"] == "cpu"
    assert result["pairs"] == int((~torch.isnan(block_targets(30))).sum())
    assert np.isfinite(result["seconds_per_step"]) and result["seconds_per_step"] > 0
    assert result["peak_memory_bytes"] >= 0
