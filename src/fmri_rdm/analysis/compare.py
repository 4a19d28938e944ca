"""Compare finished runs: one table (terminal, Markdown, CSV) and one plot of the optimised metric.

    python -m fmri_rdm.compare multirun/2026-11-26/10-00-00-123          # a sweep directory
    python -m fmri_rdm.compare outputs/train/2026-11-26/10-00-00-123 outputs/train/...  # runs
    python -m fmri_rdm.compare SWEEP --metric test.spearman.mean --sort --out reports/

A run is any directory holding `metrics.json` (found recursively under the given paths, read
through `reporting.results`); its command-line overrides come from `.hydra/overrides.yaml`. Only
the overrides that differ between the runs are shown (and the model, when runs of several models
are compared); a failed job is listed with its error. Writes `comparison.md`, `comparison.csv`
and `comparison.png` next to the runs (the sweep directory given, or the runs' common parent),
or into `--out`. Failed runs are listed below the table and never add columns.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fmri_rdm.analysis.compare_render import (
    SECONDS,
    references,
    shared_facts,
    terminal_table,
    terminal_tables,
    write_markdown,
)
from fmri_rdm.analysis.group_render import add_arguments as group_arguments
from fmri_rdm.analysis.group_render import main as group_main
from fmri_rdm.analysis.runs import Run, differing_overrides, load_runs
from fmri_rdm.errors import ConfigError, DataError, FmriRdmError
from fmri_rdm.plots.compare import plot_comparison
from fmri_rdm.reporting.results import RunMetrics
from fmri_rdm.reporting.transfer import transfer_columns

DEFAULT_METRIC = "test.pearson.mean"
# Baselines shown when a run has them (regression and classification runs differ), of the
# compared score: `{}` is pearson for test.pearson.*, spearman for test.spearman.*
KEY_BASELINES = (
    "zero_training_{}",
    "encoding_{}",
    "shuffled_{}",
    "mean_predictor_mse",
)
LEGACY_ZERO_TRAINING = "zero_training_spearman"  # runs older than zero_training_pearson
NOISE_CEILING = "pearson"
ALL_PAIRS = ("pearson", "spearman")  # a fixed model's all-pairs scores (metrics.json all_pairs)
_LOWER_IS_BETTER = ("mse", "mae", "loss", "error")  # in a metric name: lower is better
OUTPUT_NAMES = {"markdown": "comparison.md", "csv": "comparison.csv", "plot": "comparison.png"}


def shared_overrides(runs: Sequence[Run]) -> list[str]:
    """`key=value` overrides every run has in common."""
    differing = set(differing_overrides(runs))
    first = runs[0].overrides if runs else {}
    return [f"{k}={v}" for k, v in first.items() if k not in differing]


def row_keys(runs: Sequence[Run]) -> list[str]:
    """What tells the runs apart: the differing overrides, and `model` when the runs hold
    several models that no override names (e.g. presets that set the model). Only finished
    runs count: a failed run's typo (`model.dropuot=0.3`) never becomes a column."""
    runs = [r for r in runs if r.ok] or list(runs)
    keys = differing_overrides(runs)
    if "model" not in keys and len({r.model for r in runs if r.model}) > 1:
        keys.append("model")
    return keys


def lower_is_better(metric: str) -> bool:
    return any(word in metric.lower() for word in _LOWER_IS_BETTER)


def run_metric_name(run: Run, metric: str | None = None) -> str:
    """The metric compared for `run`: `metric`, else the run's own `optimized_metric.name`."""
    own = run.result.optimized_name if isinstance(run.result, RunMetrics) else None
    return metric or own or DEFAULT_METRIC


def compared_score(runs: Sequence[Run], metric: str | None = None) -> str:
    """`pearson` for test.pearson.mean (the default), `spearman` for test.spearman.*, ...:
    the score whose baselines the table and the figure show."""
    names = {run_metric_name(r, metric) for r in runs if r.ok} or {metric or DEFAULT_METRIC}
    parts = sorted(names)[0].split(".")
    return parts[1] if len(names) == 1 and len(parts) >= 2 and parts[0] == "test" else "pearson"


