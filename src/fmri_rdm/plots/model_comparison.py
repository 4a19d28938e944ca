"""The model-comparison figure of RSA papers (`comparison_models.png` of `compare --across
subject`): candidates sorted by their mean score over subjects, each with its across-subject
interval (2-factor where the subjects share images, else t) and its subjects as dots, the noise
ceiling as a band, and a bracket over every pair of candidates whose paired difference over
subjects survives Holm's correction over all pairs (paired t-test on the subjects both have).
"""

from __future__ import annotations

import math
import textwrap
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fmri_rdm.plots._base import new_figure, save_figure
from fmri_rdm.plots.group import GroupAnalysis  # the structural type the figures read

ALPHA = 0.05


def _label(row: pd.Series, keys: list[str]) -> str:
    """The row's settings, one per line, leaving out those it does not set (empty / NaN)."""
    values = [str(row[k]) for k in keys if not pd.isna(row[k]) and str(row[k]) not in ("", "nan")]
    return "\n".join(textwrap.fill(v, 18) for v in values) or "all"


def _subject_scores(a: GroupAnalysis, row: pd.Series, score: str) -> pd.Series:
    """{subject: score} of the runs of one group row."""
    sel = np.ones(len(a.subjects), dtype=bool)
    for key in a.keys:
        sel &= (a.subjects[key].astype(str) == str(row[key])).to_numpy()
    part = a.subjects.loc[sel, ["subject", f"test_{score}"]].dropna()
    return pd.Series(part[f"test_{score}"].to_numpy(float), index=part["subject"].astype(str))


def pairwise_tests(scores: list[pd.Series]) -> list[tuple[int, int, float, float]]:
    """(a, b, p, p_holm) of the paired t-test over the subjects both candidates have, for every
    pair a < b; p is NaN with fewer than 2 shared subjects or no spread in the differences."""
    found = []
    for a, b in combinations(range(len(scores)), 2):
        shared = scores[a].index.intersection(scores[b].index)
        d = scores[a][shared].to_numpy() - scores[b][shared].to_numpy()
        p = math.nan
        if d.size >= 2 and np.std(d) > 0:
            p = float(stats.ttest_1samp(d, 0.0).pvalue)
        found.append((a, b, p))
    from fmri_rdm.stats.group import holm

    adjusted = holm(np.asarray([p for *_, p in found], dtype=np.float64))
    return [(a, b, p, float(q)) for (a, b, p), q in zip(found, adjusted, strict=True)]


def _interval(row: pd.Series, score: str) -> tuple[float, float, float, str]:
    lo, hi = row.get(f"test_{score}_2f_ci_low"), row.get(f"test_{score}_2f_ci_high")
    if lo is not None and math.isfinite(lo) and math.isfinite(hi):
        return float(row[f"test_{score}_2f_mean"]), float(lo), float(hi), "2-factor"
    mean = float(row[f"test_{score}_mean"])
    return mean, float(row[f"test_{score}_ci_low"]), float(row[f"test_{score}_ci_high"]), "t"


def _ceiling(ax: Any, t: pd.DataFrame) -> str:
    for lo, hi, what in (
        (
            "noise_ceiling_inter_subject_lower_mean",
            "noise_ceiling_inter_subject_upper_mean",
            "inter-subject",
        ),
        ("noise_ceiling_sessions_lower_mean", "noise_ceiling_sessions_upper_mean", "sessions"),
    ):
        if lo in t and hi in t and t[lo].notna().any():
            ax.axhspan(t[lo].mean(), t[hi].mean(), color="0.6", alpha=0.35, zorder=0)
            return f"grey band = {what} noise ceiling (lower to upper bound)"
    if "noise_ceiling_pearson_mean" in t and t["noise_ceiling_pearson_mean"].notna().any():
        ax.axhline(t["noise_ceiling_pearson_mean"].mean(), color="0.5", ls="--", lw=1)
        return "dashed = noise-free ceiling"
    return "no noise ceiling in these runs"


def plot_model_comparison(path: Path, a: GroupAnalysis, score: str = "pearson") -> Path:
    """Write the figure for the rows of `a.table` (one candidate each) to `path`."""
    t = a.table.copy()
    t["_mean"] = [_interval(r, score)[0] for _, r in t.iterrows()]
    t = t.sort_values("_mean", ascending=False).reset_index(drop=True)
    scores = [_subject_scores(a, r, score) for _, r in t.iterrows()]
    fig = new_figure(max(4.0, 0.9 * len(t) + 2.0), 4.4)
    ax = fig.subplots()
    methods = set()
    highs = [0.0]
    for k, (_, row) in enumerate(t.iterrows()):
        mean, lo, hi, method = _interval(row, score)
        methods.add(method)
        highs += [v for v in (mean, hi) if math.isfinite(v)]
        ax.bar(k, mean, color=f"C{k % 10}", alpha=0.75, width=0.7)
        if math.isfinite(lo) and math.isfinite(hi):
            ax.errorbar(k, mean, yerr=[[mean - lo], [hi - mean]], color="k", capsize=4)
        ys = scores[k].to_numpy()
        jitter = np.linspace(-0.18, 0.18, ys.size) if ys.size > 1 else np.zeros(ys.size)
        ax.plot(k + jitter, ys, "o", color="k", ms=3.5, alpha=0.7, zorder=3)
    band = _ceiling(ax, t)
    top = max(highs + [float(s.max()) for s in scores if s.size])
    step = 0.06 * max(top, 0.1)
    shown = [(x, y) for x, y, _, q in pairwise_tests(scores) if math.isfinite(q) and q < ALPHA]
    for n, (x, y) in enumerate(shown):
        h = top + step * (n + 1)
        ax.plot([x, x, y, y], [h - step / 3, h, h, h - step / 3], color="k", lw=0.8)
    ax.set_xticks(range(len(t)), [_label(r, a.keys) for _, r in t.iterrows()], fontsize=8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel(f"test {score} (mean over subjects)")
    ax.grid(axis="y", alpha=0.3)
    how = " / ".join(sorted(methods))
    caption = (
        f"bars: mean over subjects with its 95 % {how} interval, dots: subjects; {band}; "
        f"brackets: paired t over subjects, Holm over {len(t) * (len(t) - 1) // 2} pairs, "
        f"p < {ALPHA}"
    )
    width = max(40, int(fig.get_figwidth() * 13))  # characters of 7-pt text per inch, about
    ax.set_title(textwrap.fill(caption, width), fontsize=7)
    return save_figure(fig, path)
