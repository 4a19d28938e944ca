"""Figures of `compare --across subject` (comparison_group*.png), from a `GroupAnalysis`.

- `comparison_group.png`: one panel per ROI, one bar per model (or setting) with its
  across-subject 95 % interval (2-factor where the subjects share images, else t), each subject
  as a dot, the inter-subject noise-ceiling band, and brackets for the Holm-corrected paired
  tests against the reference (the look of rsatoolbox's model-comparison plot).
- `comparison_group_profile.png`: when one ordered setting varies (a layer, a hidden-layer
  count, dropout), the score against it, one line per ROI (and model) with its band.
- `comparison_group_heatmap.png`: when two categorical settings vary (e.g. roi x model).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from fmri_rdm.plots._base import new_figure, save_figure


class GroupAnalysis(Protocol):
    """What the figures read of `analysis.group.GroupAnalysis` (a structural type: figures sit
    below the analysis that computes it)."""

    keys: list[str]
    reference_key: str | None
    reference: str | None
    table: pd.DataFrame
    paired: pd.DataFrame
    subjects: pd.DataFrame


SCORE = "pearson"
_TRAILING_INT = re.compile(r"(-?\d+(?:\.\d+)?)\D*$")


def interval_method(table: pd.DataFrame, s: str = SCORE) -> str:
    """The one interval every bar of a figure shows: `2-factor` when every group has one,
    else `t` (a figure never mixes the two under one legend)."""
    lo, hi = table.get(f"test_{s}_2f_ci_low"), table.get(f"test_{s}_2f_ci_high")
    if lo is None or hi is None or not len(table):
        return "t"
    both = np.isfinite(lo.to_numpy(dtype=float)) & np.isfinite(hi.to_numpy(dtype=float))
    return "2-factor" if both.all() else "t"


def _interval(row: pd.Series, method: str, s: str = SCORE) -> tuple[float, float, float]:
    """(mean, low, high) of a group row with `method`'s interval."""
    if method == "2-factor":
        cols = (f"test_{s}_2f_mean", f"test_{s}_2f_ci_low", f"test_{s}_2f_ci_high")
    else:
        cols = (f"test_{s}_mean", f"test_{s}_ci_low", f"test_{s}_ci_high")
    mean, lo, hi = (float(row[c]) for c in cols)
    return mean, lo, hi


def stars(p: float) -> str:
    if not math.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def ordered_value(text: str) -> float | None:
    """A number to order a setting by: the value itself, or its last number (layer names)."""
    try:
        return float(text)
    except ValueError:
        m = _TRAILING_INT.search(text)
        return float(m.group(1)) if m else None


def short(value: Any, width: int = 18) -> str:
    """A setting's value as a tick label: a path by its file name, long text shortened."""
    text = str(value)
    if "/" in text:
        text = Path(text).name or text
    return text if len(text) <= width else text[: width - 1] + "…"


def _label(row: pd.Series, keys: Sequence[str]) -> str:
    """A bar's label: the run name (`name=<label>`) where the runs have one, else each
    setting's value, paths by their file names."""
    if "name" in keys and str(row["name"]) not in ("", "(default)", "null"):
        return short(row["name"], 24)
    return "\n".join(short(row[k]) for k in keys) or "all"


def _p_of(p: pd.Series) -> float:
    two = p.get("p_2f_adjusted")
    return float(two) if two is not None and math.isfinite(two) else float(p["p_adjusted"])