def key_baselines(available: Sequence[str], score: str) -> list[str]:
    """The baselines of `score` that the runs have (the zero-training Spearman of older runs
    only when they have no zero-training baseline of the score)."""
    wanted = [name.format(score) for name in KEY_BASELINES]
    if wanted[0] not in available and LEGACY_ZERO_TRAINING in available:
        wanted[0] = LEGACY_ZERO_TRAINING
    return [n for n in dict.fromkeys(wanted) if n in available]


def _value_columns(runs: Sequence[Run], metric: str | None = None) -> list[str]:
    """Dotted metric names (without .mean/.std) shown for these runs, in display order."""
    ok = [r.result for r in runs if isinstance(r.result, RunMetrics)]

    def names(section: str) -> list[str]:
        return list(dict.fromkeys(n for m in ok for n in getattr(m, section)))

    cols = [f"test.{n}" for n in names("test")]
    score = compared_score(runs, metric)
    cols += [f"baselines.{n}" for n in key_baselines(names("baselines"), score)]
    ceiling = score if score in names("noise_ceiling") else NOISE_CEILING
    if ceiling in names("noise_ceiling"):
        cols.append(f"noise_ceiling.{ceiling}")
    # a fixed model's scores on all pairs (metrics.json all_pairs): the `test.*` columns are
    # fold means of within-fold test pairs
    cols += [f"all_pairs.test.{s}" for s in ALL_PAIRS if any(_has_all_pairs(m, s) for m in ok)]
    return cols + transfer_columns(ok)  # only when runs have evaluation.transfer_subjects


def _has_all_pairs(result: RunMetrics, score: str) -> bool:
    return score in ((result.all_pairs or {}).get("test") or {})


def frame(runs: Sequence[Run], metric: str | None = None) -> pd.DataFrame:
    """The comparison: one row per run; columns `run`, each differing override (and `model`),
    `status`, `error`, `metric` (its name), `metric_mean`, `metric_std`, `<col>.mean` / `.std`
    for every test metric, key baseline and the noise-ceiling pearson, `seconds.fit` (sum over
    folds of the learner's fits), `seconds.training` and `dir`. Missing numbers are NaN.
    """
    columns = _value_columns(runs, metric)
    ok = [r for r in runs if r.ok]
    if metric and ok and all(_result(r).value(metric)[0] is None for r in ok):
        available = ", ".join(f"{c}.mean" for c in _value_columns(ok)) or "none"
        raise ConfigError(f"metric {metric!r} is in none of the runs; available: {available}")
    keys = row_keys(runs)
    records = []
    for run in runs:
        res, name = _result(run), run_metric_name(run, metric)
        row: dict[str, Any] = {"run": run.name or run.label or run.dir.name}
        row |= {k: run.overrides.get(k, "") for k in keys}
        if "model" in keys and "model" not in run.overrides:  # the model no override names
            row["model"] = run.model or ""
        row |= {"status": run.status, "error": run.error or "", "metric": name}
        row["metric_mean"], row["metric_std"] = res.value(name)
        for col in columns:
            row[f"{col}.mean"], row[f"{col}.std"] = res.value(col)
        row |= {SECONDS[0]: res.fit_seconds, SECONDS[1]: res.value(SECONDS[1])[0]}
        records.append(row | {"dir": str(run.dir)})
    return pd.DataFrame.from_records(records, columns=list(records[0]) if records else None)


def _result(run: Run) -> RunMetrics:
    return run.result if isinstance(run.result, RunMetrics) else RunMetrics()


def comparison_rows(runs: Sequence[Run], metric: str | None = None) -> list[dict[str, Any]]:
    """`frame` as one dict per run (the CSV columns), missing numbers as None."""
    table = frame(runs, metric).astype(object)
    return table.where(table.notna(), None).to_dict("records")  # type: ignore[return-value]


def sort_runs(runs: Sequence[Run], metric: str | None = None) -> list[Run]:
    """Best first by the compared metric (descending, ascending for mse/loss); failed runs last."""

    def key(run: Run) -> tuple[int, float]:
        name = run_metric_name(run, metric)
        value = _result(run).value(name)[0]
        if value is None:
            return 1, 0.0
        return 0, value if lower_is_better(name) else -value

    return sorted(runs, key=key)


