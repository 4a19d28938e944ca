"""data=folder: the folder contract read through the data-source interface, the listing, and
every bad input answered with one line naming the file and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.listing import main as listing_main
from fmri_rdm.data.synthetic_folder import generate_folder


@pytest.fixture(scope="module")
def responses_root(tmp_path_factory) -> Path:
    return generate_folder(
        tmp_path_factory.mktemp("resp") / "ds", n_images=24, n_shared=18, n_units=20, seed=3
    )


@pytest.fixture(scope="module")
def rdm_root(tmp_path_factory) -> Path:
    return generate_folder(
        tmp_path_factory.mktemp("rdm") / "ds", kind="rdm", n_images=24, n_shared=18, seed=4
    )


def test_subjects_see_their_stimuli_in_their_order(responses_root):
    source = FolderSource(responses_root)
    assert source.subjects() == ["sub-01", "sub-02", "sub-03"]
    assert source.rois("sub-01") == ["IT"] and source.kind("sub-01", "IT") == "responses"
    listed = (responses_root / "sub-02" / "stimuli.tsv").read_text().split()[1:]
    stimuli = source.stimuli("sub-02")
    assert list(stimuli.ids) == listed  # the subject's order, not ROOT's
    # metadata and paths follow the stimulus: stim000.. are img_000.. in ROOT's table
    assert all(
        p.name == f"img_{sid[4:]}.png" for p, sid in zip(stimuli.paths, stimuli.ids, strict=True)
    )
    assert stimuli.metadata["category"][0] in ("animate", "inanimate")
    raw = np.load(responses_root / "sub-02" / "IT.npy")
    data = source.load("sub-02", "IT", rows=np.array([4, 1, 7]), standardize=False)
    np.testing.assert_array_equal(data.responses, raw[[4, 1, 7]])
    z = source.load("sub-02", "IT", rows=None, standardize=True).responses
    np.testing.assert_allclose(z, (raw - raw.mean(0)) / raw.std(0), atol=1e-5)


def test_rdm_sessions_are_condensed_in_the_subject_order(rdm_root):
    source = FolderSource(rdm_root)
    assert source.kind("sub-01", "IT") == "rdm"
    stack = np.load(rdm_root / "sub-01" / "IT.rdm.npy")
    data = source.load("sub-01", "IT", rows=np.array([5, 2, 9]), standardize=True)
    assert data.sessions.shape == (3, 3)
    expected = [squareform(s[np.ix_([5, 2, 9], [5, 2, 9])], checks=False) for s in stack]
    np.testing.assert_allclose(data.sessions, expected)


@pytest.mark.parametrize("shape", ["square", "condensed", "condensed_stack"])
def test_every_rdm_shape_reads_the_same(rdm_root, tmp_path, shape):
    root = tmp_path / "ds"
    shutil.copytree(rdm_root, root)
    stack = np.load(root / "sub-01" / "IT.rdm.npy")
    value = {
        "square": stack[0],
        "condensed": squareform(stack[0], checks=False),
        "condensed_stack": np.stack([squareform(s, checks=False) for s in stack]),
    }[shape]
    np.save(root / "sub-01" / "IT.rdm.npy", value)
    got = FolderSource(root).load("sub-01", "IT", rows=None, standardize=True).sessions
    n_sessions = 3 if shape == "condensed_stack" else 1
    np.testing.assert_allclose(got, [squareform(s, checks=False) for s in stack[:n_sessions]])


def test_rsatoolbox_file_is_reordered_by_stimulus_id(rdm_root, tmp_path):
    from rsatoolbox.rdm import RDMs

    root = tmp_path / "ds"
    shutil.copytree(rdm_root, root)
    stack = np.load(root / "sub-01" / "IT.rdm.npy")
    ids = FolderSource(root).stimuli("sub-01").ids
    order = np.random.default_rng(0).permutation(len(ids))  # the file in another order
    vectors = [squareform(s[np.ix_(order, order)], checks=False) for s in stack]
    RDMs(np.stack(vectors), pattern_descriptors={"stimulus_id": list(ids[order])}).save(
        str(root / "sub-01" / "IT.rdm.hdf5"), file_type="hdf5"
    )
    (root / "sub-01" / "IT.rdm.npy").unlink()
    got = FolderSource(root).load("sub-01", "IT", rows=None, standardize=True).sessions
    np.testing.assert_allclose(got, [squareform(s, checks=False) for s in stack])


def test_listing(rdm_root, capsys):
    assert listing_main([str(rdm_root)]) == 0
    out = capsys.readouterr().out
    assert "sub-01: 20 stimuli" in out and "IT: RDM, 3 session(s)" in out
    assert "stimuli shared by all subjects: 18" in out


# ------------------------------------------------------------------------------- bad input
def _rdm(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 5))
    return squareform(pdist(x, "correlation"))


def _one_subject(root: Path, n: int = 8) -> Path:
    from PIL import Image

    (root / "stimuli").mkdir(parents=True)
    for k in range(n):
        Image.new("RGB", (8, 8), (k * 20, 0, 0)).save(root / "stimuli" / f"s{k}.png")
    (root / "S1").mkdir()
    np.save(root / "S1" / "IT.rdm.npy", _rdm(n))
    return root


def _asym(root):
    d = _rdm(8)
    d[0, 1] += 0.5
    np.save(root / "S1" / "IT.rdm.npy", d)


def _diag(root):
    np.save(root / "S1" / "IT.rdm.npy", _rdm(8) + 0.3 * np.eye(8))


def _similarity(root):
    np.save(root / "S1" / "IT.rdm.npy", 1 - _rdm(8))


def _matlab(root):
    np.save(root / "S1" / "IT.rdm.npy", np.stack([_rdm(8)] * 2, axis=-1))


def _transposed(root):
    (root / "S1" / "IT.rdm.npy").unlink()
    np.save(root / "S1" / "IT.npy", np.ones((3, 8)))


def _size(root):
    np.save(root / "S1" / "IT.rdm.npy", _rdm(7))


def _negative(root):
    np.save(root / "S1" / "IT.rdm.npy", (_rdm(8) - 0.5) * (1 - np.eye(8)))


def _many_nan(root):
    d = _rdm(8)
    d[0, :], d[:, 0] = np.nan, np.nan
    d[0, 0] = 0
    np.save(root / "S1" / "IT.rdm.npy", d)


def _rows(root):
    (root / "S1" / "IT.rdm.npy").unlink()
    np.save(root / "S1" / "IT.npy", np.ones((5, 3)))


def _unknown_id(root):
    (root / "S1" / "stimuli.tsv").write_text("stimulus_id\ns0\nnope\n")


def _duplicate_id(root):
    (root / "stimuli.tsv").write_text("file\tstimulus_id\ns0.png\ta\ns1.png\ta\n")


def _missing_image(root):
    (root / "stimuli.tsv").write_text("file\ns0.png\ngone.png\n")


def _no_roi_files(root):
    (root / "S1" / "IT.rdm.npy").unlink()
    (root / "S1" / "notes.txt").write_text("x")


BAD = {
    "asymmetric": (_asym, [], ["IT.rdm.npy", "not symmetric", "(D + D.T) / 2"]),
    "diagonal": (_diag, [], ["IT.rdm.npy", "diagonal is not 0", "dissimilarities"]),
    "similarity": (_similarity, [], ["IT.rdm.npy", "diagonal is 1", "1 - S"]),
    "matlab": (_matlab, [], ["(8, 8, 2)", "MATLAB", "np.moveaxis(x, -1, 0)"]),
    "transposed": (_transposed, [], ["(3, 8)", "transposed", "x.T"]),
    "size": (_size, [], ["IT.rdm.npy", "(7, 7)", "8 stimuli", "stimuli.tsv"]),
    "negative": (_negative, [], ["IT.rdm.npy", "negative", ">= 0"]),
    "many_nan": (_many_nan, [], ["IT.rdm.npy", "NaN in every session", "stimuli.tsv"]),
    "rows": (_rows, [], ["IT.npy", "(5, 3)", "8 stimuli", "row k"]),
    "unknown_id": (_unknown_id, [], ["S1/stimuli.tsv", "unknown stimulus_id", "nope"]),
    "duplicate_id": (_duplicate_id, [], ["stimuli.tsv", "duplicated stimulus ids", "'a'"]),
    "missing_image": (_missing_image, [], ["stimuli.tsv", "missing", "gone.png"]),
    "no_roi_files": (_no_roi_files, [], ["S1", "no ROI files", "<roi>.rdm.npy"]),
    "unknown_subject": (None, ["data.subject=S9"], ["unknown subject 'S9'", "S1"]),
    "unknown_roi": (None, ["data.roi=V9"], ["unknown ROI 'V9'", "IT"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path):
    from tests.helpers import train_py

    spoil, extra, fragments = BAD[case]
    root = _one_subject(tmp_path / "ds")
    if spoil is not None:
        spoil(root)
    args = [
        "data=folder", f"data.root={root}", "data.subject=S1", "data.roi=IT", "model=rsa",
        "logger=none", "embeddings.pretrained=null", *extra,
    ]  # fmt: skip
    result = train_py(args, tmp_path / "cache", tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*.npy"))


def test_a_few_nan_pairs_are_dropped_with_a_warning(tmp_path, caplog):
    root = _one_subject(tmp_path / "ds", n=30)
    d = _rdm(30)
    d[0, 1] = d[1, 0] = np.nan
    np.save(root / "S1" / "IT.rdm.npy", d)
    data = FolderSource(root).load("S1", "IT", rows=None, standardize=True)
    assert np.isnan(data.sessions).sum() == 1
    assert "1 of 435 pairs are NaN in every session" in caplog.text


def test_constant_units_are_dropped_with_a_warning(tmp_path, caplog):
    root = _one_subject(tmp_path / "ds")
    (root / "S1" / "IT.rdm.npy").unlink()
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    x[:, 2] = 3.0
    np.save(root / "S1" / "IT.npy", x)
    data = FolderSource(root).load("S1", "IT", rows=None, standardize=False)
    np.testing.assert_array_equal(data.responses, x[:, [0, 1, 3]])
    assert "1 of 4 units have no variance" in caplog.text


def test_listing_reads_an_algonauts_folder_too(synthetic_root, capsys):
    assert listing_main([str(synthetic_root)]) == 0
    out = capsys.readouterr().out
    assert "subj01: 60 stimuli" in out and "V1v: responses" in out


def test_listing_answers_a_bad_folder_with_one_line(tmp_path, capsys):
    (tmp_path / "stimuli").mkdir()
    assert listing_main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no subject folders" in err[0]
