"""Group time courses of several models: matched subjects, per-model statistics equal to
time_course_stats on the same matrix, and the two-tailed difference course."""

from __future__ import annotations

import numpy as np
import pytest

from fmri_rdm.errors import DataError
from fmri_rdm.stats.latency import time_course_stats
from fmri_rdm.stats.time_group import group_time_courses

TIMES = np.arange(0.0, 300.0, 10.0)
FAST = {"n_permutations": 200, "n_boot": 50, "n_boot_onset": 10}


def _courses(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a = {f"s{k}": 0.3 * (TIMES >= 100) + rng.normal(0, 0.1, TIMES.size) for k in range(8)}
    b = {f"s{k}": 0.3 * (TIMES >= 200) + rng.normal(0, 0.1, TIMES.size) for k in range(7)}
    return {"A": a, "B": b}


def test_models_on_the_shared_subjects_and_their_difference():
    courses = _courses()
    out = group_time_courses(courses, TIMES, difference=("A", "B"), **FAST)
    assert out["subjects"] == [f"s{k}" for k in range(7)]  # s7 has no B
    x = np.stack([courses["A"][s] for s in out["subjects"]])
    assert out["models"]["A"] == time_course_stats(x, TIMES, **FAST)
    for model, truth in (("A", 100), ("B", 200)):  # within one 10 ms step
        assert abs(out["models"][model]["onset"]["ms"] - truth) <= 10
    diff = out["difference"]
    assert diff["a"] == "A" and diff["tail"] == 0
    sig = np.asarray(diff["significant"])
    assert sig[(TIMES >= 100) & (TIMES < 200)].mean() > 0.8 and not sig[TIMES >= 200].any()


def test_too_few_subjects_or_an_unknown_model():
    courses = _courses()
    with pytest.raises(DataError, match=">= 2 subjects"):
        group_time_courses({"A": {"s0": courses["A"]["s0"]}}, TIMES, **FAST)
    with pytest.raises(DataError, match="no time course"):
        group_time_courses(courses, TIMES, difference=("A", "C"), **FAST)