def plot_bars(path: Path, a: GroupAnalysis) -> Path:
    t = a.table
    panel = "roi" if "roi" in a.keys else None
    panels = list(dict.fromkeys(t[panel])) if panel else [None]
    bar_keys = [k for k in a.keys if k != panel]
    fig = new_figure(max(4.5, 3.2 * len(panels) + 0.4 * len(t) / len(panels)), 4.2)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    method = interval_method(t)
    for ax, value in zip(axes, panels, strict=True):
        rows = t if panel is None else t[t[panel] == value]
        x = np.arange(len(rows))
        for k, (_, row) in enumerate(rows.iterrows()):
            mean, lo, hi = _interval(row, method)
            ax.bar(k, mean, color=f"C{k % 10}", alpha=0.75, width=0.7)
            if math.isfinite(lo):
                ax.errorbar(k, mean, yerr=[[mean - lo], [hi - mean]], color="k", capsize=4)
            sel = np.ones(len(a.subjects), dtype=bool)
            for key in a.keys:
                sel &= (a.subjects[key].astype(str) == str(row[key])).to_numpy()
            ys = a.subjects.loc[sel, f"test_{SCORE}"].to_numpy(dtype=float)
            jitter = np.linspace(-0.18, 0.18, ys.size) if ys.size > 1 else np.zeros(ys.size)
            ax.plot(k + jitter, ys, "o", color="k", ms=3.5, alpha=0.7, zorder=3)
        _ceiling(ax, rows, len(rows))
        _brackets(ax, a, rows, panel, value, bar_keys)
        ticks = [_label(r, bar_keys) for _, r in rows.iterrows()]
        long = max((len(line) for tick in ticks for line in tick.split("\n")), default=0)
        ax.set_xticks(x, ticks, fontsize=8, rotation=30 if long > 10 else 0,
                      ha="right" if long > 10 else "center")  # fmt: skip
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{panel} {value}" if panel else "all runs", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(f"test {SCORE} (mean over subjects)")
    how = (
        "2-factor interval (subjects x shared images)"
        if method == "2-factor"
        else "t interval over subjects"
    )
    # wrapped to the figure's width: a narrow figure (one ROI) cut the one-line title off
    caption = (
        f"across subjects: bars = mean, whiskers = 95 % {how} (every bar), dots = "
        "subjects; grey band = inter-subject noise ceiling, dashed lines = "
        "leave-one-session-out ceiling" + conditional_note(t, {method})
    )
    width = max(40, int(fig.get_figwidth() * 13))  # characters of 8-pt text per inch, about
    fig.suptitle(textwrap.fill(caption, width), fontsize=8)
    return save_figure(fig, path)


def conditional_note(table: pd.DataFrame, methods: set[str]) -> str:
    """What the caption adds when a 2-factor interval belongs to a fitted model: it is
    conditional on the models fitted once per fold (not refit per resample); '' otherwise."""
    if "2-factor" not in methods:
        return ""
    fixed = table["fits_nothing"] if "fits_nothing" in table else pd.Series(False, table.index)
    if bool(fixed.fillna(False).astype(bool).all()):
        return ""
    return (
        "; 2-factor intervals of fitted models are conditional on their fits (models fitted "
        "once per fold, not refit per resample)"
    )


def _ceiling(ax: Any, rows: pd.DataFrame, n: int) -> None:
    lo, hi = "noise_ceiling_inter_subject_lower_mean", "noise_ceiling_inter_subject_upper_mean"
    if lo in rows and hi in rows and rows[lo].notna().any():
        ax.axhspan(rows[lo].mean(), rows[hi].mean(), color="0.6", alpha=0.35, zorder=0)
    elif "noise_ceiling_pearson_mean" in rows and rows["noise_ceiling_pearson_mean"].notna().any():
        ax.axhline(rows["noise_ceiling_pearson_mean"].mean(), color="0.5", ls="--", lw=1)
    lo, hi = "noise_ceiling_sessions_lower_mean", "noise_ceiling_sessions_upper_mean"
    if lo in rows and hi in rows and rows[lo].notna().any():  # RDM data with sessions
        # lines, not a second band: a filled or hatched band hid the inter-subject one
        for col in (lo, hi):
            ax.axhline(rows[col].mean(), color="0.25", ls="--", lw=1.0, zorder=1)


