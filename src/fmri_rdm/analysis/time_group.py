"""The group level of time-resolved runs (`compare RUNS --across subject`, issue 39).

Runs whose metrics.json has a `time_course` are grouped as the group table groups them (every
setting that varies but the subject: model, roi, ...); per group the subjects' fold-mean test
score per window goes to `stats.time_group.group_time_courses`: the group mean with t
intervals, the cluster test, onset and peak latencies with their bootstrap intervals, and the
difference course of two groups (the reference level against the first other, else the first
two groups), and the mean over runs of their inter-subject ceiling per window where they have
one (evaluation.noise_ceiling=inter_subject). Written beside the group table:
time_course_group.json, time_course_group.png (every group's course, its band and its
significant clusters), time_course_difference.png and, where the runs have one,
generalization_group_<k>.png (the mean matrix over subjects).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.analysis.group import GroupAnalysis
from fmri_rdm.analysis.runs import Run
from fmri_rdm.errors import DataError

SCORE = "spearman"


def _label(row: Any, keys: Sequence[str]) -> str:
    return " · ".join(f"{k}={row[k]}" for k in keys) or "runs"


def _course(run: Run, score: str) -> tuple[np.ndarray, np.ndarray, Any, Any] | None:
    course = (run.metrics or {}).get("time_course")
    if not isinstance(course, dict):
        return None
    values = np.array([np.nan if v is None else v for v in course["scores"][score]["mean"]])
    if not np.isfinite(values).all():
        raise DataError(f"{run.dir}: its time course has undefined windows (constant RDMs?)")
    ceiling = (course.get("noise_ceiling") or {}).get(score)
    return (
        np.asarray(course["times_ms"], dtype=np.float64),
        values,
        course.get("generalization"),
        ceiling,
    )


def collect(
    analysis: GroupAnalysis, runs: Sequence[Run], score: str = SCORE
) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]], dict[str, list], list] | None:
    """(times_ms, {group: {subject: (T,)}}, {group: [generalization matrices]}, [noise
    ceilings {lower, upper}]) of the runs with a time course; None when none has one.
    DataError when their windows differ."""
    by_dir = {str(r.dir): r for r in runs}
    times: np.ndarray | None = None
    courses: dict[str, dict[str, np.ndarray]] = {}
    matrices: dict[str, list[np.ndarray]] = {}
    ceilings: list[dict[str, list]] = []
    for _, row in analysis.subjects.iterrows():
        found = _course(by_dir[row["dir"]], score)
        if found is None:
            continue
        when, values, generalization, ceiling = found
        if ceiling is not None:
            ceilings.append(ceiling)
        if times is None:
            times = when
        elif when.shape != times.shape or not np.allclose(when, times):
            raise DataError(
                f"{row['dir']}: its windows differ from the other runs' (same "
                "evaluation.time.window_ms / step_ms and times.tsv for a group time course)"
            )
        group = _label(row, analysis.keys)
        courses.setdefault(group, {})[str(row["subject"])] = values
        if generalization is not None:
            rows = generalization[score]
            matrix = np.array([[np.nan if v is None else v for v in r] for r in rows])
            matrices.setdefault(group, []).append(matrix)
    return None if times is None else (times, courses, matrices, ceilings)


def _pair(analysis: GroupAnalysis, groups: list[str]) -> tuple[str, str] | None:
    if len(groups) < 2:
        return None
    if analysis.reference_key is not None and analysis.reference is not None:
        wanted = f"{analysis.reference_key}={analysis.reference}"
        reference = [g for g in groups if wanted in g.split(" · ")]
        if reference:
            other = [g for g in groups if g != reference[0]]
            return other[0], reference[0]
    return groups[0], groups[1]


def time_group(
    analysis: GroupAnalysis,
    runs: Sequence[Run],
    *,
    score: str = SCORE,
    n_permutations: int = 1000,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The group time courses (module docstring) as a JSON-ready dict; None without any."""
    from fmri_rdm.stats.time_group import group_time_courses

    found = collect(analysis, runs, score)
    if found is None:
        return None
    times, courses, matrices, ceilings = found
    usable = {g: c for g, c in courses.items() if len(c) >= 2}
    if not usable:
        raise DataError("a group time course needs >= 2 subjects per group")
    pair = _pair(analysis, list(usable))
    out: dict[str, Any] = {"score": score, "times_ms": times.tolist(), "groups": {}}
    for group, by_subject in usable.items():  # each group on its own subjects
        out["groups"][group] = group_time_courses(
            {group: by_subject}, times, n_permutations=n_permutations, n_boot=n_boot, seed=seed
        )["models"][group] | {"subjects": sorted(by_subject)}
    if pair is not None:
        both = group_time_courses(
            {g: usable[g] for g in pair}, times, difference=pair,
            n_permutations=n_permutations, n_boot=n_boot, seed=seed,
        )  # fmt: skip
        out["difference"] = both["difference"] | {"subjects": both["subjects"]}
    if ceilings:  # the mean over the runs' bounds (one band: compare runs of one ROI)
        nan = np.nan
        out["noise_ceiling"] = {
            side: np.nanmean(
                [[nan if v is None else v for v in c[side]] for c in ceilings], axis=0
            ).tolist()
            for side in ("lower", "upper")
        }
    out["generalization"] = {
        g: np.nanmean(np.stack(m), axis=0).tolist() for g, m in matrices.items() if g in usable
    }
    return out


def write_time_group(result: dict[str, Any], out: Path) -> dict[str, Path]:
    """time_course_group.json and the figures (module docstring); their paths by kind."""
    import json

    from fmri_rdm.plots.time_course import generalization_figure, time_course_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = {"time_json": out / "time_course_group.json"}
    paths["time_json"].write_text(json.dumps(result, indent=1) + "\n")
    times, score = result["times_ms"], result["score"]
    paths["time_figure"] = time_course_figure(
        times, result["groups"], out / "time_course_group.png", score=score,
        ceiling=(lambda c: None if c is None else (c["lower"], c["upper"]))(
            result.get("noise_ceiling")
        ),
        title="group time course (band: t interval; squares: significant clusters; |: onset)",
    )  # fmt: skip
    if "difference" in result:
        d = result["difference"]
        paths["time_difference"] = time_course_figure(
            times, {f"{d['a']} − {d['b']}": d}, out / "time_course_difference.png", score=score,
            title="difference over subjects (two-tailed clusters)",
        )  # fmt: skip
    for k, matrix in enumerate(result.get("generalization", {}).values()):
        paths[f"generalization_{k}"] = generalization_figure(
            np.asarray(matrix), times, out / f"generalization_group_{k}.png", score=score
        )
    return paths


def summary_lines(result: dict[str, Any]) -> list[str]:
    """One printed line per group (and the difference): onset and peak with intervals."""

    def latency(x: dict[str, Any]) -> str:
        if x["ms"] is None:
            return "none"
        low, high = x["low"], x["high"]
        band = "" if low is None else f" [{low:g}, {high:g}]"
        return f"{x['ms']:g} ms{band}"

    items = [*result["groups"].items()]
    if "difference" in result:
        d = result["difference"]
        items.append((f"{d['a']} − {d['b']}", d))
    return [
        f"time course ({result['score']}) {name}: onset {latency(s['onset'])}, peak "
        f"{latency(s['peak'])}, {sum(c['p'] < 0.05 for c in s['clusters'])} significant "
        f"cluster(s), n = {len(s['subjects'])}"
        for name, s in items
    ]
