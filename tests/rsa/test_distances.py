"""rsa.distances and rsa.noise against rsatoolbox's calc_rdm / calc_rdm_unbalanced (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.distances import METHODS, trial_rdm
from fmri_rdm.rsa.noise import NOISE, precisions
from fmri_rdm.rsa.trials import trial_design

rsa_data = pytest.importorskip("rsatoolbox.data")
rsa_rdm = pytest.importorskip("rsatoolbox.rdm")
rsa_noise = pytest.importorskip("rsatoolbox.data.noise")


def _trials(
    n_cond: int = 7, n_part: int = 4, v: int = 12, reps: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced trials, shuffled: (T, V) responses, (T,) condition and partition labels."""
    rng = np.random.default_rng(seed)
    cond = np.tile(np.repeat(np.arange(n_cond), reps), n_part)
    part = np.repeat(np.arange(n_part), n_cond * reps)
    signal = rng.standard_normal((n_cond, v))
    x = signal[cond] + 0.7 * rng.standard_normal((cond.size, v)) + 0.3 * rng.standard_normal(v)
    order = rng.permutation(cond.size)
    labels = np.array([f"s{c:02d}" for c in range(n_cond)])
    return x[order], labels[cond[order]], np.array([f"run{p}" for p in part[order]])


def _dataset(x: np.ndarray, cond: np.ndarray, part: np.ndarray):  # type: ignore[no-untyped-def]
    return rsa_data.Dataset(x, obs_descriptors={"stim": cond, "run": part})


def _sorted_reference(rdms, labels: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """rsatoolbox's RDM reordered to sorted condition labels, condensed."""
    square = rdms.get_matrices()[0]
    have = list(rdms.pattern_descriptors["stim"])
    idx = [have.index(lab) for lab in labels]
    out = np.asarray(squareform(square[np.ix_(idx, idx)], checks=False))
    assert np.isfinite(out).all() and np.ptp(out) > 0  # a real comparison, not NaN == NaN
    return out


def _prec(x: np.ndarray, cond: np.ndarray, part: np.ndarray, noise: str):  # type: ignore[no-untyped-def]
    if noise == "identity":
        return None
    return rsa_noise.prec_from_unbalanced(_dataset(x, cond, part), "stim", method=noise)


@pytest.mark.parametrize("method", ["euclidean", "correlation"])
def test_on_means_match_calc_rdm(method: str) -> None:
    x, cond, part = _trials(reps=2)
    got, labels = trial_rdm(x, cond, part, method=method)
    want = rsa_rdm.calc_rdm(_dataset(x, cond, part), method=method, descriptor="stim")
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("noise", NOISE)
def test_mahalanobis_matches_calc_rdm(noise: str) -> None:
    x, cond, part = _trials(reps=2, v=9)
    got, labels = trial_rdm(x, cond, part, method="mahalanobis", noise=noise)
    prec = _prec(x, cond, part, noise)
    want = rsa_rdm.calc_rdm(
        _dataset(x, cond, part), method="mahalanobis", descriptor="stim", noise=prec
    )
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize("v", [6, 40])  # more residuals than units (dense), fewer (Woodbury)
def test_noise_precision_matches_prec_from_unbalanced(noise: str, v: int) -> None:
    x, cond, part = _trials(n_cond=5, n_part=3, v=v, reps=2, seed=3)
    design = trial_design(cond, part)
    got = precisions(x, design, noise)[0].matrix()
    want = _prec(x, cond, part, noise)
    want = np.eye(v) if want is None else want
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8 * np.abs(want).max())


@pytest.mark.parametrize("noise", ["diag", "shrinkage_diag", "shrinkage_eye"])
def test_per_partition_precisions_match_rsatoolbox(noise: str) -> None:
    x, cond, part = _trials(n_cond=4, n_part=3, v=10, reps=3, seed=5)
    design = trial_design(cond, part)
    got = [p.matrix() for p in precisions(x, design, noise, per_partition=True)]
    runs = [_dataset(x[part == r], cond[part == r], part[part == r]) for r in np.unique(part)]
    want = rsa_noise.prec_from_unbalanced(runs, "stim", method=noise)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8 * np.abs(w).max())


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize("v", [8, 60])
def test_crossnobis_matches_calc_rdm_unbalanced(noise: str, v: int) -> None:
    x, cond, part = _trials(reps=2, v=v)
    keep = np.random.default_rng(1).random(cond.size) > 0.25  # an unbalanced design
    x, cond, part = x[keep], cond[keep], part[keep]
    got, labels = trial_rdm(x, cond, part, method="crossnobis", noise=noise)
    want = rsa_rdm.calc_rdm_unbalanced(
        _dataset(x, cond, part), method="crossnobis", descriptor="stim", cv_descriptor="run",
        noise=_prec(x, cond, part, noise),
    )  # fmt: skip
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


