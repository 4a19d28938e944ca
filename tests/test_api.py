"""The Python API (`fmri_rdm.config / run / compare / predict_rdm / export`): the same configs,
checks and files as the command-line tools, errors as exceptions, figures and tables for
notebooks. Values are checked against the run's own files (metrics.json, rsatoolbox)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
import yaml

import fmri_rdm as fr
from tests.helpers import TINY

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light_and_names_resolve():
    code = (
        "import sys, fmri_rdm as fr\n"
        "heavy = [m for m in ('torch', 'hydra', 'lightning') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(fr.config) and callable(fr.run) and callable(fr.compare)\n"
        "import fmri_rdm.pipeline.experiment as e\n"
        "assert e.run.__module__ == 'fmri_rdm.pipeline.experiment'\n"
        "assert fr.ConfigError.__module__ == 'fmri_rdm.errors'\n"
    )
    env_path = f"{ROOT / 'src'}"
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": env_path}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_library_dotted_paths_still_resolve():
    """fmri_rdm.config stays a module for imports; the run layer is fmri_rdm.pipeline."""
    from hydra.utils import get_method

    assert (
        get_method("fmri_rdm.pipeline.experiment.run").__module__ == "fmri_rdm.pipeline.experiment"
    )
    assert get_method("fmri_rdm.config.register_schemas").__name__ == "register_schemas"


def test_config_shorthands_experiment_and_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = fr.config("model=mlp", "model.dropout=0.25", experiment="demo")
    assert cfg.model.name == "mlp" and cfg.model.net.dropout == 0.25
    assert cfg.data.source == "synthetic" and cfg.task_name == "demo"
    out = Path(cfg.paths.output_dir)
    assert out.is_relative_to(tmp_path / "outputs" / "demo") and not out.exists()
    assert "hydra" not in cfg
    chosen = fr.config(experiment="demo", output_dir=tmp_path / "mine")
    assert chosen.paths.output_dir == str(tmp_path / "mine")
    given = fr.config("paths.output_dir=/tmp/elsewhere", experiment="demo")
    assert given.paths.output_dir == "/tmp/elsewhere"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model=siamse", "did you mean 'siamese'?"),
        ("evaluation.k_folds=high", "evaluation.k_folds"),
        ("nonsense", "nonsense"),
    ],
)
def test_config_errors_are_config_errors_with_suggestions(override, expected):
    with pytest.raises(fr.ConfigError) as caught:
        fr.config(override)
    message = str(caught.value)
    assert expected in message and "\n" not in message


@pytest.fixture(scope="module")
def api_runs(tmp_path_factory, cache_dir):
    """An rsa run and a 1-epoch mlp run made through the API, from a scratch folder."""
    work = tmp_path_factory.mktemp("api_runs")
    base = [*TINY, f"paths.cache_dir={cache_dir}"]
    rsa = fr.run(fr.config(*base, "model=rsa", output_dir=work / "rsa"))
    cfg = fr.config(*base, "model=mlp", "model.hidden_layers=1", output_dir=work / "mlp")
    cfg.trainer.max_epochs = 1  # changed after config(): recorded for compare too
    mlp = fr.run(cfg)
    return work, rsa, mlp


def test_run_returns_metrics_with_frames_and_plots(api_runs):
    work, rsa, _ = api_runs
    assert rsa.run_dir == work / "rsa"
    written = json.loads((work / "rsa" / "metrics.json").read_text())
    folds = rsa.folds_frame()
    assert list(folds["fold"]) == [f["fold"] for f in written["folds"]]
    np.testing.assert_allclose(
        folds["test_pearson"], [f["test"]["pearson"] for f in written["folds"]]
    )
    summary = rsa.summary_frame().set_index(["section", "name"])
    assert summary.loc[("test", "pearson"), "mean"] == pytest.approx(
        written["test"]["pearson"]["mean"]
    )
    assert summary.loc[("noise_ceiling", "pearson"), "std"] == pytest.approx(
        written["noise_ceiling"]["pearson"]["std"]
    )
    assert rsa.plots and all(
        p.is_file() and p.parent == work / "rsa" / "plots" for p in rsa.plots.values()
    )
    from fmri_rdm.reporting.run_frames import show

    assert rsa.show() is None and show(rsa) == []  # outside IPython: logged, nothing displayed
    with pytest.raises(fr.DataError, match="no figure 'nope'"):
        rsa.show(["nope"])
    loaded = fr.RunMetrics.load(work / "rsa")
    assert loaded.to_json() == rsa.to_json() and loaded.plots == rsa.plots
    assert "run_dir" not in written


def test_a_run_from_the_api_writes_train_log(api_runs):
    """As train.py's runs do: the library's records from INFO up, in Hydra's format."""
    work, _, _ = api_runs
    log = (work / "rsa" / "train.log").read_text()
    assert "][INFO] - " in log and "[fmri_rdm.plots.run_plots][INFO] - wrote" in log


