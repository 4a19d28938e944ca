"""`fmri-rdm data ROOT [--check]`: broken data as labs save it is one `problem:` line each
and exit code 2 (a run would stop); what a run handles is a `note:`; spreadsheet tables read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.cli import main as cli_main
from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder


def _rdm(n: int) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((n, 5))
    return squareform(pdist(x, "correlation"))


def _one_subject(root: Path, n: int = 8) -> Path:
    from PIL import Image

    (root / "stimuli").mkdir(parents=True)
    for k in range(n):
        Image.new("RGB", (8, 8), (k * 20, 0, 0)).save(root / "stimuli" / f"s{k}.png")
    (root / "S1").mkdir()
    np.save(root / "S1" / "IT.rdm.npy", _rdm(n))
    return root


def _responses(root: Path, x: np.ndarray) -> None:
    (root / "S1" / "IT.rdm.npy").unlink()
    np.save(root / "S1" / "IT.npy", x)


def _reused_names(root: Path) -> None:
    for folder in ("a", "b"):  # two sessions naming different images s0.png, s1.png
        (root / "stimuli" / folder).mkdir()
        for k in (0, 1):
            shutil.copy(root / "stimuli" / f"s{k}.png", root / "stimuli" / folder / f"s{k}.png")
    lines = ["file", *(f"{f}/s{k}.png" for f in "ab" for k in (0, 1))]
    lines += [f"s{k}.png" for k in range(2, 6)]
    (root / "stimuli.tsv").write_text("\n".join(lines) + "\n")


SPOIL = {
    "transposed": (
        lambda r: _responses(r, np.ones((3, 8))),
        ["(3, 8)", "transposed", "x.T", "(8, 3)"],
    ),
    "matlab_stack": (
        lambda r: np.save(r / "S1" / "IT.rdm.npy", np.stack([_rdm(8)] * 2, axis=-1)),
        ["(8, 8, 2)", "MATLAB", "np.moveaxis(x, -1, 0)", "(2, 8, 8)"],
    ),
    "similarity": (
        lambda r: np.save(r / "S1" / "IT.rdm.npy", 1 - _rdm(8)),
        ["diagonal is 1", "similarity", "1 - S"],
    ),
    "off_by_one": (
        lambda r: np.save(r / "S1" / "IT.rdm.npy", _rdm(7)),
        ["(7, 7)", "8 stimuli", "an RDM of 7 stimuli?"],
    ),
    "not_square": (
        lambda r: np.save(r / "S1" / "IT.rdm.npy", np.ones((8, 5))),
        ["(8, 5)", "not square", "(8, 8)"],
    ),
    "reused_names": (_reused_names, ["'s0' is reused", "a/s0.png", "b/s0.png", "stimulus_id"]),
}


@pytest.mark.parametrize("case", list(SPOIL))
def test_each_problem_is_one_line_and_exit_2(case, tmp_path, capsys):
    spoil, fragments = SPOIL[case]
    root = _one_subject(tmp_path / "ds")
    spoil(root)
    assert cli_main(["data", str(root), "--check"]) == 2
    captured = capsys.readouterr()
    problems = [x for x in captured.out.splitlines() if x.startswith("problem: ")]
    assert len(problems) == 1, captured.out
    for fragment in fragments:
        assert fragment in problems[0], problems[0]
    assert "1 problem(s): a run on that data would stop" in captured.err
    # the plain listing flags it too, and does not describe the file as fine
    assert cli_main(["data", str(root)]) == 2
    out = capsys.readouterr().out
    assert problems[0] in out.splitlines()
    described = [x for x in out.splitlines() if x.startswith("    IT: ")]
    expected = {
        "transposed": "    IT: responses file of shape (3, 8): PROBLEM",  # not "8 units"
        "matlab_stack": "    IT: RDM file of shape (8, 8, 2): PROBLEM",  # not "8 session(s)"
    }
    if case in expected:
        assert described == [expected[case]]


def test_subjects_lacking_a_roi_are_a_note_not_a_problem(tmp_path, capsys):
    root = generate_folder(tmp_path / "ds", n_subjects=3, n_images=12, n_units=6, seed=1)
    (root / "sub-03" / "IT.npy").rename(root / "sub-03" / "hIT.npy")
    assert cli_main(["data", str(root), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "note: ROI IT: 1 subject(s) lack it (sub-03; they have hIT): runs of IT leave them out "
        "of the inter-subject ceiling",
        "note: ROI hIT: 2 subject(s) lack it (sub-01, sub-02; they have IT): runs of hIT leave "
        "them out of the inter-subject ceiling",
        f"{root}: no problem found",
    ]


def test_a_spreadsheet_table_is_read(tmp_path):
    """UTF-8 byte-order mark, CRLF line ends, trailing blank lines (Excel's tab-separated)."""
    root = _one_subject(tmp_path / "ds")
    rows = ["file\tstimulus_id\tcategory", *(f"s{k}.png\tid{k}\tc{k % 2}" for k in range(8))]
    text = "\ufeff" + "\r\n".join(rows) + "\r\n\r\n\t\t\r\n"
    (root / "stimuli.tsv").write_bytes(text.encode("utf-8"))
    stimuli = FolderSource(root).all_stimuli()
    assert list(stimuli.ids) == [f"id{k}" for k in range(8)]
    assert stimuli.metadata == {"category": [f"c{k % 2}" for k in range(8)]}


def test_a_comma_separated_table_says_so(tmp_path, capsys):
    root = _one_subject(tmp_path / "ds")
    (root / "stimuli.tsv").write_text(
        "file,stimulus_id\n" + "".join(f"s{k}.png,i{k}\n" for k in range(8))
    )
    assert cli_main(["data", str(root), "--check"]) == 2
    assert "separate the columns with tabs" in capsys.readouterr().out


def test_a_run_with_the_inter_subject_ceiling_checks_the_other_subjects_first(tmp_path):
    """The ceiling reads every other subject with the ROI: a broken file there stops the run
    before it starts, with the same line; a subject without the ROI does not."""
    from fmri_rdm.errors import DataError
    from fmri_rdm.pipeline.preflight import check_run_config
    from tests.helpers import compose_config

    root = generate_folder(tmp_path / "ds", n_subjects=3, n_images=12, n_units=6, seed=1)
    (root / "sub-03" / "IT.npy").rename(root / "sub-03" / "hIT.npy")  # lacks IT: left out
    args = ["data=folder", f"data.root={root}", "data.subject=sub-01", "data.roi=IT"]
    check_run_config(compose_config([*args, "evaluation.noise_ceiling=inter_subject"]))
    np.save(root / "sub-02" / "IT.npy", np.ones((6, 12)))  # transposed
    check_run_config(compose_config(args))  # without the ceiling sub-02 plays no part
    with pytest.raises(
        DataError, match=r"sub-02/IT\.npy: responses of shape \(6, 12\) look transposed"
    ):
        check_run_config(compose_config([*args, "evaluation.noise_ceiling=inter_subject"]))
