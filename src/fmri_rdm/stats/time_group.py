"""Group statistics of several models' time courses over the same subjects (issue 39): each
model's `latency.time_course_stats`, and the difference time course of two models (paired over
subjects, cluster test two-tailed: either model may be ahead)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError
from fmri_rdm.stats.latency import time_course_stats


def _matched(courses: Mapping[str, Mapping[str, np.ndarray]]) -> tuple[list[str], dict]:
    """(subjects shared by every model, {model: (subjects, T)}) in a stable order."""
    shared = sorted(set.intersection(*(set(c) for c in courses.values())))
    if len(shared) < 2:
        raise DataError(
            f"a group time course needs >= 2 subjects with every model, got {len(shared)}"
        )
    return shared, {
        m: np.stack([np.asarray(c[s], float) for s in shared]) for m, c in courses.items()
    }


def group_time_courses(
    courses: Mapping[str, Mapping[str, np.ndarray]],
    times_ms: np.ndarray,
    *,
    difference: tuple[str, str] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """courses: model -> subject -> (T,) score per window (one score, e.g. test Spearman).
    difference: (a, b) adds the time course of a - b over subjects. settings: passed to
    `time_course_stats` (n_permutations, n_boot, n_boot_onset, tail, threshold, seed, ...).
    Returns {subjects, models: {model: stats}, difference: {a, b, **stats} or absent}."""
    subjects, x = _matched(courses)
    out: dict[str, Any] = {
        "subjects": subjects,
        "models": {m: time_course_stats(v, times_ms, **settings) for m, v in x.items()},
    }
    if difference is not None:
        a, b = difference
        missing = [m for m in (a, b) if m not in x]
        if missing:
            raise DataError(f"difference of {a} and {b}: no time course for {missing}")
        both = dict(settings, tail=0)
        out["difference"] = {"a": a, "b": b, **time_course_stats(x[a] - x[b], times_ms, **both)}
    return out
