"""Candidate RDMs from files and label columns, against hand-built RDMs and rsatoolbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rsatoolbox.rdm import RDMs, get_categorical_rdm
from scipy.spatial.distance import squareform

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.models.candidates.loading import load_candidate

N = 12


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cands") / "folder"
    return generate_folder(out, kind="rdm", n_subjects=1, n_images=N, candidates=True, images=False)


def _all_pairs() -> tuple[np.ndarray, np.ndarray]:
    a, b = np.triu_indices(N, 1)
    return a, b


def test_column_rdm_equals_hand_built_and_rsatoolbox(root: Path) -> None:
    stimuli = FolderSource(root).all_stimuli()
    labels = np.asarray(stimuli.metadata["size"])
    a, b = _all_pairs()
    ours = load_candidate(root, "column:size", stimuli).values(a, b)
    hand = squareform((labels[:, None] != labels[None, :]).astype(float), checks=False)
    np.testing.assert_array_equal(ours, hand)
    codes = np.unique(labels, return_inverse=True)[1]
    reference = get_categorical_rdm(codes).get_vectors()[0]
    np.testing.assert_array_equal(ours, reference)


def test_square_condensed_and_listed_files_agree_with_hand_lookup(root: Path) -> None:
    stimuli = FolderSource(root).all_stimuli()
    a, b = _all_pairs()
    square = np.load(root / "models" / "pixels.rdm.npy")
    np.testing.assert_allclose(
        load_candidate(root, "pixels", stimuli).values(a, b), square[a, b], rtol=1e-6
    )
    condensed = np.load(root / "models" / "truth.rdm.npy")
    np.testing.assert_allclose(
        load_candidate(root, "truth", stimuli).values(b, a), condensed, rtol=1e-6
    )
    # noise.tsv lists the stimuli in reverse: row r is stimulus N-1-r
    noise = squareform(np.load(root / "models" / "noise.rdm.npy"))
    got = load_candidate(root, "noise", stimuli).values(a, b)
    np.testing.assert_allclose(got, noise[N - 1 - a, N - 1 - b], rtol=1e-6)


def test_rsatoolbox_hdf5_with_shuffled_descriptor(root: Path, tmp_path: Path) -> None:
    stimuli = FolderSource(root).all_stimuli()
    order = np.random.default_rng(0).permutation(N)
    square = np.load(root / "models" / "pixels.rdm.npy")
    shuffled = square[np.ix_(order, order)]
    rdms = RDMs(
        squareform(shuffled, checks=False)[None],
        pattern_descriptors={"stimulus_id": [str(stimuli.ids[k]) for k in order]},
    )
    rdms.save(str(root / "models" / "shuffled.rdm.hdf5"), file_type="hdf5", overwrite=True)
    a, b = _all_pairs()
    got = load_candidate(root, "shuffled", stimuli).values(a, b)
    np.testing.assert_allclose(got, square[a, b], rtol=1e-6)


def test_mistakes_are_one_line_errors(root: Path) -> None:
    stimuli = FolderSource(root).all_stimuli()
    with pytest.raises(ConfigError, match="found noise, pixels"):
        load_candidate(root, "HMAX", stimuli)
    with pytest.raises(ConfigError, match="columns are category, size"):
        load_candidate(root, "column:animacy", stimuli)
    np.save(root / "models" / "short.rdm.npy", np.ones(5))
    with pytest.raises(DataError, match=r"short\.rdm\.npy"):
        load_candidate(root, "short", stimuli)
    partial = load_candidate(root, "truth", stimuli)
    object.__setattr__(partial, "rows", np.where(np.arange(N) == 3, -1, partial.rows))
    with pytest.raises(DataError, match="no row for some stimuli"):
        partial.values(np.array([0, 3]), np.array([1, 4]))
