"""`comparison.png`: a metric over runs of `compare`, beside its baselines and ceiling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def tick(row: pd.Series, keys: Sequence[str]) -> str:
    """A run's tick label: its name (`name=<label>`), else what tells it apart, a path by its
    file name (a full path overprinted its neighbours)."""
    if "name" in keys and str(row["name"]) not in ("", "null"):
        return str(row["name"])
    parts = []
    for k in keys:
        value = str(row[k])
        if value:
            parts.append(f"{k}={Path(value).name if '/' in value else value}")
    return "\n".join(parts) or str(row["run"])


def plot_comparison(
    path: Path,
    table: pd.DataFrame,
    keys: Sequence[str],
    references: Sequence[tuple[str, float, str, str]],
    facts: str = "",
) -> Path:
    """`comparison.png`: the metric (mean ± std over folds) against the swept parameter (one
    numeric override), else one point per run, beside every baseline of the table on the
    metric's scale (zero-training, encoding model, shuffled) and the noise ceiling, each the
    mean over the runs (`references`: text, level, colour, line style); runs without a value are
    crosses under the axis; `facts` (what the runs share) is the figure's subtitle."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = sorted(set(table["metric"]))
    label = names[0] if len(names) == 1 else "optimised metric (" + ", ".join(names) + ")"
    x = table[keys[0]].map(_number) if len(keys) == 1 else pd.Series(dtype=float)
    numeric = len(x) > 0 and bool(x.notna().all())
    if not numeric:  # one position per run, named by what tells it apart
        x = pd.Series(range(len(table)), index=table.index, dtype=float)
    fig = Figure(figsize=(6.4 if numeric else max(6.4, 0.9 * len(table) + 2), 4.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    good = table["metric_mean"].notna()
    order = x[good].sort_values().index
    ax.errorbar(
        x[order],
        table["metric_mean"][order],
        yerr=table["metric_std"][order].fillna(0),
        marker="o",
        capsize=4,
        linestyle="-" if numeric else "none",
        label="model (mean ± std over folds)",
    )
    if (~good).any():
        ax.plot(
            x[~good],
            [0.02] * int((~good).sum()),
            "x",
            color="tab:red",
            markersize=9,
            clip_on=False,
            transform=ax.get_xaxis_transform(),
            label="failed / no value",
        )
    if numeric and all(v.is_integer() for v in x) and x.nunique() <= 20:
        ax.set_xticks(sorted(set(x)))
    elif not numeric:
        ticks = [tick(r, keys) for _, r in table.iterrows()]
        ax.set_xticks(list(x), ticks, rotation=30 if len(table) > 6 else 0, fontsize=8)
    ax.set_xlabel(", ".join(keys) if keys else "run")
    ax.set_title(f"{label} vs {keys[0]}" if numeric else f"{label} per run")
    for text, level, colour, style in references if len(names) == 1 else []:
        ax.axhline(level, ls=style, color=colour, label=text)
    if facts:
        fig.suptitle(facts, fontsize=9, color="dimgray")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()  # the model first, then the references
    first = sorted(range(len(names)), key=lambda i: not names[i].startswith("model"))
    ax.legend([handles[i] for i in first], [names[i] for i in first], fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
