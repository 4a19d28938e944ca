"""The folder format's time axis: times.tsv (ROOT's or a subject's), time-resolved responses
and RDM stacks, the listing's time range, the synthetic switch-over folder, and one-line
errors for files that do not fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.listing import listing
from fmri_rdm.data.synthetic_time import generate_time_folder, profiles
from fmri_rdm.data.timed import load_timed, read_times
from fmri_rdm.errors import DataError
from fmri_rdm.rsa.windows import sliding_windows, window_rdms, window_scores


@pytest.fixture(scope="module")
def timed_root(tmp_path_factory) -> Path:
    return generate_time_folder(
        tmp_path_factory.mktemp("timed") / "ds", n_subjects=3, n_images=10, n_units=12, seed=1
    )


@pytest.fixture(scope="module")
def timed_rdm_root(tmp_path_factory) -> Path:
    return generate_time_folder(
        tmp_path_factory.mktemp("timed_rdm") / "ds", kind="rdm", n_subjects=2, n_images=8, seed=2
    )


def test_responses_come_with_their_times_in_the_subjects_order(timed_root):
    source = FolderSource(timed_root)
    assert source.subjects() == ["sub-01", "sub-02", "sub-03"]  # models/ is no subject
    data = load_timed(source, "sub-02", "MEG")
    times = np.arange(-100.0, 601.0, 10.0)
    np.testing.assert_array_equal(data.times_ms, times)
    assert data.kind == "responses" and data.responses.shape == (10, 12, times.size)
    raw = np.load(timed_root / "sub-02" / "MEG.npy")
    rows = np.array([3, 0, 7])
    picked = load_timed(source, "sub-02", "MEG", rows=rows).responses
    np.testing.assert_array_equal(picked, raw[rows].astype(np.float64))
    with pytest.raises(DataError, match="time-resolved"):
        source.load("sub-02", "MEG", rows=None, standardize=False)
    source.check("sub-02", "MEG")  # fits: no error


def test_rdm_stacks_are_condensed_per_time_and_follow_the_rows(timed_rdm_root):
    source = FolderSource(timed_rdm_root)
    data = load_timed(source, "sub-01", "MEG")
    stack = np.load(timed_rdm_root / "sub-01" / "MEG.rdm.npy")
    assert data.kind == "rdm" and data.rdms.shape == (71, 28)
    np.testing.assert_allclose(data.rdms[5], squareform(stack[5], checks=False))
    rows = np.array([4, 1, 6])
    sub = load_timed(source, "sub-01", "MEG", rows=rows).rdms
    np.testing.assert_allclose(sub[9], squareform(stack[9][np.ix_(rows, rows)], checks=False))


def test_the_switch_is_in_the_data(timed_root):
    truth = json.loads((timed_root / "_truth.json").read_text())
    source = FolderSource(timed_root)
    ids = list(source.all_stimuli().ids)
    model_b = np.load(timed_root / "models" / "B.rdm.npy")
    scores = []
    for subject in source.subjects():
        data = load_timed(source, subject, "MEG")
        order = [ids.index(i) for i in source.stimuli(subject).ids]
        rdms = window_rdms(data.responses, sliding_windows(data.times_ms))
        scores.append(window_scores(rdms, squareform(model_b[np.ix_(order, order)])))
    mean = np.mean(scores, axis=0)
    after = data.times_ms >= truth["switch_ms"]
    assert mean[after].mean() > 0.2 > 0.1 > abs(mean[~after].mean())
    weights = profiles(data.times_ms, truth["onset_A_ms"], truth["switch_ms"])
    assert weights[0].sum() == 14 and weights[1][data.times_ms == 200.0] == 1


def test_listing_shows_the_time_range(timed_root, timed_rdm_root):
    lines = listing(timed_root)
    assert "    MEG: responses, 12 units, 71 times, -100 to 600 ms, step 10 ms" in lines
    assert "models" not in "".join(lines)
    assert "    MEG: RDM per time, 71 times, -100 to 600 ms, step 10 ms" in listing(timed_rdm_root)


def test_a_subject_times_override_root(timed_root, tmp_path):
    (tmp_path / "sub-01").mkdir()
    own = tmp_path / "sub-01" / "times.tsv"
    own.write_text("time_ms\n0\n4\n8\n")
    np.testing.assert_array_equal(read_times(own), [0, 4, 8])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t\n0\n1\n", "time_ms"),
        ("time_ms\n0\nx\n", "not a number"),
        ("time_ms\n0\n2\n1\n", "increase"),
        ("time_ms\n0\n1\n3\n", "evenly spaced"),
    ],
)
def test_bad_times_files(tmp_path, text, message):
    path = tmp_path / "times.tsv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_times(path)


def test_files_that_do_not_fit_the_times(tmp_path):
    root = generate_time_folder(tmp_path / "ds", n_subjects=1, n_images=6, n_units=4)
    source = FolderSource(root)
    np.save(root / "sub-01" / "MEG.npy", np.zeros((6, 4, 70), np.float32))
    with pytest.raises(DataError, match=r"\(6, units, 71\)"):
        load_timed(source, "sub-01", "MEG")
    (root / "sub-01" / "MEG.npy").unlink()
    square = squareform(pdist(np.random.default_rng(0).normal(size=(6, 3))))
    np.save(root / "sub-01" / "MEG.rdm.npy", np.stack([square] * 70))
    with pytest.raises(DataError, match=r"save \(71, 6, 6\) or \(71, 15\)"):
        load_timed(source, "sub-01", "MEG")
    (root / "sub-01" / "MEG.rdm.npy").rename(root / "sub-01" / "MEG.trials.npy")
    with pytest.raises(DataError, match="trial-level time-resolved"):
        load_timed(source, "sub-01", "MEG")
    (root / "sub-01" / "MEG.trials.npy").rename(root / "sub-01" / "MEG.rdm.npy")
    (root / "times.tsv").unlink()
    with pytest.raises(DataError, match=r"no times\.tsv"):
        load_timed(source, "sub-01", "MEG")


def test_the_cli_writes_a_folder_the_listing_reads(tmp_path, capsys):
    from fmri_rdm.data.synthetic_time import main

    assert main([str(tmp_path / "sw"), "--subjects", "2", "--images", "6", "--kind", "rdm"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "sw")
    assert listing(tmp_path / "sw")[0].endswith("2 subject(s)")