def test_run_log_leaves_what_the_caller_shows_unchanged(tmp_path, capsys):
    from fmri_rdm.runtime.console import run_log

    library = logging.getLogger("fmri_rdm.somewhere")
    handler = logging.StreamHandler(sys.stdout)
    logging.getLogger().addHandler(handler)
    try:
        with run_log(tmp_path / "train.log"):
            library.info("only in the file")
            library.warning("in both")
    finally:
        logging.getLogger().removeHandler(handler)
    assert capsys.readouterr().out == "in both\n"
    written = (tmp_path / "train.log").read_text()
    assert "[fmri_rdm.somewhere][INFO] - only in the file" in written and "in both" in written
    assert logging.getLogger("fmri_rdm").level == logging.NOTSET


def test_overrides_recorded_for_compare(api_runs):
    work, _, _ = api_runs
    recorded = yaml.safe_load((work / "mlp" / ".hydra" / "overrides.yaml").read_text())
    assert "model.net.hidden_layers=1" in recorded and "trainer.max_epochs=1" in recorded
    assert "trainer.max_epochs=2" not in recorded


def test_compare_returns_the_tables_and_files_of_the_command(api_runs, tmp_path):
    from fmri_rdm.analysis.compare import main

    work, rsa, mlp = api_runs
    result = fr.compare([rsa, mlp], out=tmp_path / "api")
    table = result.tables["runs"]
    assert list(table["model"]) == ["rsa", "mlp"]
    assert table["test.pearson.mean"].tolist() == pytest.approx(
        [rsa.test_score("pearson"), mlp.test_score("pearson")]
    )
    assert main([str(work / "rsa"), str(work / "mlp"), "--out", str(tmp_path / "cli"),
                 "--bootstrap", "0"]) == 0  # fmt: skip
    for kind, path in result.files.items():
        if path.suffix != ".png":
            assert path.read_text() == (tmp_path / "cli" / path.name).read_text(), kind
    assert [p.suffix for p in result.figures] == [".png"]
    with pytest.raises(fr.DataError):
        fr.compare([tmp_path / "nothing"])


def test_predict_rdm_matches_the_command(api_runs, tmp_path):
    from fmri_rdm.data.algonauts import image_paths
    from fmri_rdm.data.root import data_root
    from fmri_rdm.entry.predict import main

    work, _, mlp = api_runs
    folder = tmp_path / "images"
    folder.mkdir()
    cfg = yaml.safe_load((work / "mlp" / "run_config.yaml").read_text())
    root = data_root(fr.config(*TINY, f"paths.cache_dir={cfg['paths']['cache_dir']}"))
    for p in image_paths(root, 1)[:4]:
        (folder / p.name).write_bytes(p.read_bytes())
    rdm = fr.predict_rdm(mlp.run_dir, folder)
    assert rdm.shape == (6,) and rdm.dtype == np.float32
    assert main([f"run={mlp.run_dir}", f"images={folder}", f"out={tmp_path / 'cli'}"]) == 0
    np.testing.assert_array_equal(rdm, np.load(tmp_path / "cli" / "predicted_rdm.npy"))
    listed = fr.predict_rdm(mlp.run_dir, sorted(folder.iterdir()))
    np.testing.assert_array_equal(listed, rdm)
    with pytest.raises(fr.DataError, match="at least 2"):
        fr.predict_rdm(mlp.run_dir, [next(folder.iterdir())])


