"""How `fmri_rdm.analysis.compare` shows its DataFrame: a rich terminal table, Markdown and a plot.

The frame (`compare.frame`) holds numbers; here they become `mean ± std` cells, two-line
headers that let a dozen columns fit a terminal, and `comparison.png`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from fmri_rdm.reporting.results import RunMetrics

if TYPE_CHECKING:
    from fmri_rdm.analysis.runs import Run

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
    n_ok = len(runs) - n_failed
    failed = f" ({n_failed} failed: listed below)" if n_failed else ""
    metrics = ", ".join(sorted(set(table["metric"][table["status"] == "ok"]))) or "-"
    text = f"{n_ok} run(s){failed} · metric {metrics}"
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
    runs: Sequence[Run],
    table: pd.DataFrame,
    keys: Sequence[str],
    width: int | None,
    columns: Sequence[str] | None = None,
    list_failed: bool = True,
) -> Any:
    """A `rich.table.Table`: the compared metric in bold; the finished runs are its rows and
    the failed ones are listed below it with their errors (all runs are rows when none
    finished); std goes under the mean when one line per row would exceed `width`.
    `columns`: the value columns to show (default: all); `list_failed`: the failed runs below
    (a table split in parts lists them under the last one only)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    ok = table["status"] == "ok"
    rows = table[ok] if ok.any() else table

    def build(sep: str) -> Table:
        shown = display(rows, keys, sep=sep, with_error=False)
        if ok.any():
            shown = shown.drop(columns="status")
        if columns is not None:
            fixed = [c for c in shown.columns if not c.startswith(_NUMERIC)]
            times = any(c.startswith("seconds.") for c in columns)  # one or two columns

            def wanted(c: str) -> bool:
                return c in columns or (times and c.startswith("seconds."))

            shown = shown[[*fixed, *(c for c in shown.columns if wanted(c))]]
        bad = table[~ok] if ok.any() and list_failed else table.iloc[:0]
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
        bold = {m[: -len(".mean")] for m in rows["metric"] if m.endswith(".mean")}
        for col in shown.columns:
            style = "bold" if col in bold else ("dim" if col.startswith("baselines.") else None)
            right = col.startswith(_NUMERIC)
            out.add_column(_terminal_header(col), justify="right" if right else "left", style=style)
        for line, status in zip(shown.itertuples(index=False), rows["status"], strict=True):
            out.add_row(*line, style=None if status == "ok" else "red")
        return out

    wide = build(" ± ")
    if width is not None and Console(width=1 << 16).measure(wide).maximum > width:
        return build("\n±")
    return wide


def terminal_tables(
    runs: Sequence[Run], table: pd.DataFrame, keys: Sequence[str], width: int | None
) -> list[Any]:
    """The comparison in as many tables as it takes to fit `width` characters (None: one):
    each repeats the row keys; the value columns (scores, baselines, ceiling, seconds) are
    split in display order, none left out."""
    from rich.console import Console

    whole = terminal_table(runs, table, keys, width)
    measure = Console(width=1 << 16).measure
    if width is None or measure(whole).maximum <= width:
        return [whole]
    values = [c for c in display(table, keys, sep="\n±").columns if c.startswith(_NUMERIC)]
    groups: list[list[str]] = [[]]
    for col in values:
        trial = terminal_table(runs, table, keys, width, [*groups[-1], col])
        if groups[-1] and measure(trial).maximum > width:
            groups.append([col])
        else:
            groups[-1].append(col)
    last = len(groups) - 1
    return [
        terminal_table(runs, table, keys, width, group, list_failed=k == last)
        for k, group in enumerate(groups)
    ]


def write_markdown(
    path: Path, runs: Sequence[Run], table: pd.DataFrame, keys: Sequence[str], shared: list[str]
) -> None:
    ok = table["status"] == "ok"
    shown = display(table[ok] if ok.any() else table, keys)

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


_REFERENCE_STYLE = {  # baseline prefix -> (legend name, colour, line style)
    "baselines.zero_training_": ("zero-training", "tab:gray", "--"),
    "baselines.encoding_": ("encoding model", "tab:green", "-."),
    "baselines.shuffled_": ("shuffled (chance)", "silver", ":"),
    "noise_ceiling.": ("noise ceiling", "tab:purple", "-"),
}


def references(table: pd.DataFrame, metric: str) -> list[tuple[str, float, str, str]]:
    """(legend label, mean over runs, colour, line style) of every baseline and ceiling column
    of the table on the compared score's scale (`baselines.encoding_pearson` for
    test.pearson.mean; the zero-training Spearman of older runs is named as such)."""
    parts = metric.split(".")
    score = parts[1] if len(parts) >= 2 and parts[0] == "test" else None
    found = []
    for col in [c[: -len(".mean")] for c in table.columns if c.endswith(".mean")]:
        for prefix, (name, colour, style) in _REFERENCE_STYLE.items():
            if not col.startswith(prefix):
                continue
            own = col[len(prefix) :]
            if own != score and not (prefix == "baselines.zero_training_" and score):
                continue
            values = pd.to_numeric(table[f"{col}.mean"], errors="coerce").dropna()
            if len(values):
                label = name if own == score else f"{name} ({own})"
                found.append((f"{label}: {values.mean():.3f}", float(values.mean()), colour, style))
    return found
