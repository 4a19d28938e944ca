"""Inter-subject noise ceiling against a direct computation on a 3-subject synthetic set."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr, rankdata, spearmanr, zscore

from fmri_rdm.data.algonauts import image_paths, load_responses
from fmri_rdm.data.algonauts_source import AlgonautsSource, nsd_ids
from fmri_rdm.data.synthetic import generate_dataset
from fmri_rdm.errors import DataError
from fmri_rdm.rsa.rdm import compute_rdm
from fmri_rdm.stats.ceiling import inter_subject_ceiling as _ceiling


def inter_subject_ceiling(root, subject, roi, metric, paths, rdm):
    """The ceiling through the Algonauts data source, the run's images named by NSD id."""
    return _ceiling(AlgonautsSource(root), subject, roi, metric, nsd_ids(paths).astype(str), rdm)


@pytest.fixture(scope="module")
def three_subjects(tmp_path_factory):
    root = tmp_path_factory.mktemp("three") / "algonauts"
    return generate_dataset(
        root, subjects=(1, 2, 3), n_images=40, n_test_images=2, image_size=32, seed=0, n_shared=25
    )


def _ids(root, s):
    return [int(re.search(r"nsd-(\d+)", p.name).group(1)) for p in image_paths(root, s)]


def test_bounds_match_a_direct_computation(three_subjects):
    root, roi = three_subjects, "V1"
    paths = image_paths(root, 1)
    rdm = compute_rdm(load_responses(root, 1, roi), "correlation")
    ceiling = inter_subject_ceiling(root, 1, roi, "correlation", paths, rdm)
    ids = {s: _ids(root, s) for s in (1, 2, 3)}
    shared = sorted(set(ids[1]) & set(ids[2]) & set(ids[3]))
    assert len(shared) == 25 and ceiling.info() == {"subjects": [2, 3], "n_images_shared": 25}
    rows = {s: [ids[s].index(k) for k in shared] for s in (1, 2, 3)}  # direct, by NSD id
    full = pdist(load_responses(root, 1, roi).astype(np.float64), "correlation")
    n = len(paths)
    own = np.array(
        [
            full[n * a - a * (a + 1) // 2 + b - a - 1]
            for x, a in enumerate(rows[1])
            for b in rows[1][x + 1 :]
        ]
    )
    other = [
        pdist(load_responses(root, s, roi, images=rows[s]).astype(np.float64), "correlation")
        for s in (2, 3)
    ]
    lower = pearsonr(own, np.mean([zscore(o) for o in other], axis=0))[0]
    upper = pearsonr(own, np.mean([zscore(o) for o in [own, *other]], axis=0))[0]
    ranks = [rankdata(o) for o in other]
    s_lower = spearmanr(own, np.mean(ranks, axis=0))[0]
    s_upper = spearmanr(own, np.mean([rankdata(own), *ranks], axis=0))[0]
    got = ceiling.bounds()
    assert got["inter_subject_lower"] == pytest.approx(lower, abs=1e-5)
    assert got["inter_subject_upper"] == pytest.approx(upper, abs=1e-5)
    # float32 RDMs (the project's) against float64 pdist: a few near-equal pairs swap ranks
    assert got["inter_subject_spearman_lower"] == pytest.approx(s_lower, abs=1e-4)
    assert got["inter_subject_spearman_upper"] == pytest.approx(s_upper, abs=1e-4)
    assert 0.2 < lower < upper < 1  # subjects agree on V1, and the own data bound is higher


def test_bounds_on_a_fold_use_its_shared_test_pairs(three_subjects):
    root = three_subjects
    paths = image_paths(root, 1)
    rdm = compute_rdm(load_responses(root, 1, "V1"), "correlation")
    ceiling = inter_subject_ceiling(root, 1, "V1", "correlation", paths, rdm)
    test = np.arange(0, 40, 2)
    i, j = np.triu_indices(len(test), 1)
    got = ceiling.bounds(test[i], test[j])
    keep = np.isin(ceiling.images, test)  # the direct way: pairs among shared test images
    sub = ceiling.images[keep]
    a, b = np.triu_indices(len(sub), 1)
    pos = {img: k for k, img in enumerate(ceiling.images)}
    m = len(ceiling.images)
    idx = [
        m * pos[x] - pos[x] * (pos[x] + 1) // 2 + pos[y] - pos[x] - 1
        for x, y in zip(sub[a], sub[b], strict=True)
    ]
    expected = pearsonr(ceiling.own[idx], ceiling.others_z[idx])[0]
    assert got["inter_subject_lower"] == pytest.approx(expected)


def test_needs_other_subjects(synthetic_root):
    paths = image_paths(synthetic_root, 1)
    rdm = compute_rdm(load_responses(synthetic_root, 1, "V1"), "correlation")
    with pytest.raises(DataError, match="no other subject"):
        inter_subject_ceiling(synthetic_root, 1, "V1", "correlation", paths, rdm)


def test_spearman_bounds_equal_rsatoolbox(three_subjects):
    """rsatoolbox's leave-one-subject-out step for the run's subject: pool_rdm(method=
    "spearman") of the others (lower) / of all (upper), compared with compare_spearman.
    Averaged ranks tie often (ranks 1+3 = 2+2); the integer rank sums keep those ties."""
    from rsatoolbox.rdm import RDMs, compare_spearman
    from rsatoolbox.util.pooling import pool_rdm

    root, roi = three_subjects, "V1"
    paths = image_paths(root, 1)
    rdm = compute_rdm(load_responses(root, 1, roi), "correlation")
    ceiling = inter_subject_ceiling(root, 1, roi, "correlation", paths, rdm)
    ids = {s: _ids(root, s) for s in (1, 2, 3)}
    shared = sorted(set(ids[1]) & set(ids[2]) & set(ids[3]))
    vectors = [ceiling.own]
    for s in (2, 3):
        rows = [ids[s].index(k) for k in shared]  # rows in the run's (NSD id) order
        x = load_responses(root, s, roi, images=np.asarray(rows))
        vectors.append(compute_rdm(x, "correlation").astype(np.float64))
    own = RDMs(np.asarray(vectors[:1]))
    lower = compare_spearman(pool_rdm(RDMs(np.asarray(vectors[1:])), "spearman"), own)
    upper = compare_spearman(pool_rdm(RDMs(np.asarray(vectors)), "spearman"), own)
    got = ceiling.bounds()
    assert abs(got["inter_subject_spearman_lower"] - lower.item()) < 1e-9
    assert abs(got["inter_subject_spearman_upper"] - upper.item()) < 1e-9
    # on a fold's subset: rsatoolbox's pooled RDM restricted to those pairs (cv_noise_ceiling's
    # pool-then-subsample), ranked again
    pooled = pool_rdm(RDMs(np.asarray(vectors)), "spearman").get_vectors()[0]
    sel = np.arange(0, len(pooled), 3)
    a, b = np.triu_indices(len(shared), 1)
    sub = ceiling.bounds(ceiling.images[a[sel]], ceiling.images[b[sel]])
    ref = spearmanr(ceiling.own[sel], pooled[sel])[0]
    assert abs(sub["inter_subject_spearman_upper"] - ref) < 1e-9
