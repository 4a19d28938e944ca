"""Session and inter-subject ceilings of RDM data against rsatoolbox on the same RDMs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.stats.ceiling import inter_subject_ceiling
from fmri_rdm.stats.sessions import session_bounds


def _sessions(n_sessions: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8))
    return np.stack(
        [pdist(x + rng.standard_normal(x.shape), "correlation") for _ in range(n_sessions)]
    )


@pytest.mark.parametrize(("n_sessions", "n"), [(2, 6), (4, 12), (7, 20)])
def test_session_bounds_equal_rsatoolbox(n_sessions, n):
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    sessions = _sessions(n_sessions, n, seed=n)
    lower, upper = boot_noise_ceiling(RDMs(sessions), method="corr", rdm_descriptor="index")
    got = session_bounds(sessions)
    assert got["sessions_lower"] == pytest.approx(lower, abs=1e-10)
    assert got["sessions_upper"] == pytest.approx(upper, abs=1e-10)
    assert got["n_sessions"] == n_sessions


def test_session_bounds_on_a_subset_of_pairs_equal_rsatoolbox_on_that_subset():
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    sessions = _sessions(3, 15, seed=1)
    images = np.array([0, 3, 4, 8, 11, 14])  # a fold's test images
    a, b = np.triu_indices(images.size, 1)
    i, j = images[a], images[b]
    index = 15 * i - i * (i + 1) // 2 + j - i - 1  # scipy's condensed order
    lower, upper = boot_noise_ceiling(
        RDMs(sessions[:, index]), method="corr", rdm_descriptor="index"
    )
    got = session_bounds(sessions, index)
    assert (got["sessions_lower"], got["sessions_upper"]) == pytest.approx((lower, upper))


def test_one_session_or_too_few_pairs_give_no_bounds():
    assert session_bounds(_sessions(1, 6, 0))["sessions_lower"] is None
    assert session_bounds(_sessions(3, 6, 0), np.array([0, 1]))["sessions_upper"] is None


def test_inter_subject_ceiling_of_rdm_data_equals_rsatoolbox(tmp_path):
    """Subjects in shuffled stimulus orders: the ceiling matches them by stimulus id; each
    subject's RDM is its mean over sessions; rsatoolbox pools the others (lower) or all
    (upper) with pool_rdm(method="corr") and compares with compare_correlation."""
    from rsatoolbox.rdm import RDMs, compare_correlation
    from rsatoolbox.util.pooling import pool_rdm

    root = generate_folder(tmp_path / "ds", kind="rdm", n_images=30, n_shared=24, seed=2)
    source = FolderSource(root)
    own = source.load("sub-01", "IT", rows=None, standardize=True).sessions.mean(axis=0)
    ids = source.stimuli("sub-01").ids
    ceiling = inter_subject_ceiling(source, "sub-01", "IT", "correlation", ids, own)
    assert ceiling.info() == {"subjects": ["sub-02", "sub-03"], "n_images_shared": 24}
    shared = ids[ceiling.images]  # the run's order of the shared stimuli
    vectors = []
    for s in ("sub-01", "sub-02", "sub-03"):
        theirs = list(source.stimuli(s).ids)
        rows = np.array([theirs.index(k) for k in shared])
        vectors.append(source.load(s, "IT", rows=rows, standardize=True).sessions.mean(axis=0))
    lower = compare_correlation(pool_rdm(RDMs(np.stack(vectors[1:])), "corr"), RDMs(vectors[0]))
    upper = compare_correlation(pool_rdm(RDMs(np.stack(vectors)), "corr"), RDMs(vectors[0]))
    got = ceiling.bounds()
    assert got["inter_subject_lower"] == pytest.approx(float(lower[0, 0]), abs=1e-6)
    assert got["inter_subject_upper"] == pytest.approx(float(upper[0, 0]), abs=1e-6)
