"""How `fmri_rdm.reporting.compare` shows its DataFrame: a rich terminal table, Markdown and a plot.

The frame (`compare.frame`) holds numbers; here they become `mean ± std` cells, two-line
headers that let a dozen columns fit a terminal, and `comparison.png`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from fmri_rdm.reporting.results import RunMetrics

if TYPE_CHECKING:
    from fmri_rdm.reporting.runs import Run

SECONDS = ("seconds.fit", "seconds.training")  # the learner's fits; the whole fold loop
_NUMERIC = ("test.", "baselines.", "noise_ceiling.", "seconds.", "transfer.")
_SHORT = {  # header prefix -> first header line in the terminal
    "baselines.zero_training_": "zero-train",
    "baselines.shuffled_": "shuffled",
    "baselines.mean_predictor_": "mean-pred",
    "baselines.encoding_": "encoding",
    "baselines.": "baseline",
    "noise_ceiling.": "ceiling",
    "test.": "test",
    "transfer.": "transfer",
}


def _cell(mean: Any, std: Any, sep: str = " ± ") -> str:
    if mean is None or pd.isna(mean):
        return "-"
    return f"{mean:.3f}" if std is None or pd.isna(std) else f"{mean:.3f}{sep}{std:.3f}"


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def display(
    table: pd.DataFrame, keys: Sequence[str], *, sep: str = " ± ", with_error: bool = True
) -> pd.DataFrame:
    """Strings of the human-readable table: the row keys, status, the compared metric when it
    is not one of the columns, `mean ± std` per value column and the seconds."""
    values = [c[: -len(".mean")] for c in table.columns if c.endswith(".mean")]
    names = set(table["metric"])
    shown = pd.DataFrame({k: table[k].astype(str) for k in ["run", *keys]})
    shown["status"] = [
        s if s == "ok" else f"failed: {_short(e)}" if with_error else "failed"
        for s, e in zip(table["status"], table["error"], strict=True)
    ]
    if len(names) > 1 or not names <= {f"{c}.mean" for c in values}:
        cells = map(_cell, table["metric_mean"], table["metric_std"])
        shown["metric"] = [f"{n} = {c}" for n, c in zip(table["metric"], cells, strict=True)]
    for col in values:
        pairs = zip(table[f"{col}.mean"], table[f"{col}.std"], strict=True)
        shown[col] = [_cell(m, s, sep) for m, s in pairs]
    fit, training = (table[c].map(lambda v: "-" if pd.isna(v) else f"{v:.1f}") for c in SECONDS)
    if "\n" in sep:  # stacked cells: one column for both times saves a terminal column
        shown["seconds.fit\ntraining"] = fit + "\n" + training
    else:
        shown["seconds.fit"], shown["seconds.training"] = fit, training
    return shown


def title(runs: Sequence[Run], table: pd.DataFrame) -> str:
    n_failed = sum(not r.ok for r in runs)
    text = (
        f"{len(runs)} run(s), {n_failed} failed · metric {', '.join(sorted(set(table['metric'])))}"
    )
    facts = shared_facts(runs)
    return f"{text} · {facts}" if facts else text


def shared_facts(runs: Sequence[Run]) -> str:
    """`model · ROI · n images` when all successful runs agree on them."""
    ok = [r.result for r in runs if isinstance(r.result, RunMetrics)]
    parts = []
    for key, fmt in (("model", "{}"), ("roi", "ROI {}"), ("n_images", "{} images")):
        values = {str(getattr(m, key)) for m in ok if getattr(m, key) is not None}
        if len(values) == 1:
            parts.append(fmt.format(values.pop()))
    return " · ".join(parts)


def _terminal_header(header: str) -> str:
    """`test.pearson` -> test / pearson, `model.hidden_layers` -> model. / hidden_layers."""
    if header.startswith("seconds."):
        return f"{header.partition('.')[2]}\nseconds"
    for prefix, short in _SHORT.items():
        if header.startswith(prefix):
            return f"{short}\n{header[len(prefix) :]}"
    head, dot, tail = header.rpartition(".")
    return f"{head}.\n{tail}" if dot else header


def terminal_table(
    runs: Sequence[Run], table: pd.DataFrame, keys: Sequence[str], width: int | None
) -> Any:
    """A `rich.table.Table`: the compared metric in bold, failed runs in red with their errors
    below; std goes under the mean when one line per row would exceed `width`."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    def build(sep: str) -> Table:
        shown = display(table, keys, sep=sep, with_error=False)
        bad = table[table["status"] != "ok"]
        failed = [f"{r}: {_short(e, 160)}" for r, e in zip(bad["run"], bad["error"], strict=True)]
        stacked = "\n" in sep  # narrow terminal: one space between columns, no rules
        out = Table(
            box=box.SIMPLE_HEAD if stacked else box.HEAVY_HEAD,
            collapse_padding=stacked,
            pad_edge=not stacked,
            title=title(runs, table),
            caption="failed " + "\nfailed ".join(failed) if failed else None,
            caption_justify="left",
            caption_style="red",
        )
        bold = {m[: -len(".mean")] for m in table["metric"] if m.endswith(".mean")}
        for col in shown.columns:
            style = "bold" if col in bold else ("dim" if col.startswith("baselines.") else None)
            right = col.startswith(_NUMERIC)
            out.add_column(_terminal_header(col), justify="right" if right else "left", style=style)
        for line, status in zip(shown.itertuples(index=False), table["status"], strict=True):
            out.add_row(*line, style=None if status == "ok" else "red")
        return out

    wide = build(" ± ")
    if width is not None and Console(width=1 << 16).measure(wide).maximum > width:
        return build("\n±")
    return wide