def test_crossnobis_one_trial_per_cell_matches_calc_rdm() -> None:
    """With one trial per (condition, run), the pair form is calc_rdm's leave-one-run-out."""
    x, cond, part = _trials(n_cond=6, n_part=4, v=30, reps=1, seed=2)
    got, labels = trial_rdm(x, cond, part, method="crossnobis", noise="identity")
    want = rsa_rdm.calc_rdm(
        _dataset(x, cond, part), method="crossnobis", descriptor="stim", cv_descriptor="run"
    )
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("noise", ["diag", "shrinkage_eye"])
def test_crossnobis_per_partition_noise_matches_calc_rdm(noise: str) -> None:
    x, cond, part = _trials(n_cond=5, n_part=3, v=8, reps=3, seed=4)
    got, labels = trial_rdm(x, cond, part, method="crossnobis", noise=noise, per_partition=True)
    runs = [_dataset(x[part == r], cond[part == r], part[part == r]) for r in np.unique(part)]
    precs = rsa_noise.prec_from_unbalanced(runs, "stim", method=noise)
    want = rsa_rdm.calc_rdm(
        _dataset(x, cond, part), method="crossnobis", descriptor="stim", cv_descriptor="run",
        noise=precs,
    )  # fmt: skip
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


def test_poisson_cv_matches_calc_rdm_unbalanced() -> None:
    rng = np.random.default_rng(7)
    cond = np.repeat(np.arange(6), 5)
    part = np.tile(np.arange(5), 6)
    x = rng.poisson(rng.gamma(2.0, 2.0, (6, 11))[cond]).astype(np.float64)
    keep = rng.random(cond.size) > 0.2
    x, cond, part = x[keep], np.array([f"c{c}" for c in cond[keep]]), part[keep]
    got, labels = trial_rdm(x, cond, part, method="poisson_cv")
    want = rsa_rdm.calc_rdm_unbalanced(
        _dataset(x, cond, part), method="poisson_cv", descriptor="stim", cv_descriptor="run"
    )
    np.testing.assert_allclose(got, _sorted_reference(want, labels), rtol=1e-6, atol=1e-9)


def test_missing_trials_are_dropped() -> None:
    x, cond, part = _trials(reps=2)
    with_nan = x.copy()
    with_nan[[3, 10]] = np.nan
    got, _ = trial_rdm(with_nan, cond, part, method="crossnobis")
    keep = np.ones(len(x), bool)
    keep[[3, 10]] = False
    want, _ = trial_rdm(x[keep], cond[keep], part[keep], method="crossnobis")
    np.testing.assert_array_equal(got, want)
    with_nan[5, 0] = np.nan
    with pytest.raises(DataError, match="NaN in some of their units"):
        trial_rdm(with_nan, cond, part)


def test_a_condition_in_one_partition_only_gives_nan() -> None:
    x = np.random.default_rng(0).standard_normal((5, 5))
    got, _ = trial_rdm(x, ["a", "a", "b", "b", "c"], [0, 1, 0, 1, 0], method="crossnobis")
    assert np.isfinite(got[0]) and np.isnan(got[1:]).all()  # (a, b) and (a, c); (b, c) never


def test_errors() -> None:
    x, cond, part = _trials()
    with pytest.raises(ConfigError, match="unknown distance"):
        trial_rdm(x, cond, part, method="cosine")
    with pytest.raises(ConfigError, match="unknown noise"):
        trial_rdm(x, cond, part, noise="full")
    with pytest.raises(DataError, match="one label of each"):
        trial_rdm(x, cond[:-1], part)
    with pytest.raises(DataError, match="at least 2 partitions"):
        trial_rdm(x, cond, np.zeros(len(cond)), method="crossnobis")
    with pytest.raises(DataError, match="degrees of freedom"):
        trial_rdm(x, cond, part, method="crossnobis", noise="diag", per_partition=True)
    assert set(METHODS) >= {"crossnobis", "poisson_cv"}


@pytest.mark.parametrize("v", [8, 60])
def test_float32_arithmetic_is_close_to_float64(v: int) -> None:
    x, cond, part = _trials(reps=2, v=v)
    want, _ = trial_rdm(x, cond, part, method="crossnobis", noise="shrinkage_diag")
    got, _ = trial_rdm(x, cond, part, method="crossnobis", noise="shrinkage_diag", dtype=np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
