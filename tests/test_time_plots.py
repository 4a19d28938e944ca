"""The time-resolved figures are written and refuse mismatched inputs (drawing only: the
numbers they show are tested in tests/stats and tests/rsa)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from fmri_rdm.errors import DataError
from fmri_rdm.plots.time_course import (
    generalization_figure,
    rdm_frames_figure,
    time_course_figure,
)

TIMES = np.arange(-50.0, 200.0, 10.0)


def test_time_course_with_bands_ceiling_and_clusters(tmp_path):
    mean = np.sin(TIMES / 60.0)
    sig = mean > 0.5
    curves = {
        "A": {"mean": mean, "low": mean - 0.1, "high": mean + 0.1, "significant": sig,
              "onset": {"ms": float(TIMES[sig][0])}},
        "B": {"mean": -mean / 2, "low": None, "high": None},
    }  # fmt: skip
    out = time_course_figure(TIMES, curves, tmp_path / "tc.png", ceiling=(mean + 0.2, mean + 0.4))
    assert out.is_file() and imread(out).shape[0] > 100
    with pytest.raises(DataError, match="values for 25 times"):
        time_course_figure(TIMES, {"A": {"mean": mean[:5]}}, tmp_path / "bad.png")


def test_generalization_and_rdm_frames(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(TIMES.size, TIMES.size))
    assert generalization_figure(matrix, TIMES, tmp_path / "gen.png").is_file()
    with pytest.raises(DataError, match="generalisation"):
        generalization_figure(matrix[:3], TIMES, tmp_path / "x.png")
    rdms = np.random.default_rng(1).random((TIMES.size, 15))
    assert rdm_frames_figure(rdms, TIMES, [0, 100, 150], tmp_path / "frames.png").is_file()
    with pytest.raises(DataError, match="latencies"):
        rdm_frames_figure(rdms, TIMES, [], tmp_path / "y.png")
