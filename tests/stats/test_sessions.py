"""Session and inter-subject ceilings of RDM data against rsatoolbox on the same RDMs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.stats.ceiling import inter_subject_ceiling
from fmri_rdm.stats.sessions import session_bounds, spearman_brown


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
    assert got["sessions_single_lower"] == pytest.approx(lower, abs=1e-10)
    assert got["sessions_single_upper"] == pytest.approx(upper, abs=1e-10)
    assert got["n_sessions"] == n_sessions
    # the bounds for the mean of the sessions: the same ones, Spearman-Brown mapped
    for side, single in (("lower", lower), ("upper", upper)):
        r2 = float(single) ** 2
        mapped = np.sqrt(n_sessions * r2 / (1 + (n_sessions - 1) * r2))
        assert got[f"sessions_{side}"] == pytest.approx(mapped, abs=1e-10)


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
    single = (got["sessions_single_lower"], got["sessions_single_upper"])
    assert single == pytest.approx((lower, upper))


def _additive_sessions(
    n_sessions: int, reliability: float, n_pairs: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(true RDM (P,), sessions (S, P)): each session = truth + independent noise, with
    var(truth) / var(session) = reliability."""
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(n_pairs)
    noise = np.sqrt((1 - reliability) / reliability)
    return truth, truth + noise * rng.standard_normal((n_sessions, n_pairs))


@pytest.mark.parametrize(
    ("n_sessions", "reliability"), [(2, 0.5), (2, 0.2), (4, 0.3), (4, 0.1), (6, 0.2), (6, 0.05)]
)
def test_the_true_rdm_scores_between_the_bounds_for_the_mean_of_the_sessions(
    n_sessions, reliability
):
    """The run scores against the mean over sessions: the true RDM's score against that mean
    lies between the bounds in every simulated data set (2,016 pairs = 64 images)."""
    for seed in range(20):
        truth, sessions = _additive_sessions(n_sessions, reliability, 2016, seed)
        score = np.corrcoef(truth, sessions.mean(axis=0))[0, 1]
        got = session_bounds(sessions)
        assert got["sessions_lower"] < score < got["sessions_upper"], (seed, score, got)
        assert got["sessions_single_lower"] < got["sessions_lower"]


def test_the_single_session_bounds_miss_the_mean_target_from_three_sessions_on():
    """The reason for the Spearman-Brown step (issue 35): 4 sessions of reliability 0.3 -
    the true RDM scores about 0.80 against their mean, above the single-session upper bound
    (about 0.69)."""
    truth, sessions = _additive_sessions(4, 0.3, 2016, seed=0)
    score = np.corrcoef(truth, sessions.mean(axis=0))[0, 1]
    got = session_bounds(sessions)
    assert got["sessions_single_upper"] < score < got["sessions_upper"]
    assert score == pytest.approx(np.sqrt(4 * 0.3 / (1 + 3 * 0.3)), abs=0.03)


def test_spearman_brown_keeps_one_session_and_sign():
    assert spearman_brown(0.4, 1) == pytest.approx(0.4)
    assert spearman_brown(-0.4, 3) == pytest.approx(-spearman_brown(0.4, 3))
    assert spearman_brown(1.0, 5) == pytest.approx(1.0)
    assert spearman_brown(None, 3) is None


def test_one_session_or_too_few_pairs_give_no_bounds():
    assert session_bounds(_sessions(1, 6, 0))["sessions_lower"] is None
    assert session_bounds(_sessions(3, 6, 0), np.array([0, 1]))["sessions_upper"] is None
    assert session_bounds(_sessions(1, 6, 0))["sessions_single_upper"] is None


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