def rich_table(runs: Sequence[Run], metric: str | None = None, width: int | None = None) -> Any:
    """The comparison as a `rich.table.Table` (std under the mean beyond `width` characters)."""
    return terminal_table(runs, frame(runs, metric), row_keys(runs), width)


def write_comparison(
    runs: Sequence[Run], out_dir: str | os.PathLike[str], metric: str | None = None
) -> dict[str, Path]:
    """Write comparison.md, comparison.csv and comparison.png into `out_dir`; their paths by kind
    (`markdown`, `csv`, `plot`)."""
    if not runs:
        raise DataError("no runs to compare")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = frame(runs, metric)
    paths = {kind: out / name for kind, name in OUTPUT_NAMES.items()}
    write_markdown(paths["markdown"], runs, table, row_keys(runs), shared_overrides(runs))
    table.to_csv(paths["csv"], index=False)
    ok = table[table["status"] == "ok"]
    metrics = sorted(set(ok["metric"]))
    refs = references(ok, metrics[0]) if len(metrics) == 1 else []
    plot_comparison(paths["plot"], ok, row_keys(runs), refs, shared_facts(runs))
    return paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fmri_rdm.compare",
        description="Compare runs: a table of differing overrides, status and mean ± std scores, "
        "written as comparison.md / comparison.csv, and a plot comparison.png.",
    )
    add = parser.add_argument
    add("paths", nargs="+", help="a sweep directory, or run directories")
    add("--out", type=Path, help="output folder (default: next to the runs: the sweep "
        "directory given, or the runs' common parent)")  # fmt: skip
    add("--metric", help="dotted metrics.json key, e.g. test.spearman.mean (default: each run's "
        "optimized_metric.name)")  # fmt: skip
    add("--sort", action="store_true", help="best run first (lower first for mse/loss metrics)")
    add("--bootstrap", type=int, default=1000, help="stimulus resamples for the paired "
        "differences of each run against the first (runs sharing folds and test pairs); 0 "
        "leaves them out")  # fmt: skip
    group_arguments(add)  # --across subject, --reference: reporting.group_render
    return parser


def _out_dir(args: argparse.Namespace) -> Path:
    """--out, else next to the runs: the one directory given (a sweep), else the common parent
    of the paths given (`outputs/demo/*/*` -> `outputs/demo`), never the current folder."""
    if args.out is not None:
        return Path(args.out)
    given = [Path(p) for p in args.paths]
    if len(given) == 1:
        return given[0] if given[0].is_dir() else given[0].parent
    dirs = [(p if p.is_dir() else p.parent).resolve() for p in given]
    return Path(os.path.commonpath(dirs))


def _swept_labels(runs: Sequence[Run]) -> list[Run]:
    """The runs labelled by what tells them apart (`model.hidden_layers=1`), not by their job
    folders, for the paired tables' titles."""
    from dataclasses import replace

    keys = row_keys(runs)
    if not keys and not any(run.name for run in runs):
        return list(runs)

    def label(run: Run) -> str:
        if run.name:  # name=<label>: the run's own short name
            return run.name
        return ", ".join(f"{k}={run.overrides.get(k) or (run.model if k == 'model' else '')}"
                         for k in keys)  # fmt: skip

    return [replace(run, label=label(run)) for run in runs]


PIPED_WIDTH = 100  # a file or a pipe has no width: a table a 100-column terminal shows whole


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    args = _parser().parse_args(argv)
    if args.across:
        return group_main(args, _out_dir(args))
    try:
        runs = load_runs(args.paths)
        if args.sort:
            runs = sort_runs(runs, args.metric)
        out = _out_dir(args)
        console = Console()
        piped = not console.is_terminal  # a file, a pipe or a SLURM log: never cut cells
        width = PIPED_WIDTH if piped else console.width
        tables = terminal_tables(runs, frame(runs, args.metric), row_keys(runs), width)
        if piped:
            widest = max(Console(width=1 << 16).measure(t).maximum for t in tables)
            console = Console(width=max(PIPED_WIDTH, widest))
        paths = write_comparison(runs, out, args.metric)
    except FmriRdmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for table in tables:
        console.print(table)
    if args.bootstrap > 0:
        from fmri_rdm.stats.paired import paired_report

        for item in paired_report(_swept_labels(runs), n_boot=args.bootstrap):
            console.print(item)
    for path in paths.values():
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