def test_export_reads_back_in_rsatoolbox(api_runs, tmp_path):
    from rsatoolbox.rdm import load_rdm

    _, rsa, _ = api_runs
    files = fr.export(rsa.run_dir, out=tmp_path)
    assert [p.name for p in files] == [
        "measured_rdm.hdf5",
        *(f"fold{k}_rdms.hdf5" for k in range(3)),
    ]
    assert load_rdm(str(files[0])).n_cond == rsa.n_images
    with pytest.raises(fr.ConfigError, match="unknown export format"):
        fr.export(rsa.run_dir, format="npz")


def test_run_raises_and_records_a_user_error(tmp_path, cache_dir):
    missing = tmp_path / "no_data"
    cfg = fr.config("logger=none", f"data.root={missing}", output_dir=tmp_path / "bad")
    with pytest.raises(fr.DataError, match="no_data"):
        fr.run(cfg)
    recorded = json.loads((tmp_path / "bad" / "metrics.json").read_text())
    assert recorded["status"] == "failed" and "no_data" in recorded["error"]
    with pytest.raises(fr.DataError, match="failed"):
        fr.RunMetrics.load(tmp_path / "bad")


def test_quiet_lightning_restores_levels():
    from fmri_rdm.api.running import quiet_lightning

    logger = logging.getLogger("lightning.pytorch")
    logger.setLevel(logging.DEBUG)
    with quiet_lightning():
        assert logger.level == logging.WARNING
    assert logger.level == logging.DEBUG
    logger.setLevel(logging.NOTSET)


@pytest.mark.parametrize("name", ["config", "compare", "export"])
def test_help_shows_the_function(name):
    """`help(fr.config)` showed the schema module; it shows the function first."""
    import inspect
    import pydoc

    text = pydoc.render_doc(getattr(fr, name), renderer=pydoc.plaintext)
    function = getattr(import_module(fr._API[name]), name)  # the API function itself
    assert f"fmri_rdm.{name}({str(inspect.signature(function))[1:]}" in text
    assert inspect.getdoc(function).splitlines()[0] in text.split("DESCRIPTION")[1][:300]


@pytest.mark.parametrize(
    "bad",
    ["evaluation.calibration=bogus", "evaluation.k_folds=0", "model.net.dropout=high"],
    ids=["calibration", "no_folds", "network_value"],
)
def test_both_front_doors_refuse_a_bad_setting_with_the_same_line(bad, tmp_path):
    """`fr.run` and `python train.py` go through one job lifecycle (`entry.job.run_job`): the
    same checks, the same message, the same failure record."""
    from tests.helpers import train_py

    cfg = fr.config("logger=none", bad, experiment="demo", output_dir=tmp_path / "api")
    with pytest.raises(fr.FmriRdmError) as raised:
        fr.run(cfg)
    done = train_py(
        ["experiment=demo", "logger=none", bad, f"hydra.run.dir={tmp_path / 'cli'}"],
        tmp_path / "cache",
        tmp_path,
    )
    assert done.returncode == 2, done.stderr
    line = [s for s in done.stderr.splitlines() if s.startswith("error:")]
    assert len(line) == 1 and str(raised.value) in line[0], (line, str(raised.value))
    for run_dir in ("api", "cli"):
        recorded = json.loads((tmp_path / run_dir / "metrics.json").read_text())
        assert recorded["status"] == "failed" and str(raised.value) in recorded["error"]
