"""Trial-level folders (`<roi>.trials.npy` + `.trials.tsv`): loading, averaging, the measured
RDM of `fmri_rdm.measured_rdm` against rsatoolbox on the same trials, and bad inputs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import squareform

import fmri_rdm
from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import DataError


@pytest.fixture(scope="module")
def trials_root(tmp_path_factory) -> Path:
    return generate_folder(
        tmp_path_factory.mktemp("trials") / "ds", kind="trials", n_images=24, n_shared=18,
        n_units=15, n_sessions=4, seed=5,
    )  # fmt: skip


def _files(root: Path, subject: str = "sub-01") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.load(root / subject / "IT.trials.npy")
    with (root / subject / "IT.trials.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return x, np.array([r["stimulus_id"] for r in rows]), np.array([r["run"] for r in rows])


def test_averages_and_trials_follow_the_subject_order(trials_root: Path) -> None:
    source = FolderSource(trials_root)
    assert source.rois("sub-01") == ["IT"] and source.kind("sub-01", "IT") == "responses"
    x, ids, _runs = _files(trials_root)
    assert np.isnan(x).all(axis=1).any()  # the generator leaves some trials missing
    data = source.load("sub-01", "IT", rows=None, standardize=False)
    assert data.trials is not None and data.trials.column == "run"
    kept_ids = source.stimuli("sub-01").ids[data.kept]
    present = ~np.isnan(x).all(axis=1)
    for k, sid in enumerate(kept_ids[:5]):
        mine = present & (ids == sid)
        np.testing.assert_allclose(data.responses[k], x[mine].mean(axis=0), rtol=1e-6)
        assert (data.trials.stimulus == k).sum() == mine.sum()
    sub = source.load("sub-01", "IT", rows=np.array([3, 0, 7]), standardize=False)
    assert set(sub.trials.stimulus) <= {0, 1, 2} and sub.responses.shape[0] == sub.kept.size


@pytest.mark.parametrize("noise", ["identity", "shrinkage_diag", "shrinkage_eye"])
def test_measured_rdm_equals_rsatoolbox(trials_root: Path, noise: str) -> None:
    rsa_data = pytest.importorskip("rsatoolbox.data")
    rsa_rdm = pytest.importorskip("rsatoolbox.rdm")
    from rsatoolbox.data.noise import prec_from_unbalanced

    got = fmri_rdm.measured_rdm(trials_root, "sub-02", "IT", metric="crossnobis", noise=noise)
    assert isinstance(got, pd.DataFrame) and list(got.index) == list(got.columns)
    x, ids, runs = _files(trials_root, "sub-02")
    keep = ~np.isnan(x).all(axis=1) & np.isin(ids, got.index)
    data = rsa_data.Dataset(
        x[keep].astype(np.float64), obs_descriptors={"stim": ids[keep], "run": runs[keep]}
    )
    prec = None if noise == "identity" else prec_from_unbalanced(data, "stim", method=noise)
    want = rsa_rdm.calc_rdm_unbalanced(
        data, method="crossnobis", descriptor="stim", cv_descriptor="run", noise=prec
    )
    order = list(want.pattern_descriptors["stim"])
    idx = [order.index(s) for s in got.index]
    ref = want.get_matrices()[0][np.ix_(idx, idx)]
    assert np.isfinite(ref).all() and np.ptp(ref) > 0
    np.testing.assert_allclose(got.to_numpy(), ref, rtol=1e-6, atol=1e-9)


def test_correlation_is_the_rdm_of_the_averages(trials_root: Path) -> None:
    from fmri_rdm.rsa.rdm import compute_rdm

    source = FolderSource(trials_root)
    data = source.load("sub-01", "IT", rows=None, standardize=True)
    got = fmri_rdm.measured_rdm(trials_root, "sub-01", "IT", metric="correlation")
    np.testing.assert_allclose(
        got.to_numpy(), squareform(compute_rdm(data.responses, "correlation")), atol=1e-6
    )


def test_unbalanced_stimuli_in_one_run_are_left_out(tmp_path: Path, trials_root: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(trials_root, root)
    x, ids, runs = _files(root)
    lone = ids[0]
    drop = (ids == lone) & (runs != runs[0])  # stimulus `lone` now seen in one run only
    np.save(root / "sub-01" / "IT.trials.npy", x[~drop])
    pairs = zip(ids[~drop], runs[~drop], strict=True)
    lines = ["stimulus_id\trun"] + [f"{i}\t{r}" for i, r in pairs]
    (root / "sub-01" / "IT.trials.tsv").write_text("\n".join(lines) + "\n")
    got = fmri_rdm.measured_rdm(root, "sub-01", "IT", metric="crossnobis", noise="diag")
    assert lone not in got.index and np.isfinite(got.to_numpy()).all()


def test_bad_tables_name_the_file(tmp_path: Path, trials_root: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(trials_root, root)
    table = root / "sub-01" / "IT.trials.tsv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match="lines but the trials file has"):
        FolderSource(root).load("sub-01", "IT", rows=None, standardize=False)
    table.write_text("\n".join([lines[0].replace("run", "block"), *lines[1:]]) + "\n")
    with pytest.raises(DataError, match="partition column"):
        FolderSource(root).check("sub-01", "IT")
    table.write_text("\n".join([lines[0], "nope\trun1", *lines[2:]]) + "\n")
    with pytest.raises(DataError, match="unknown stimuli"):
        FolderSource(root).load("sub-01", "IT", rows=None, standardize=False)


def test_trial_metrics_need_trials(tmp_path: Path) -> None:
    root = generate_folder(tmp_path / "r", n_images=12, n_units=8, n_subjects=1)
    with pytest.raises(DataError, match="needs trial-level data"):
        fmri_rdm.measured_rdm(root, "sub-01", "IT", metric="crossnobis")


def test_split_half_rdms_measure_each_half_alone(trials_root: Path) -> None:
    from fmri_rdm.data.trial_rdm import split_half_rdms, trials_rdm
    from fmri_rdm.rsa.distances import trial_rdm

    data = FolderSource(trials_root).load("sub-01", "IT", rows=None, standardize=False)
    n = data.kept.size
    halves = split_half_rdms(data.trials, n, "crossnobis", "diag")
    assert halves is not None and halves.shape == (2, n * (n - 1) // 2)
    t = data.trials
    first = np.isin(t.partition, np.unique(t.partition)[0::2])
    want, labels = trial_rdm(t.x[first], t.stimulus[first], t.partition[first], noise="diag")
    if labels.size == n:  # every stimulus measured twice within the first half
        np.testing.assert_allclose(halves[0], want)
    full = trials_rdm(t, n, "crossnobis", "diag")
    finite = np.isfinite(halves).all(axis=0)
    assert finite.mean() > 0.3  # a stimulus missing a trial in a half: NaN in that half
    assert np.corrcoef(halves[0, finite], full[finite])[0, 1] > 0.5
    three = type(t)(t.x, t.stimulus, np.where(t.partition == "run4", "run3", t.partition), "run")
    assert split_half_rdms(three, n, "crossnobis") is None  # 3 partitions: 2 + 1
    assert split_half_rdms(three, n, "correlation") is not None
