"""`python -m fmri_rdm.compare`: tables, CSV, Markdown and plot from hand-made run directories."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fmri_rdm.analysis import compare
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.reporting.results import FailedRun
from tests.helpers import sweep_metrics, write_run

FAILED_ERROR = "ConfigError: fold 0 has no training or no test pairs with distribution=all"


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """multirun/<date>/<time>/{0..3}: hidden_layers 0..3, job 2 failed."""
    root = tmp_path / "multirun" / "2026-11-26" / "10-00-00-123"
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for layers in range(4):
        overrides = ["experiment=demo", f"model.hidden_layers={layers}", "seed=0"]
        if layers == 2:
            metrics = FailedRun(FAILED_ERROR, {"seed": 0}).to_json()
        else:
            metrics = sweep_metrics(layers)
        write_run(root / str(layers), overrides, metrics)
    return root


def test_load_runs_and_differing_overrides(sweep: Path) -> None:
    runs = compare.load_runs([sweep])
    assert [r.label for r in runs] == ["0", "1", "2", "3"]
    assert compare.differing_overrides(runs) == ["model.hidden_layers"]
    assert compare.shared_overrides(runs) == ["experiment=demo", "seed=0"]
    assert [r.status for r in runs] == ["ok", "ok", "failed", "ok"]
    assert runs[2].metrics is None and runs[2].error == FAILED_ERROR
    assert runs[1].overrides["model.hidden_layers"] == "1"


def test_comparison_rows_match_metrics(sweep: Path) -> None:
    runs = compare.load_runs([sweep])
    rows = compare.comparison_rows(runs, None)
    assert len(rows) == 4 and all(list(r) == list(rows[0]) for r in rows)
    for row, run in zip(rows, runs, strict=True):
        assert row["model.hidden_layers"] == run.overrides["model.hidden_layers"]
        if run.metrics is None:
            assert row["status"] == "failed" and row["error"] == FAILED_ERROR
            assert row["test.pearson.mean"] is None and row["metric_mean"] is None
            continue
        m = run.metrics
        assert row["status"] == "ok" and row["error"] == ""
        assert row["metric"] == "test.pearson.mean"
        assert row["metric_mean"] == m["test"]["pearson"]["mean"]
        assert row["metric_std"] == m["test"]["pearson"]["std"]
        for name in ("pearson", "spearman", "r2", "mse"):
            assert row[f"test.{name}.mean"] == m["test"][name]["mean"]
            assert row[f"test.{name}.std"] == m["test"][name]["std"]
        # the baselines of the compared score (pearson), not a spearman one beside it
        shown = compare.key_baselines(list(m["baselines"]), "pearson")
        assert shown == ["zero_training_pearson", "encoding_pearson", "shuffled_pearson",
                         "mean_predictor_mse"]  # fmt: skip
        for name in shown:
            assert row[f"baselines.{name}.mean"] == m["baselines"][name]["mean"]
        assert "baselines.zero_training_spearman.mean" not in row
        assert row["noise_ceiling.pearson.mean"] == 0.95
        assert row["seconds.training"] == m["seconds"]["training"]
        assert row["seconds.fit"] == sum(f["seconds"]["fit"] for f in m["folds"])
    # only the key baselines, not every one
    assert "baselines.mean_predictor_r2.mean" not in rows[0]
    assert "experiment" not in rows[0] and "seed" not in rows[0]


def test_write_comparison_csv_markdown_png(sweep: Path, tmp_path: Path) -> None:
    runs = compare.load_runs([sweep])
    paths = compare.write_comparison(runs, tmp_path / "out")
    assert set(paths) == {"markdown", "csv", "plot"}

    with paths["csv"].open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 4
    for row, run in zip(table, runs, strict=True):
        assert row["model.hidden_layers"] == run.overrides["model.hidden_layers"]
        assert row["status"] == run.status
        if run.metrics is None:
            assert row["error"] == FAILED_ERROR and row["test.pearson.mean"] == ""
            continue
        for name in ("pearson", "mse"):
            for stat in ("mean", "std"):
                assert float(row[f"test.{name}.{stat}"]) == run.metrics["test"][name][stat]
        assert float(row["baselines.zero_training_pearson.mean"]) == 0.22
        assert float(row["seconds.training"]) == run.metrics["seconds"]["training"]

    md = paths["markdown"].read_text()
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + 3  # header, separator, the 3 finished runs
    header = table_lines[0]
    assert "model.hidden_layers" in header and "status" in header and "test.pearson" in header
    assert "experiment" not in header
    assert "0.400 ± 0.020" in table_lines[3]  # hidden_layers=1
    assert "3 run(s) (1 failed: listed below)" in md
    failed = md[md.index("## Failed runs") :]  # listed apart, below the table
    assert "- `2`: ConfigError: fold 0 has no training or no test pairs" in failed
    assert "`experiment=demo`" in md

    png = paths["plot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_main_sweep_defaults_out_to_sweep_dir(
    sweep: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert compare.main([str(sweep), "--sort"]) == 0
    out = capsys.readouterr().out
    assert "hidden_layers" in out and "0.400" in out and "±0.020" in out  # piped: 100 columns
    assert "failed 2: ConfigError: fold 0" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith("wrote ")) <= 100
    for name in compare.OUTPUT_NAMES.values():
        assert (sweep / name).is_file()
    with (sweep / "comparison.csv").open(newline="") as handle:
        order = [r["model.hidden_layers"] for r in csv.DictReader(handle)]
    assert order == ["3", "1", "0", "2"]  # best pearson first, the failed run last


def test_main_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    (empty / "0" / ".hydra").mkdir(parents=True)
    assert compare.main([str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no run directories with metrics.json found under")
    assert str(empty) in err and "\n" not in err

    assert compare.main([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no such file or directory" in err and "missing" in err
    with pytest.raises(DataError):
        compare.load_runs([empty])


def test_unknown_metric_is_a_config_error(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = compare.load_runs([sweep])
    with pytest.raises(ConfigError, match=r"test\.nope\.mean"):
        compare.comparison_rows(runs, "test.nope.mean")
    assert compare.main([str(sweep), "--metric", "test.nope.mean"]) == 2
    assert "available: test.pearson.mean" in capsys.readouterr().err


def test_multiple_explicit_dirs_and_metric_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "outputs" / "train" / "2026-11-26"
    a = write_run(base / "10-00-00-123", ["model=siamese", "training.lr=0.001"], sweep_metrics(1))
    b = write_run(base / "11-00-00-456", ["model=mlp", "training.lr=0.001"], sweep_metrics(2))
    runs = compare.load_runs([a, b, a])  # duplicates are dropped
    assert [r.label for r in runs] == ["10-00-00-123", "11-00-00-456"]
    assert compare.differing_overrides(runs) == ["model"]

    monkeypatch.chdir(tmp_path)  # not where it writes: next to the runs, their common parent
    assert compare.main([str(a), str(b), "--metric", "test.spearman.mean"]) == 0
    assert not (tmp_path / "comparison.csv").exists()
    with (base / "comparison.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["model"] for r in rows] == ["siamese", "mlp"]
    assert {r["metric"] for r in rows} == {"test.spearman.mean"}
    assert float(rows[1]["metric_mean"]) == pytest.approx(0.48)
    assert (base / "comparison.png").is_file()
    # spearman compared: its baselines, not pearson's
    assert "baselines.zero_training_spearman.mean" in rows[0]
    assert "baselines.encoding_pearson.mean" not in rows[0]
    out = tmp_path / "elsewhere"
    assert compare.main([str(a), str(b), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(compare.OUTPUT_NAMES.values())


def test_sort_lower_is_better_for_mse(sweep: Path) -> None:
    runs = compare.sort_runs(compare.load_runs([sweep]), "test.mse.mean")
    assert [r.overrides["model.hidden_layers"] for r in runs] == ["3", "1", "0", "2"]
    assert compare.lower_is_better("test.mse.mean") and not compare.lower_is_better("test.r2")


def test_narrow_terminal_puts_std_under_mean(sweep: Path) -> None:
    from rich.console import Console

    runs = compare.load_runs([sweep])
    console = Console(width=100, record=True)
    console.print(compare.rich_table(runs, width=100))
    text = console.export_text()
    assert "±0.020" in text and "0.400 ±" not in text


def test_runs_of_several_models_are_rows_with_their_model(tmp_path: Path) -> None:
    """Presets that set the model (no `model=` override) still show which model each row is."""
    rsa = sweep_metrics(0) | {"model": "rsa"}
    for fold in rsa["folds"]:
        fold["seconds"] = {}  # no fit recorded: the fit-seconds cell is empty
    write_run(tmp_path / "a", ["experiment=x"], sweep_metrics(1))
    write_run(tmp_path / "b", ["experiment=x"], rsa)
    write_run(
        tmp_path / "c", ["experiment=x"], FailedRun("boom", {"model": {"name": "frrsa"}}).to_json()
    )
    runs = compare.load_runs([tmp_path])
    rows = compare.comparison_rows(runs)
    assert [r["model"] for r in rows] == ["siamese", "rsa", "frrsa"]
    assert [r["seconds.fit"] for r in rows] == [6.0, None, None]
    paths = compare.write_comparison(runs, tmp_path / "out")
    header = next(line for line in paths["markdown"].read_text().splitlines() if line[:1] == "|")
    assert "| model |" in header and "seconds.fit" in header


def test_failed_runs_never_add_columns_and_the_figure_shows_every_reference(
    tmp_path: Path,
) -> None:
    """A job that failed on a typo (`model.dropuot=0.3`, `roi.name=...`) is listed below the
    table; its overrides are no columns. The figure draws the table's baselines of the
    compared score and the ceiling."""
    import matplotlib.image

    from fmri_rdm.analysis.compare_render import references

    root = tmp_path / "sweep"
    for layers in (0, 1):
        write_run(root / str(layers), [f"model.hidden_layers={layers}"], sweep_metrics(layers))
    bad = FailedRun("ConfigError: model.dropuot: did you mean 'model.net.dropout'?", {})
    write_run(root / "2", ["model.dropuot=0.3", "roi.name=ffa"], bad.to_json())
    runs = compare.load_runs([root])
    assert compare.row_keys(runs) == ["model.hidden_layers"]
    paths = compare.write_comparison(runs, root)
    header = paths["csv"].read_text().splitlines()[0]
    assert "dropuot" not in header and "roi.name" not in header
    labels = [name for name, *_ in references(compare.frame(runs), "test.pearson.mean")]
    assert labels == [
        "zero-training: 0.220",
        "encoding model: 0.350",
        "shuffled (chance): 0.010",
        "noise ceiling: 0.950",
    ]
    assert matplotlib.image.imread(paths["plot"]).shape[0] > 100


def test_paired_titles_name_the_swept_values(tmp_path: Path) -> None:
    runs = [
        write_run(tmp_path / str(k), [f"model.hidden_layers={k}"], sweep_metrics(k)) for k in (0, 1)
    ]
    labelled = compare._swept_labels(compare.load_runs(runs))
    assert [r.label for r in labelled] == ["model.hidden_layers=0", "model.hidden_layers=1"]


def test_execution_overrides_never_tell_runs_apart() -> None:
    """A sweep re-run with skip_completed=true (to fill in failed jobs) is the same experiment:
    that key, paths and hydra settings are not settings that differ."""
    from pathlib import Path

    from fmri_rdm.analysis.runs import Run, differing_overrides

    def run(overrides: dict[str, str]) -> Run:
        return Run(Path("x"), None, None, overrides, "x")  # type: ignore[arg-type]

    runs = [
        run({"model": "rsa", "data.subject": "sub-01"}),
        run({"model": "rsa", "data.subject": "sub-05", "skip_completed": "true"}),
        run({"model": "mlp", "data.subject": "sub-06", "hydra.sweep.dir": "b", "paths.x": "y"}),
    ]
    assert differing_overrides(runs) == ["model", "data.subject"]
