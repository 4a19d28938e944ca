"""Compare finished runs: one table (terminal, Markdown, CSV) and one plot of the optimised metric.

    python -m fmri_rdm.compare multirun/2026-11-26/10-00-00-123          # a sweep directory
    python -m fmri_rdm.compare outputs/train/2026-11-26/10-00-00-123 outputs/train/...  # runs
    python -m fmri_rdm.compare SWEEP --metric test.spearman.mean --sort --out reports/

A run is any directory holding `metrics.json` (found recursively under the given paths); its
command-line overrides come from `.hydra/overrides.yaml`. Only the overrides that differ between
the runs are shown; a failed job (`{"status": "failed", "error": ...}`) is listed with its error.
Writes `comparison.md`, `comparison.csv` and `comparison.png` into `--out` (default: the one
directory given, else the current directory).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fmri_rdm.artifacts import lookup
from fmri_rdm.errors import ConfigError, DataError, FmriRdmError

METRICS_FILE = "metrics.json"
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
DEFAULT_METRIC = "test.pearson.mean"
# Baselines shown when a run has them (regression and classification runs differ).
KEY_BASELINES = (
    "zero_training_spearman",
    "encoding_pearson",
    "shuffled_pearson",
    "mean_predictor_mse",
)
NOISE_CEILING = "pearson"
SECONDS_KEY = "training"
# Metric names containing one of these are "lower is better" for --sort.
_LOWER_IS_BETTER = ("mse", "mae", "loss", "error")
_ERROR_WIDTH = 80
OUTPUT_NAMES = {"markdown": "comparison.md", "csv": "comparison.csv", "plot": "comparison.png"}


@dataclass
class Run:
    """One run directory: its overrides, its metrics (None when it failed) and its status."""

    dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    status: str = "ok"
    error: str | None = None
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.metrics is not None


# ----------------------------------------------------------------------------- loading


def _natural_key(path: Path) -> list[Any]:
    """Sort key that puts job 2 before job 10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def _find_run_dirs(path: Path) -> list[Path]:
    if path.is_file():
        return [path.parent] if path.name == METRICS_FILE else []
    if (path / METRICS_FILE).is_file():
        return [path]
    found = [p.parent for p in path.rglob(METRICS_FILE) if p.is_file()]
    return sorted(found, key=_natural_key)


def _parse_overrides(run_dir: Path) -> dict[str, str]:
    """`.hydra/overrides.yaml` as {key: value}; `+key`/`++key` count as `key`, `~key` as deleted."""
    path = run_dir / OVERRIDES_FILE
    if not path.is_file():
        return {}
    try:
        items = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    result: dict[str, str] = {}
    for item in items or []:
        text = str(item)
        key, sep, value = text.partition("=")
        if not sep:
            result[text.lstrip("~")] = "<deleted>"
            continue
        result[key.lstrip("+~")] = value
    return result


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _load_run(run_dir: Path) -> Run:
    run = Run(dir=run_dir, overrides=_parse_overrides(run_dir))
    try:
        data = json.loads((run_dir / METRICS_FILE).read_text())
    except (OSError, ValueError) as err:
        run.status, run.error = "failed", f"unreadable {METRICS_FILE}: {_one_line(str(err))}"
        return run
    if not isinstance(data, dict):
        run.status, run.error = "failed", f"{METRICS_FILE} is not a JSON object"
    elif data.get("status") == "failed":
        run.status, run.error = "failed", _one_line(data.get("error") or "unknown error")
    else:
        run.metrics = data
    return run


def _labels(dirs: Sequence[Path]) -> list[str]:
    """Run names relative to the runs' common parent (job numbers in a sweep)."""
    if len(dirs) == 1:
        return [dirs[0].name or str(dirs[0])]
    try:
        common = Path(os.path.commonpath([str(d) for d in dirs]))
    except ValueError:  # different drives
        return [str(d) for d in dirs]
    return [d.relative_to(common).as_posix() for d in dirs]


def load_runs(paths: Iterable[str | os.PathLike[str]]) -> list[Run]:
    """Every run directory (one holding metrics.json) at or under `paths`, in natural order.

    Raises DataError when a path does not exist or when no run directory is found.
    """
    given = [Path(p) for p in paths]
    if not given:
        raise DataError("no run or sweep directory given")
    missing = [str(p) for p in given if not p.exists()]
    if missing:
        raise DataError(f"no such file or directory: {', '.join(missing)}")
    dirs: list[Path] = []
    seen: set[Path] = set()
    for path in given:
        for run_dir in _find_run_dirs(path):
            key = run_dir.resolve()
            if key not in seen:
                seen.add(key)
                dirs.append(run_dir)
    if not dirs:
        searched = ", ".join(str(p) for p in given)
        raise DataError(
            f"no run directories with {METRICS_FILE} found under {searched} (searched "
            f"recursively); pass a sweep directory (multirun/<date>/<time>) or run directories"
        )
    runs = [_load_run(d) for d in dirs]
    for run, label in zip(runs, _labels([r.dir.resolve() for r in runs]), strict=True):
        run.label = label
    return runs


