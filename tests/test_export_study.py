"""Export of folder data to rsatoolbox: the stimuli's metadata as pattern descriptors, real
stimulus ids (no nsd_id), every session kept, and `export SWEEP --across subject`: one file
per study with the subjects' measured RDMs over their shared stimuli."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rsatoolbox.rdm import load_rdm
from scipy.spatial.distance import squareform

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.entry.export import export_rsatoolbox
from fmri_rdm.entry.export_cli import main
from tests.helpers import compose_config

TINY = [
    "data=folder", "data.roi=IT", "model=rsa", "logger=none", "embeddings.pretrained=null",
    "evaluation.k_folds=2", "evaluation.n_bootstrap=0", "evaluation.n_permutations=0",
]  # fmt: skip


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, cache_dir) -> tuple[Path, Path]:
    from fmri_rdm.pipeline.experiment import run

    base = tmp_path_factory.mktemp("study")
    root = generate_folder(base / "ds", kind="rdm", n_images=20, n_shared=16, seed=2)
    for k, subject in enumerate(("sub-01", "sub-02", "sub-03")):
        out = base / "sweep" / str(k)
        run(compose_config([*TINY, f"data.root={root}", f"data.subject={subject}",
            f"paths.output_dir={out}", f"paths.cache_dir={cache_dir}"]))  # fmt: skip
    return root, base / "sweep"


def _square_stack(root: Path, subject: str) -> tuple[np.ndarray, list[str]]:
    ids = list(FolderSource(root).stimuli(subject).ids)
    return np.load(root / subject / "IT.rdm.npy"), ids


def test_a_run_exports_metadata_ids_and_every_session(sweep, tmp_path):
    root, runs = sweep
    written = export_rsatoolbox(runs / "0", tmp_path)
    assert [p.name for p in written][:2] == ["measured_rdm.hdf5", "sessions_rdms.hdf5"]
    measured, sessions = (load_rdm(str(p)) for p in written[:2])
    stack, ids = _square_stack(root, "sub-01")
    assert list(sessions.rdm_descriptors["session"]) == [0, 1, 2]
    want = np.stack([squareform(s, checks=False) for s in stack])
    np.testing.assert_allclose(sessions.dissimilarities, want, atol=1e-12)
    np.testing.assert_allclose(measured.dissimilarities[0], want.mean(0), atol=1e-6)
    patterns = measured.pattern_descriptors
    assert list(patterns["stimulus_id"]) == ids and "nsd_id" not in patterns
    assert set(patterns["category"]) == {"animate", "inanimate"}
    assert measured.dissimilarity_measure == "as supplied"


def test_across_subject_writes_one_file_per_study(sweep, tmp_path, capsys):
    root, runs = sweep
    assert main([str(runs), "--across", "subject", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'study_IT.hdf5'}"
    study = load_rdm(str(tmp_path / "study_IT.hdf5"))
    subjects = list(study.rdm_descriptors["subject"])
    assert subjects == ["sub-01"] * 4 + ["sub-02"] * 4 + ["sub-03"] * 4
    assert list(study.rdm_descriptors["session"]) == [-1, 0, 1, 2] * 3
    shared = sorted(f"stim{k:03d}" for k in range(16))
    assert list(study.pattern_descriptors["stimulus_id"]) == shared
    assert "category" in study.pattern_descriptors
    stack, ids = _square_stack(root, "sub-02")
    rows = [ids.index(s) for s in shared]
    sessions = [squareform(s[np.ix_(rows, rows)], checks=False) for s in stack]
    got = study.dissimilarities[4:8]
    np.testing.assert_allclose(got[1:], sessions, atol=1e-12)
    np.testing.assert_allclose(got[0], np.mean(sessions, axis=0), atol=1e-6)