def write_markdown(
    path: Path, runs: Sequence[Run], table: pd.DataFrame, keys: Sequence[str], shared: list[str]
) -> None:
    shown = display(table, keys)

    def escape(text: Any) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    def row(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(map(escape, cells)) + " |"

    lines = ["# Run comparison", "", title(runs, table), ""]
    if shared:
        lines += ["Shared overrides: " + " ".join(f"`{s}`" for s in shared), ""]
    lines.append(row(shown.columns))
    lines.append("|" + "|".join("---:" if c.startswith(_NUMERIC) else "---" for c in shown) + "|")
    lines += [row(cells) for cells in shown.itertuples(index=False)]
    bad = table[table["status"] != "ok"]
    if len(bad):
        lines += ["", "## Failed runs", ""]
        lines += [f"- `{r}`: {escape(e)}" for r, e in zip(bad["run"], bad["error"], strict=True)]
    path.write_text("\n".join(lines) + "\n")


def _zero_training(metric: str, runs: Sequence[Run]) -> tuple[str, float] | None:
    """(name, mean over runs) of the zero-training baseline matching the metric
    (zero_training_pearson for test.pearson.*), else zero_training_spearman."""
    ok = [r.result for r in runs if isinstance(r.result, RunMetrics)]
    names = {n for m in ok for n in m.baselines}
    parts = metric.split(".")
    wanted = f"zero_training_{parts[1]}" if len(parts) >= 2 and parts[0] == "test" else ""
    name = wanted if wanted in names else "zero_training_spearman"
    levels = [v for m in ok if (v := m.baseline(name)) is not None]
    return (name, sum(levels) / len(levels)) if levels else None


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def plot_comparison(
    path: Path, runs: Sequence[Run], table: pd.DataFrame, keys: Sequence[str]
) -> Path:
    """`comparison.png`: the metric (mean ± std over folds) against the swept parameter (one
    numeric override), else one point per run, beside the zero-training baseline; runs without
    a value are crosses under the axis."""
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
        ticks = [
            "\n".join(f"{k}={r[k]}" for k in keys if r[k] != "") or str(r["run"])
            for _, r in table.iterrows()
        ]
        ax.set_xticks(list(x), ticks, rotation=30 if len(table) > 6 else 0, fontsize=8)
    ax.set_xlabel(", ".join(keys) if keys else "run")
    ax.set_title(f"{label} vs {keys[0]}" if numeric else f"{label} per run")
    baseline = _zero_training(names[0], runs) if len(names) == 1 else None
    if baseline:
        ax.axhline(baseline[1], ls="--", color="tab:gray", label=f"zero-training ({baseline[0]})")
    if facts := shared_facts(runs):
        fig.suptitle(facts, fontsize=9, color="dimgray")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()  # the model first, then the references
    first = sorted(range(len(names)), key=lambda i: not names[i].startswith("model"))
    ax.legend([handles[i] for i in first], [names[i] for i in first], fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