# ----------------------------------------------------------------------------- table


def differing_overrides(runs: Sequence[Run]) -> list[str]:
    """Override keys whose value is not the same in every run (absent counts as a value)."""
    keys: list[str] = []
    for run in runs:
        keys.extend(k for k in run.overrides if k not in keys)
    return [k for k in keys if len({run.overrides.get(k) for run in runs}) > 1]


def shared_overrides(runs: Sequence[Run]) -> list[str]:
    """`key=value` overrides every run has in common."""
    differing = set(differing_overrides(runs))
    first = runs[0].overrides if runs else {}
    return [f"{k}={v}" for k, v in first.items() if k not in differing]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def metric_value(metrics: Mapping[str, Any], name: str) -> tuple[float | None, float | None]:
    """(mean, std) of a dotted metric: `test.pearson.mean` (std from `.std`) or `test.pearson`."""
    try:
        node = lookup(metrics, name)
    except KeyError:
        return None, None
    if isinstance(node, Mapping):
        return _number(node.get("mean")), _number(node.get("std"))
    std = None
    if name.endswith(".mean"):
        try:
            std = _number(lookup(metrics, name[: -len(".mean")] + ".std"))
        except KeyError:
            std = None
    return _number(node), std


def run_metric_name(run: Run, metric: str | None = None) -> str:
    """The metric compared for `run`: `metric`, else the run's own `optimized_metric.name`."""
    if metric:
        return metric
    if run.metrics is not None:
        opt = run.metrics.get("optimized_metric")
        if isinstance(opt, Mapping) and opt.get("name"):
            return str(opt["name"])
    return DEFAULT_METRIC


def _section_names(runs: Sequence[Run], section: str) -> list[str]:
    names: list[str] = []
    for run in runs:
        entries = (run.metrics or {}).get(section)
        if isinstance(entries, Mapping):
            names.extend(k for k in entries if k not in names)
    return names


def _value_columns(runs: Sequence[Run]) -> list[str]:
    """Dotted metric names (without .mean/.std) shown for these runs, in display order."""
    cols = [f"test.{n}" for n in _section_names(runs, "test")]
    baselines = _section_names(runs, "baselines")
    cols += [f"baselines.{n}" for n in KEY_BASELINES if n in baselines]
    if NOISE_CEILING in _section_names(runs, "noise_ceiling"):
        cols.append(f"noise_ceiling.{NOISE_CEILING}")
    return cols


def _check_metric(runs: Sequence[Run], metric: str | None) -> None:
    ok = [r for r in runs if r.ok]
    if metric is None or not ok:
        return
    if all(metric_value(r.metrics or {}, metric)[0] is None for r in ok):
        available = ", ".join(f"{c}.mean" for c in _value_columns(ok)) or "none"
        raise ConfigError(f"metric {metric!r} is in none of the runs; available: {available}")


def comparison_rows(runs: Sequence[Run], metric: str | None = None) -> list[dict[str, Any]]:
    """One dict per run, all with the same keys (the CSV columns), in this order:

    `run`, each differing override, `status`, `error`, `metric` (its name), `metric_mean`,
    `metric_std`, then `<section>.<name>.mean` / `.std` for every test metric, the key baselines
    and the noise-ceiling pearson, then `seconds.training` and `dir`. Missing numbers are None.
    """
    _check_metric(runs, metric)
    differing = differing_overrides(runs)
    columns = _value_columns(runs)
    rows = []
    for run in runs:
        metrics = run.metrics or {}
        name = run_metric_name(run, metric)
        mean, std = metric_value(metrics, name)
        row: dict[str, Any] = {"run": run.label or run.dir.name}
        row |= {k: run.overrides.get(k, "") for k in differing}
        row |= {"status": run.status, "error": run.error or ""}
        row |= {"metric": name, "metric_mean": mean, "metric_std": std}
        for col in columns:
            m, s = metric_value(metrics, col)
            row |= {f"{col}.mean": m, f"{col}.std": s}
        seconds = metric_value(metrics, f"seconds.{SECONDS_KEY}")[0]
        row |= {f"seconds.{SECONDS_KEY}": seconds, "dir": str(run.dir)}
        rows.append(row)
    return rows


