"""2-factor bootstrap (`stats.two_factor`) against rsatoolbox's own routines on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmri_rdm.stats import two_factor as tf

rsatoolbox = pytest.importorskip("rsatoolbox")


def _data(seed: int = 1, s: int = 5, n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(S, P) subject RDMs and a (P,) model RDM over n images: shared truth, subject noise."""
    rng = np.random.default_rng(seed)
    p = n * (n - 1) // 2
    truth = rng.normal(size=p)
    model = truth + rng.normal(size=p)
    gain = rng.normal(scale=0.7, size=(s, 1))  # subjects differ in how much truth they carry
    return truth + gain * truth + rng.normal(scale=1.5, size=(s, p)), model


def test_stimulus_resample_equals_rsatoolbox_subsample() -> None:
    """A resample's weighted score = rsatoolbox's corr on the subsampled patterns."""
    from rsatoolbox.rdm import RDMs, compare

    data, model = _data(s=2, n=10)
    a, b = np.triu_indices(10, 1)
    idx = np.array([0, 0, 1, 3, 3, 3, 5, 7, 8, 9])  # duplicates: pairs of copies are dropped
    counts = np.bincount(idx, minlength=10)[None, :]
    ours = tf.stimulus_scores([(a, b, data[0], model)], counts)[0]
    both = RDMs(np.vstack([data[0], model]), dissimilarity_measure="euclidean")
    sub = both.subsample_pattern("index", idx)
    ref = compare(sub[1], sub[0], method="corr")[0, 0]
    assert ours == pytest.approx(ref, abs=1e-10)


def test_corrected_variance_is_rsatoolbox_formula() -> None:
    from rsatoolbox.util.inference_util import extract_variances

    rng = np.random.default_rng(0)
    for _ in range(20):
        v = rng.uniform(0.001, 0.02, size=3)  # both, subjects, stimuli
        s, n = int(rng.integers(2, 9)), int(rng.integers(5, 60))
        cov = np.zeros((3, 3, 3))  # one model + the two noise-ceiling columns rsatoolbox keeps
        cov[:, 0, 0] = v
        cov[:, 1, 1] = cov[:, 2, 2] = 1.0
        ref = extract_variances(cov, nc_included=True, n_rdm=s, n_pattern=n)[0][0]
        assert tf.corrected_variance(*v, s, n) == pytest.approx(ref, rel=1e-12)


def test_two_factor_matches_eval_dual_bootstrap(capsys: pytest.CaptureFixture[str]) -> None:
    """The three bootstrap variances and the corrected one, both routines on the same RDMs
    (Monte-Carlo error: rsatoolbox N = 400, ours B = 4000; agree within ~30 %)."""
    from rsatoolbox.inference import eval_dual_bootstrap
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs
    from rsatoolbox.util.inference_util import extract_variances

    data, model = _data()
    s, n = data.shape[0], 16
    np.random.seed(0)  # noqa: NPY002 (rsatoolbox draws from numpy's global generator)
    result = eval_dual_bootstrap(
        [ModelFixed("m", model)],
        RDMs(data, dissimilarity_measure="euclidean"),
        method="corr",
        k_pattern=1,
        k_rdm=1,
        N=400,
        use_correction=False,
    )
    theirs = extract_variances(result.variances, nc_included=True, n_rdm=s, n_pattern=n)[0][0]
    a, b = np.triu_indices(n, 1)
    rng = np.random.default_rng(0)
    counts = tf.image_counts(rng, n, 4000)
    x = np.stack([tf.stimulus_scores([(a, b, d, model)], counts) for d in data])
    observed = np.array([tf.stimulus_scores([(a, b, d, model)], np.ones((1, n)))[0] for d in data])
    ours = tf.two_factor(x, observed, n, rng=rng)
    with capsys.disabled():
        print(
            f"\n2-factor variance: ours {ours.se**2:.5f} (both {ours.v_both:.5f}, subjects "
            f"{ours.v_subjects:.5f}, stimuli {ours.v_stimuli:.5f}); rsatoolbox {theirs:.5f} "
            f"(both {result.variances[0, 0, 0]:.5f}, subjects {result.variances[1, 0, 0]:.5f}, "
            f"stimuli {result.variances[2, 0, 0]:.5f})"
        )
    assert ours.estimate == pytest.approx(np.mean(observed))
    for mine, ref in zip(
        (ours.v_both, ours.v_subjects, ours.v_stimuli), result.variances[:, 0, 0], strict=True
    ):
        assert mine == pytest.approx(ref, rel=0.3)
    assert ours.se**2 == pytest.approx(theirs, rel=0.3)
    assert ours.dof == min(s, n) - 1
    half = ours.ci_high - ours.estimate
    assert half == pytest.approx(ours.se * 2.7764451, rel=1e-6)  # t(0.975, df=4)


def test_two_factor_drops_undefined_resamples() -> None:
    x = np.array([[0.1, np.nan, 0.3, 0.2], [0.2, 0.4, np.nan, 0.1]])
    out = tf.two_factor(x, np.array([0.2, 0.25]), 10, rng=np.random.default_rng(0))
    assert math.isfinite(out.se) and out.n_subjects == 2 and out.dof == 1
