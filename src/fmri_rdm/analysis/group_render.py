"""How `compare --across subject` shows its analysis: terminal tables, Markdown, CSV, figures.

Files (into --out, default as `compare`): comparison_group.csv, comparison_group_paired.csv,
comparison_group_subjects.csv (one row per run), comparison_group.md and the figures of
`plots.group` (comparison_group*.png).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fmri_rdm.analysis.group import (
    BOOT_METHOD,
    EXTRA_SCORES,
    T_METHOD,
    TF_METHOD,
    GroupAnalysis,
)
from fmri_rdm.errors import ConfigError

FILES = {
    "csv": "comparison_group.csv",
    "paired_csv": "comparison_group_paired.csv",
    "subjects_csv": "comparison_group_subjects.csv",
    "markdown": "comparison_group.md",
}
METHODS = [
    f"`ci` = {T_METHOD}: generalises to new subjects, images fixed.",
    f"`boot` = {BOOT_METHOD}: with n = 4-8 subjects a nominal 95 % interval holds the mean "
    "far less often than 95 % (its spread is sd·√((n-1)/n) with normal quantiles); shown for "
    "reference, not for inference.",
    f"`2f` = {TF_METHOD}, on the test pairs among the images every subject saw "
    "(`n_images_shared`, matched by stimulus id). `2f scope`: `subjects+images` for a fixed "
    "model (nothing fitted): generalises to new subjects AND new images; `subjects+images | "
    "fits` for a fitted model (or a difference involving one): only the test images are "
    "resampled, the models fitted once per fold are kept, so it is conditional on those fits "
    "(not refit per resample, unlike rsatoolbox's bootstrap_crossval).",
    "`pearson (all pairs)`: a fixed model scored on every pair of its run (metrics.json "
    "all_pairs), mean over subjects; every other score is the mean over folds of each fold's "
    "within-test pairs.",
    "Paired: `p` = exact two-sided sign-flip test over subjects (smallest possible p = 2/2^n: "
    "0.125 for 4 subjects), `p 2f` = t test of the 2-factor difference; both Holm-corrected "
    "over all comparisons of a score (family-wise error).",
]


def setting_text(value: Any) -> str:
    """A setting in a printed table: a path by its file name (the CSVs keep the full path; a
    full path made the table several terminals wide)."""
    text = str(value)
    return Path(text).name or text if "/" in text else text


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def cell(mean: Any, lo: Any = None, hi: Any = None) -> str:
    if not _num(mean):
        return "-"
    if _num(lo) and _num(hi):
        return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{mean:.3f}"


def cells(frame: pd.DataFrame, mean: str, lo: str, hi: str) -> list[str]:
    """`mean [lo, hi]` per row of three columns."""
    return [cell(*r) for r in frame[[mean, lo, hi]].itertuples(index=False)]


def _p(v: Any) -> str:
    return "-" if not _num(v) else f"{v:.3g}"


def p_cells(frame: pd.DataFrame, p: str, adjusted: str) -> list[str]:
    """`p (adjusted p)` per row."""
    return [f"{_p(x)} ({_p(y)})" for x, y in zip(frame[p], frame[adjusted], strict=True)]


def group_display(a: GroupAnalysis) -> pd.DataFrame:
    """Strings of the group table: settings, n, each score with its t / 2-factor intervals,
    the inter-subject ceiling band and the baselines."""
    t = a.table
    shown = pd.DataFrame({k: t[k].map(setting_text) for k in a.keys})
    shown["n"] = t["n_subjects"].astype(str)
    for s in ("pearson", "spearman"):
        if f"test_{s}_mean" not in t:
            continue
        shown[f"{s} (ci)"] = cells(t, f"test_{s}_mean", f"test_{s}_ci_low", f"test_{s}_ci_high")
        shown[f"{s} (2f)"] = cells(
            t, f"test_{s}_2f_mean", f"test_{s}_2f_ci_low", f"test_{s}_2f_ci_high"
        )
    lo, hi = "noise_ceiling_inter_subject_lower_mean", "noise_ceiling_inter_subject_upper_mean"
    if lo in t and hi in t:
        shown["ceiling (inter-subj)"] = [
            f"{a_:.3f}-{b_:.3f}" if _num(a_) and _num(b_) else "-"
            for a_, b_ in zip(t[lo], t[hi], strict=True)
        ]
    elif "noise_ceiling_pearson_mean" in t:
        shown["ceiling"] = t["noise_ceiling_pearson_mean"].map(cell)
    lo, hi = "noise_ceiling_sessions_lower_mean", "noise_ceiling_sessions_upper_mean"
    if lo in t and hi in t:  # RDM data with sessions: the within-subject ceiling beside it
        shown["ceiling (sessions)"] = [
            f"{a_:.3f}-{b_:.3f}" if _num(a_) and _num(b_) else "-"
            for a_, b_ in zip(t[lo], t[hi], strict=True)
        ]
    for name, label in (("zero_training_pearson", "zero-train"), ("encoding_pearson", "encoding")):
        if f"baseline_{name}_mean" in t:
            shown[label] = t[f"baseline_{name}_mean"].map(cell)
    if "transfer_pearson_mean" in t:
        shown["transfer"] = t["transfer_pearson_mean"].map(cell)
    for s in EXTRA_SCORES:  # evaluation.measures: t intervals over subjects
        if f"test_{s}_mean" in t:
            shown[f"{s} (ci)"] = cells(t, f"test_{s}_mean", f"test_{s}_ci_low", f"test_{s}_ci_high")
    shown["images shared"] = t["n_images_shared"].astype(str)
    shown["2f scope"] = scopes(t)
    if "all_pairs_pearson_mean" in t:
        shown["pearson (all pairs)"] = t["all_pairs_pearson_mean"].map(cell)
    return shown


def partition_display(a: GroupAnalysis) -> pd.DataFrame:
    """Strings of the variance partition of weighted runs: one column per component (unique
    and shared R² of the candidates, cross-validated), mean [t interval] over subjects."""
    t = a.table
    parts = [c[: -len("_mean")] for c in t.columns if c.startswith("vp_") and c.endswith("_mean")]
    if not parts:
        return pd.DataFrame()
    keep = t[f"{parts[0]}_mean"].notna()
    shown = pd.DataFrame({k: t.loc[keep, k].astype(str) for k in a.keys})
    for p in parts:
        shown[p[3:]] = cells(t[keep], f"{p}_mean", f"{p}_ci_low", f"{p}_ci_high")
    return shown


def scopes(frame: pd.DataFrame) -> list[str]:
    """What each row's 2-factor interval generalises over (METHODS): `subjects+images` for
    fixed models, `subjects+images | fits` otherwise."""
    fixed = frame["fits_nothing"] if "fits_nothing" in frame else [False] * len(frame)
    return ["subjects+images" if bool(f) else "subjects+images | fits" for f in fixed]


def paired_display(a: GroupAnalysis) -> pd.DataFrame:
    p = a.paired
    if p.empty:
        return pd.DataFrame()
    key = a.reference_key or "model"
    others = [k for k in a.keys if k != key]
    shown = pd.DataFrame({c: p[c].map(setting_text) for c in [key, "reference", *others, "score"]})
    shown["n"] = p["n_subjects"].astype(str)
    shown["diff (ci)"] = cells(p, "diff_mean", "ci_low", "ci_high")
    shown["p (Holm)"] = p_cells(p, "p_value", "p_adjusted")
    shown["diff (2f)"] = cells(p, "diff_2f_mean", "ci_2f_low", "ci_2f_high")
    shown["p 2f (Holm)"] = p_cells(p, "p_2f", "p_2f_adjusted")
    shown["2f scope"] = scopes(p)
    return shown


def rich_tables(a: GroupAnalysis) -> list[Any]:
    from rich import box
    from rich.table import Table

    out = []
    for title, frame in (
        (f"across subjects: {len(a.table)} group(s)", group_display(a)),
        (f"paired across subjects, reference {a.reference_key}={a.reference}", paired_display(a)),
        ("variance partition (cross-validated R², t over subjects)", partition_display(a)),
    ):
        if frame.empty:
            continue
        table = Table(box=box.HEAVY_HEAD, title=title)
        for col in frame.columns:
            table.add_column(col, justify="left" if col in a.keys else "right")
        for row in frame.itertuples(index=False):
            table.add_row(*row)
        out.append(table)
    return out


def markdown(a: GroupAnalysis) -> str:
    def md(frame: pd.DataFrame) -> list[str]:
        if frame.empty:
            return ["(none)"]
        esc = [[str(c).replace("|", "\\|") for c in r] for r in frame.itertuples(index=False)]
        head = "| " + " | ".join(frame.columns) + " |"
        rule = "|" + "|".join("---" for _ in frame.columns) + "|"
        return [head, rule, *("| " + " | ".join(r) + " |" for r in esc)]

    lines = ["# Across subjects", "", "95 % intervals. Methods:", ""]
    lines += [f"- {m}" for m in METHODS]
    lines += ["", "## Groups", "", *md(group_display(a)), ""]
    lines += [f"## Paired against {a.reference_key}={a.reference}", "", *md(paired_display(a))]
    partition = partition_display(a)
    if not partition.empty:
        lines += ["", "## Variance partition (cross-validated R², t over subjects)", ""]
        lines += md(partition)
    if a.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in a.notes)]
    return "\n".join(lines) + "\n"


def write_group(a: GroupAnalysis, out: Path, score: str = "pearson") -> dict[str, Path]:
    """Write the CSVs, Markdown and figures into `out`; their paths by kind. `score`: the
    score of the model-comparison figure (comparison_models.png)."""
    from fmri_rdm.plots.group import save_group_figures
    from fmri_rdm.plots.model_comparison import plot_model_comparison

    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / name for kind, name in FILES.items()}
    a.table.to_csv(paths["csv"], index=False)
    a.paired.to_csv(paths["paired_csv"], index=False)
    a.subjects.to_csv(paths["subjects_csv"], index=False)
    paths["markdown"].write_text(markdown(a))
    figures = save_group_figures(out, a)
    if len(a.table) >= 2 and f"test_{score}_mean" in a.table:
        figures["models"] = plot_model_comparison(out / "comparison_models.png", a, score)
    elif score != "pearson":
        raise ConfigError(f"--score {score}: the runs have no test {score} (evaluation.measures)")
    return paths | figures


def main(args: argparse.Namespace, out: Path) -> int:
    """`compare --across`: print the tables and notes, write the files (exit 2 on a user
    error, as `compare`)."""
    from rich.console import Console

    from fmri_rdm.analysis.group import analyse
    from fmri_rdm.analysis.runs import load_runs
    from fmri_rdm.analysis.time_group import summary_lines, time_group, write_time_group
    from fmri_rdm.errors import FmriRdmError

    try:
        runs = load_runs(args.paths)
        analysis = analyse(
            runs, across=args.across, reference=args.reference, n_boot=args.bootstrap
        )
        paths = write_group(analysis, out, getattr(args, "score", None) or "pearson")
        timed = time_group(analysis, runs, n_boot=args.bootstrap, seed=0)
        if timed is not None:  # time-resolved runs: the group time courses too
            paths |= write_time_group(timed, out)
    except FmriRdmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    console = Console()
    tables = rich_tables(analysis)
    if not console.is_terminal:  # a file, a pipe or a SLURM log: never cut cells
        wide = max(Console(width=1 << 16).measure(t).maximum for t in tables) if tables else 80
        console = Console(width=max(80, wide))
    for table in tables:
        console.print(table)
    for note in [*(m.replace("`", "") for m in METHODS), *analysis.notes]:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    for line in summary_lines(timed) if timed is not None else []:
        console.print(line, highlight=False, soft_wrap=True)
    for path in paths.values():
        console.print(f"wrote {path}", highlight=False)
    return 0


def add_arguments(add: Any) -> None:
    """The --across options of `compare`'s parser."""
    add("--across", choices=["subject"], help="the group level: aggregate over subjects, "
        "grouped by every other varying setting, with paired comparisons (writes "
        "comparison_group*.csv/.md/.png; --bootstrap sets the 2-factor resamples; test "
        "pearson and spearman are aggregated, --metric and --sort do not apply)")  # fmt: skip
    add("--score", default="pearson", help="with --across: the score of the model-comparison "
        "figure comparison_models.png (pearson, spearman, or a measure of evaluation.measures "
        "such as tau_a)")  # fmt: skip
    add("--reference", metavar="KEY=VALUE", help="with --across: the level every other is "
        "compared to, e.g. model=encoding (default: the first model)")  # fmt: skip


def run_group(args: argparse.Namespace, out: Path) -> int | None:
    """`main`'s result when --across is given, else None (compare goes on as before)."""
    return main(args, out) if getattr(args, "across", None) else None


__all__: Sequence[str] = ["add_arguments", "markdown", "run_group", "write_group"]