def lower_is_better(metric: str) -> bool:
    return any(word in metric.lower() for word in _LOWER_IS_BETTER)


def sort_runs(runs: Sequence[Run], metric: str | None = None) -> list[Run]:
    """Best first by the compared metric (descending, ascending for mse/loss); failed runs last."""

    def key(run: Run) -> tuple[int, float]:
        name = run_metric_name(run, metric)
        value = metric_value(run.metrics or {}, name)[0]
        if value is None:
            return 1, 0.0
        return 0, value if lower_is_better(name) else -value

    return sorted(runs, key=key)


def _fmt(mean: Any, std: Any, digits: int = 3, sep: str = " ± ") -> str:
    if mean is None:
        return "-"
    if std is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f}{sep}{std:.{digits}f}"


def _short(text: str, width: int = _ERROR_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_NUMERIC_PREFIXES = ("test.", "baselines.", "noise_ceiling.", "seconds.")


def _display(
    rows: Sequence[Mapping[str, Any]],
    differing: Sequence[str],
    *,
    sep: str = " ± ",
    with_error: bool = True,
) -> tuple[list[str], list[list[str]]]:
    """(headers, cells) of the human-readable table shared by the terminal and Markdown.

    Headers are the dotted CSV names without `.mean`; `sep` goes between mean and std.
    """
    if not rows:
        return [], []
    value_cols = [k[: -len(".mean")] for k in rows[0] if k.endswith(".mean") and k != "metric_mean"]
    names = {r["metric"] for r in rows}
    shown = {f"{c}.mean" for c in value_cols}
    extra_metric = len(names) > 1 or not names <= shown
    headers = ["run", *differing, "status"]
    if extra_metric:
        headers.append("metric")
    headers += [*value_cols, f"seconds.{SECONDS_KEY}"]
    cells = []
    for r in rows:
        status = "ok" if r["status"] == "ok" else "failed"
        if status == "failed" and with_error:
            status = f"failed: {_short(r['error'])}"
        line = [str(r["run"]), *(str(r[k]) for k in differing), status]
        if extra_metric:
            line.append(f"{r['metric']} = {_fmt(r['metric_mean'], r['metric_std'])}")
        line += [_fmt(r[f"{c}.mean"], r[f"{c}.std"], sep=sep) for c in value_cols]
        secs = r[f"seconds.{SECONDS_KEY}"]
        line.append("-" if secs is None else f"{secs:.1f}")
        cells.append(line)
    return headers, cells


_SHORT_BASELINES = {
    "zero_training_": "zero-train",
    "shuffled_": "shuffled",
    "mean_predictor_": "mean-pred",
    "encoding_": "encoding",
}


def _terminal_header(header: str) -> str:
    """Two-line headers so that a dozen columns fit a terminal: `test.pearson` -> test/pearson."""
    section, dot, name = header.partition(".")
    if not dot:
        return header
    if section == "test":
        return f"test\n{name}"
    if section == "baselines":
        for prefix, short in _SHORT_BASELINES.items():
            if name.startswith(prefix):
                return f"{short}\n{name[len(prefix) :]}"
        return f"baseline\n{name}"
    if section == "noise_ceiling":
        return f"ceiling\n{name}"
    if header == f"seconds.{SECONDS_KEY}":
        return f"{SECONDS_KEY}\nseconds"
    head, _, tail = header.rpartition(".")  # an override key such as model.hidden_layers
    return f"{head}.\n{tail}"


def _width(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> int:
    """Characters a rich table with these (multi-line) headers and cells needs."""
    total = 1
    for i, header in enumerate(headers):
        texts = [header, *(line[i] for line in cells)]
        total += max(len(part) for t in texts for part in t.split("\n")) + 3
    return total


def _title(runs: Sequence[Run], rows: Sequence[Mapping[str, Any]]) -> str:
    n_failed = sum(not r.ok for r in runs)
    names = sorted({r["metric"] for r in rows})
    text = f"{len(runs)} run(s), {n_failed} failed · metric {', '.join(names)}"
    facts = _shared_facts(runs)
    return f"{text} · {facts}" if facts else text


def _shared_facts(runs: Sequence[Run]) -> str:
    """`model · ROI · n images` when all successful runs agree on them."""
    ok = [r.metrics for r in runs if r.metrics is not None]
    parts = []
    for key, fmt in (("model", "{}"), ("roi", "ROI {}"), ("n_images", "{} images")):
        values = {str(m.get(key)) for m in ok if m.get(key) is not None}
        if len(values) == 1:
            parts.append(fmt.format(values.pop()))
    return " · ".join(parts)


def rich_table(runs: Sequence[Run], metric: str | None = None, width: int | None = None) -> Any:
    """The comparison as a `rich.table.Table`: the compared metric's column in bold, failed runs
    in red with their errors below. Std goes under the mean when one line would exceed `width`."""
    from rich.table import Table

    rows = comparison_rows(runs, metric)
    differing = differing_overrides(runs)
    headers, cells = _display(rows, differing, with_error=False)
    short = [_terminal_header(h) for h in headers]
    if width is not None and _width(short, cells) > width:
        headers, cells = _display(rows, differing, sep="\n±", with_error=False)
    failed = [f"{r['run']}: {_short(r['error'], 160)}" for r in rows if r["status"] != "ok"]
    table = Table(
        title=_title(runs, rows),
        caption="failed " + "\nfailed ".join(failed) if failed else None,
        caption_justify="left",
        caption_style="red",
    )
    bold = {r["metric"][: -len(".mean")] for r in rows if r["metric"].endswith(".mean")}
    for h, label in zip(headers, short, strict=True):
        numeric = h.startswith(_NUMERIC_PREFIXES)
        style = "bold" if h in bold else ("dim" if h.startswith("baselines.") else None)
        table.add_column(label, justify="right" if numeric else "left", style=style)
    for line, row in zip(cells, rows, strict=True):
        table.add_row(*line, style=None if row["status"] == "ok" else "red")
    return table


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(runs: Sequence[Run], rows: Sequence[Mapping[str, Any]]) -> str:
    headers, cells = _display(rows, differing_overrides(runs))
    lines = ["# Run comparison", "", _title(runs, rows), ""]
    shared = shared_overrides(runs)
    if shared:
        lines += ["Shared overrides: " + " ".join(f"`{s}`" for s in shared), ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
    align = ["---:" if h.startswith(_NUMERIC_PREFIXES) else "---" for h in headers]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in line) + " |" for line in cells]
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        lines += ["", "## Failed runs", ""]
        lines += [f"- `{r['run']}`: {_md_cell(r['error'])}" for r in failed]
    return "\n".join(lines) + "\n"


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        if not rows:
            return
        keys = list(rows[0])
        writer.writerow(keys)
        for row in rows:
            writer.writerow(["" if row[k] is None else row[k] for k in keys])


# ----------------------------------------------------------------------------- plot


def _as_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _baseline_name(metric: str, runs: Sequence[Run]) -> str | None:
    """The zero-training baseline matching the metric (zero_training_pearson), else spearman."""
    names = _section_names(runs, "baselines")
    parts = metric.split(".")
    if len(parts) >= 2 and parts[0] == "test" and f"zero_training_{parts[1]}" in names:
        return f"zero_training_{parts[1]}"
    return "zero_training_spearman" if "zero_training_spearman" in names else None


def _mean_of(values: Iterable[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return sum(finite) / len(finite) if finite else None


def plot_comparison(runs: Sequence[Run], path: Path, metric: str | None = None) -> Path:
    """`comparison.png`: the metric (mean ± std) against the swept override, or a bar per run."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = comparison_rows(runs, metric)
    differing = differing_overrides(runs)
    names = sorted({r["metric"] for r in rows})
    metric_label = names[0] if len(names) == 1 else "optimised metric (" + ", ".join(names) + ")"
    values = [(_as_float(str(r[differing[0]])) if len(differing) == 1 else None) for r in rows]
    numeric = len(differing) == 1 and all(v is not None for v in values)

    fig = Figure(figsize=(max(6.4, 0.9 * len(rows) + 2) if not numeric else 6.4, 4.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ok_rows = [(v, r) for v, r in zip(values, rows, strict=True) if r["metric_mean"] is not None]
    bad_rows = [(v, r) for v, r in zip(values, rows, strict=True) if r["metric_mean"] is None]
    if numeric:
        param = differing[0]
        ok_rows.sort(key=lambda vr: float(vr[0] or 0.0))
        xs = [float(v or 0.0) for v, _ in ok_rows]
        ax.errorbar(
            xs,
            [r["metric_mean"] for _, r in ok_rows],
            yerr=[r["metric_std"] or 0.0 for _, r in ok_rows],
            marker="o",
            capsize=4,
            label="model (mean ± std over folds)",
        )
        all_x = sorted({float(v or 0.0) for v in values})
        if all(x.is_integer() for x in all_x) and len(all_x) <= 20:
            ax.set_xticks(all_x)
        if bad_rows:
            ax.plot(
                [float(v or 0.0) for v, _ in bad_rows],
                [0.02] * len(bad_rows),
                "x",
                color="tab:red",
                markersize=9,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label="failed / no value",
            )
        ax.set_xlabel(param)
        ax.set_title(f"{metric_label} vs {param}")
    else:
        labels = []
        for r in rows:
            parts = [f"{k}={r[k]}" for k in differing if r[k] != ""]
            labels.append("\n".join(parts) if parts else str(r["run"]))
        positions = list(range(len(rows)))
        means = [r["metric_mean"] if r["metric_mean"] is not None else 0.0 for r in rows]
        errs = [r["metric_std"] or 0.0 for r in rows]
        colors = ["tab:blue" if r["metric_mean"] is not None else "none" for r in rows]
        ax.bar(positions, means, yerr=errs, capsize=4, color=colors, label="model (mean ± std)")
        for pos, r in zip(positions, rows, strict=True):
            if r["metric_mean"] is None:
                ax.text(
                    pos,
                    0.02,
                    "failed" if r["status"] != "ok" else "n/a",
                    color="tab:red",
                    ha="center",
                    va="bottom",
                    rotation=90,
                    transform=ax.get_xaxis_transform(),
                )
        ax.set_xticks(positions)
        ax.set_xticklabels(labels, rotation=30 if len(rows) > 6 else 0, fontsize=8)
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_xlabel(", ".join(differing) if differing else "run")
        ax.set_title(f"{metric_label} per run")
    baseline = _baseline_name(names[0], runs) if len(names) == 1 else None
    if baseline:
        level = _mean_of(metric_value(r.metrics or {}, f"baselines.{baseline}")[0] for r in runs)
        if level is not None:
            ax.axhline(level, linestyle="--", color="tab:gray", label=f"zero-training ({baseline})")
    facts = _shared_facts(runs)
    if facts:
        fig.suptitle(facts, fontsize=9, color="dimgray")
    ax.set_ylabel(metric_label)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("model"))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


# ----------------------------------------------------------------------------- outputs / CLI


def write_comparison(
    runs: Sequence[Run], out_dir: str | os.PathLike[str], metric: str | None = None
) -> dict[str, Path]:
    """Write comparison.md, comparison.csv and comparison.png into `out_dir`; their paths by kind
    (`markdown`, `csv`, `plot`)."""
    if not runs:
        raise DataError("no runs to compare")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = comparison_rows(runs, metric)
    paths = {kind: out / name for kind, name in OUTPUT_NAMES.items()}
    paths["markdown"].write_text(_markdown(runs, rows))
    _write_csv(paths["csv"], rows)
    plot_comparison(runs, paths["plot"], metric)
    return paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fmri_rdm.compare",
        description="Compare runs: a table of differing overrides, status and mean ± std scores, "
        "written as comparison.md / comparison.csv, and a plot comparison.png.",
    )
    parser.add_argument("paths", nargs="+", help="a sweep directory, or run directories")
    parser.add_argument(
        "--out", type=Path, help="output folder (default: the one directory given, else .)"
    )
    parser.add_argument(
        "--metric",
        help="dotted metrics.json key, e.g. test.spearman.mean (default: each run's "
        "optimized_metric.name)",
    )
    parser.add_argument(
        "--sort", action="store_true", help="best run first (lower first for mse/loss metrics)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="stimulus resamples for the paired differences of each run against the first "
        "(runs sharing folds and test pairs); 0 leaves them out",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        runs = load_runs(args.paths)
        if args.sort:
            runs = sort_runs(runs, args.metric)
        out = args.out or Path.cwd()
        if args.out is None and len(args.paths) == 1:
            first = Path(args.paths[0])
            out = first if first.is_dir() else first.parent
        from rich.console import Console

        console = Console()
        piped = not console.is_terminal  # a file, a pipe or a SLURM log: never cut cells
        table = rich_table(runs, args.metric, width=None if piped else console.width)
        if piped:
            console = Console(width=max(80, Console(width=1 << 16).measure(table).maximum))
        paths = write_comparison(runs, out, args.metric)
    except FmriRdmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    console.print(table)
    if args.bootstrap > 0:
        from fmri_rdm.stats.paired import paired_report

        for item in paired_report(runs, n_boot=args.bootstrap):
            console.print(item)
    for path in paths.values():
        console.print(f"wrote {path}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
