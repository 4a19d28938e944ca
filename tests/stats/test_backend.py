"""The array backend of the fold statistics: permuted sums (numpy, torch) against a direct
loop, and where the statistics run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.stats.backend import backend_for, statistics_device


@pytest.mark.parametrize("device", ["cpu", "torch-cpu"])
def test_permuted_sums_match_a_direct_loop(device: str) -> None:
    rng = np.random.default_rng(0)
    n, q = 9, 3
    tables = rng.standard_normal((q, n, n)).astype(np.float32)
    weights = np.triu(rng.standard_normal((q, n, n)), 1).astype(np.float32)
    perms = np.stack([np.arange(n)] + [rng.permutation(n) for _ in range(6)])
    got = backend_for(device).permuted_sums(tables, weights, perms)
    for r, p in enumerate(perms):
        for k in range(q):
            direct = sum(
                float(weights[k, x, y]) * float(tables[k, p[x], p[y]])
                for x in range(n)
                for y in range(x + 1, n)
            )
            assert got[r, k] == pytest.approx(direct, abs=1e-5)


def test_statistics_device_choice() -> None:
    assert statistics_device("auto", "cpu") == "cpu"
    assert statistics_device("cpu", "gpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert statistics_device("auto", "gpu") == expected
    with pytest.raises(ConfigError, match="choose auto, cpu or cuda"):
        statistics_device("tpu", "gpu")