def _brackets(
    ax: Any, a: GroupAnalysis, rows: pd.DataFrame, panel: str | None, value: Any, bar_keys: list
) -> None:
    """One bracket per paired test of this panel, between the reference bar and the other."""
    p = a.paired
    if p.empty or a.reference_key is None:
        return
    p = p[p["score"] == SCORE]
    if panel is not None:
        p = p[p[panel].astype(str) == str(value)]
    labels = [str(r[a.reference_key]) for _, r in rows.iterrows()]
    if str(a.reference) not in labels:
        return
    ref = labels.index(str(a.reference))
    highs = [rows[c].max() for c in (f"test_{SCORE}_ci_high", f"test_{SCORE}_2f_ci_high")]
    top = np.nanmax([*highs, a.subjects[f"test_{SCORE}"].max(), 0.0])
    step = 0.06 * max(top, 0.1)
    for k, (_, row) in enumerate(p.iterrows()):
        other = labels.index(str(row[a.reference_key]))
        y = top + step * (k + 1)
        ax.plot([ref, ref, other, other], [y - step / 3, y, y, y - step / 3], color="k", lw=0.8)
        ax.text((ref + other) / 2, y, stars(_p_of(row)), ha="center", va="bottom", fontsize=8)


def ordered_key(a: GroupAnalysis) -> str | None:
    """The one setting besides roi and model whose every value is ordered (a number)."""
    candidates = [k for k in a.keys if k not in ("roi", "model")]
    found = [k for k in candidates if all(ordered_value(str(v)) is not None for v in a.table[k])]
    return found[0] if len(found) == 1 else None


def plot_profile(path: Path, a: GroupAnalysis, key: str) -> Path:
    t = a.table.copy()
    t["_x"] = t[key].map(lambda v: ordered_value(str(v)))
    lines = [k for k in a.keys if k != key]
    fig = new_figure(6.4, 4.2)
    ax = fig.subplots()
    method = interval_method(t)
    for n, (name, g) in enumerate(t.groupby(lines, sort=False) if lines else [("", t)]):
        g = g.sort_values("_x")
        bounds = np.array([_interval(r, method)[1:] for _, r in g.iterrows()])
        label = " ".join(short(v) for v in (name if isinstance(name, tuple) else (name,)))
        ax.plot(g["_x"], g[f"test_{SCORE}_mean"], "o-", color=f"C{n % 10}", label=label or None)
        ax.fill_between(g["_x"], bounds[:, 0], bounds[:, 1], color=f"C{n % 10}", alpha=0.2)
    ax.set_xlabel(key)
    ax.set_ylabel(f"test {SCORE} (mean over subjects, 95 % {method} band)")
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_heatmap(path: Path, a: GroupAnalysis, rows: str, cols: str) -> Path:
    grid = a.table.pivot_table(index=rows, columns=cols, values=f"test_{SCORE}_mean", sort=False)
    fig = new_figure(1.2 * grid.shape[1] + 2.5, 0.6 * grid.shape[0] + 1.8)
    ax = fig.subplots()
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), list(grid.columns), rotation=30, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=8)
    for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
        if math.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xlabel(cols)
    ax.set_ylabel(rows)
    fig.colorbar(im, ax=ax, label=f"test {SCORE}, mean over subjects")
    return save_figure(fig, path)


def save_group_figures(out: Path, a: GroupAnalysis) -> dict[str, Path]:
    """The figures this analysis calls for, by kind (`plot`, `profile`, `heatmap`)."""
    if f"test_{SCORE}_mean" not in a.table:
        return {}
    paths = {"plot": plot_bars(out / "comparison_group.png", a)}
    key = ordered_key(a)
    if key is not None and a.table[key].nunique() > 2:
        paths["profile"] = plot_profile(out / "comparison_group_profile.png", a, key)
    categorical = [k for k in a.keys if k != key]
    if len(categorical) == 2 and key is None:
        paths["heatmap"] = plot_heatmap(out / "comparison_group_heatmap.png", a, *categorical)
    return paths
