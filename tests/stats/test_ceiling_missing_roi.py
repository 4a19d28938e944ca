"""The inter-subject ceiling on a folder whose subjects do not all have the run's ROI: those
that lack it are left out, with a note naming them; the bounds equal those of the others."""

from __future__ import annotations

import logging
import shutil

import pytest

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import DataError
from fmri_rdm.rsa.rdm import compute_rdm
from fmri_rdm.stats.ceiling import inter_subject_ceiling


@pytest.fixture()
def mixed_root(tmp_path):
    """sub-01..03 with IT; sub-BE with hIT only (two studies of the same stimuli)."""
    root = generate_folder(tmp_path / "ds", n_subjects=3, n_images=16, n_units=12, seed=5)
    shutil.copytree(root / "sub-03", root / "sub-BE")
    (root / "sub-BE" / "IT.npy").rename(root / "sub-BE" / "hIT.npy")
    return root


def test_subjects_lacking_the_roi_are_left_out_with_a_note(mixed_root, caplog):
    source = FolderSource(mixed_root)
    ids = source.stimuli("sub-01").ids
    x = source.load("sub-01", "IT", rows=None, standardize=True).responses
    rdm = compute_rdm(x, "correlation")
    with caplog.at_level(logging.WARNING):
        got = inter_subject_ceiling(source, "sub-01", "IT", "correlation", ids, rdm)
    assert got.subjects == ["sub-02", "sub-03"]
    assert got.info()["left_out"] == {"sub-BE": "hIT"}
    assert "left out sub-BE (no such ROI; they have hIT)" in caplog.text
    # the same bounds as asking for the subjects with the ROI only
    same = inter_subject_ceiling(
        source, "sub-01", "IT", "correlation", ids, rdm, subjects=["sub-02", "sub-03"]
    )
    assert got.bounds() == same.bounds() and "left_out" not in same.info()


def test_no_other_subject_with_the_roi_names_those_without(mixed_root):
    source = FolderSource(mixed_root)
    ids = source.stimuli("sub-01").ids
    x = source.load("sub-01", "IT", rows=None, standardize=True).responses
    with pytest.raises(DataError, match=r"no other subject with ROI 'IT'.*left out sub-BE"):
        inter_subject_ceiling(
            source, "sub-01", "IT", "correlation", ids, compute_rdm(x, "correlation"),
            subjects=["sub-BE"],
        )  # fmt: skip
