"""`python -m fmri_rdm.export`: a tiny run's RDMs read back by rsatoolbox equal the run's data
(scipy on its responses), its predictions.npz and its folds; one-line errors otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from rsatoolbox.rdm import compare, load_rdm
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.data.algonauts import image_paths, load_responses
from fmri_rdm.data.root import data_root
from fmri_rdm.entry.export import export_rsatoolbox, fold_splits
from fmri_rdm.entry.export_cli import main
from fmri_rdm.rsa.splits import image_disjoint_folds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rsa_run(rsa_transfer_run) -> Path:
    return rsa_transfer_run


def test_export_reads_back_in_rsatoolbox(rsa_run, tmp_path):
    written = export_rsatoolbox(rsa_run, tmp_path)
    assert [p.name for p in written] == [
        "measured_rdm.hdf5",
        *(f"fold{f}_rdms.hdf5" for f in range(3)),
    ]
    npz = np.load(rsa_run / "predictions.npz")
    metrics = json.loads((rsa_run / "metrics.json").read_text())
    run_cfg = OmegaConf.load(rsa_run / "run_config.yaml")
    data = data_root(run_cfg)  # where the run's synthetic set lives (the values: scipy below)
    paths = image_paths(data, 1)
    idx = npz["image_indices"]
    x = load_responses(data, 1, "all", images=idx).astype(np.float64)
    direct = pdist(x, "correlation")

    measured = load_rdm(str(written[0]))
    assert measured.n_rdm == 1 and measured.n_cond == 48
    np.testing.assert_allclose(measured.dissimilarities[0], direct, atol=1e-5)
    assert measured.dissimilarity_measure == "correlation"
    assert list(measured.pattern_descriptors["image"]) == [paths[k].name for k in idx]
    nsd = [int(p.name.split("nsd-")[1].split(".")[0]) for p in paths]
    assert list(measured.pattern_descriptors["nsd_id"]) == [nsd[k] for k in idx]
    folds = image_disjoint_folds(48, 3, seed=int(run_cfg["seed"]))
    expected_fold = np.empty(48, dtype=int)
    for f, (_, test) in enumerate(folds):
        expected_fold[test] = f
    assert list(measured.pattern_descriptors["fold"]) == expected_fold.tolist()

    square = squareform(direct)
    for f, (_, test) in enumerate(folds):
        rdms = load_rdm(str(written[1 + f]))
        test = np.sort(test)
        assert list(rdms.rdm_descriptors["kind"]) == ["predicted", "measured"]
        assert list(rdms.rdm_descriptors["fold"]) == [f, f]
        assert set(rdms.rdm_descriptors["model"]) == {"rsa"}
        assert set(rdms.rdm_descriptors["subject"]) == {1}
        assert set(rdms.rdm_descriptors["roi"]) == {"all"}
        assert list(rdms.pattern_descriptors["index"]) == test.tolist()
        predicted, target = (squareform(v, checks=False) for v in rdms.dissimilarities)
        pos = np.searchsorted(test, npz[f"fold{f}_i"]), np.searchsorted(test, npz[f"fold{f}_j"])
        np.testing.assert_array_equal(predicted[pos], npz[f"fold{f}_prediction"])
        assert not np.isnan(rdms.dissimilarities).any()  # distribution=all: every test pair
        np.testing.assert_allclose(target, square[np.ix_(test, test)], atol=1e-5)
        # rsatoolbox's own correlation of the two is the fold's test Pearson (distribution=all)
        r = compare(rdms.subset("kind", "predicted"), rdms.subset("kind", "measured"), "corr")
        assert float(r[0, 0]) == pytest.approx(metrics["folds"][f]["test"]["pearson"], abs=1e-5)


def test_cli_and_one_line_errors(rsa_run, tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    failed = tmp_path / "failed"
    failed.mkdir()
    (failed / "metrics.json").write_text(json.dumps({"status": "failed", "error": "boom\nx"}))
    assert main([str(failed)]) == 2
    err = capsys.readouterr().err
    assert "failed (boom" in err and err.count("\n") == 1
    out = tmp_path / "cli"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fmri_rdm.export",
            str(rsa_run),
            "--format",
            "rsatoolbox",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_rdm(str(out / "measured_rdm.hdf5")).n_cond == 48


@pytest.mark.parametrize("k", [1, 3])
def test_fold_rule_is_the_runs(k):
    """The exported folds are the image-disjoint split / folds a run of that config trains."""
    from fmri_rdm.rsa.splits import image_disjoint_folds, image_disjoint_split

    evaluation = OmegaConf.create({"k_folds": k, "test_size": 0.25})
    want = (
        [image_disjoint_split(20, 0.25, seed=4)] if k == 1 else image_disjoint_folds(20, k, seed=4)
    )
    for (a, b), (c, d) in zip(fold_splits(20, evaluation, 4), want, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
