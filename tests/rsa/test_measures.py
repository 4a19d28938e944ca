"""The comparison measures against rsatoolbox's `compare` (float64, tiny inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from rsatoolbox.rdm import RDMs, compare

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.measures import MEASURES, compare_vectors

# our name -> rsatoolbox's method name
REFERENCE = {
    "pearson": "corr",
    "spearman": "spearman",
    "cosine": "cosine",
    "rho_a": "rho-a",
    "tau_a": "tau-a",
    "corr_cov": "corr_cov",
    "cosine_cov": "cosine_cov",
}
N = 9
I, J = np.triu_indices(N, 1)


def _reference(a: np.ndarray, b: np.ndarray, measure: str) -> float:
    return float(compare(RDMs(a[None]), RDMs(b[None]), method=REFERENCE[measure])[0, 0])


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    p = I.size
    labels = rng.integers(0, 3, N)
    categorical = (labels[I] != labels[J]).astype(np.float64)
    return {
        "random": (rng.random(p), rng.random(p)),
        "ties": (np.round(rng.random(p) * 3), categorical),
        "constant": (np.full(p, 0.7), rng.random(p)),
        "anti": (np.arange(p, dtype=np.float64), -(np.arange(p, dtype=np.float64) ** 2)),
    }


@pytest.mark.parametrize("case", ["random", "ties", "constant", "anti"])
@pytest.mark.parametrize("measure", MEASURES)
def test_measure_equals_rsatoolbox(measure: str, case: str) -> None:
    a, b = _cases()[case]
    ours = compare_vectors(a, b, measure, I, J)
    assert ours == pytest.approx(_reference(a, b, measure), abs=1e-6)


@pytest.mark.parametrize("measure", ["corr_cov", "cosine_cov"])
def test_whitened_on_incomplete_pairs_equals_rsatoolbox_nan_handling(measure: str) -> None:
    """Missing pairs are NaN entries to rsatoolbox and absent pairs to us."""
    rng = np.random.default_rng(5)
    a, b = rng.random(I.size), rng.random(I.size)
    keep = np.ones(I.size, dtype=bool)
    keep[rng.choice(I.size, 7, replace=False)] = False
    a_nan, b_nan = a.copy(), b.copy()
    a_nan[~keep] = np.nan
    b_nan[~keep] = np.nan
    ours = compare_vectors(a[keep], b[keep], measure, I[keep], J[keep])
    assert ours == pytest.approx(_reference(a_nan, b_nan, measure), abs=1e-6)


def test_whitened_ignores_image_labels_and_pair_order() -> None:
    """Only which pairs share an image matters: relabelling and shuffling pairs change nothing."""
    rng = np.random.default_rng(1)
    a, b = rng.random(I.size), rng.random(I.size)
    order = rng.permutation(I.size)
    labels = rng.permutation(100)[:N] * 3
    base = compare_vectors(a, b, "corr_cov", I, J)
    moved = compare_vectors(a[order], b[order], "corr_cov", labels[I[order]], labels[J[order]])
    assert moved == pytest.approx(base, abs=1e-12)


def test_bad_inputs_raise_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="valid"):
        compare_vectors(np.ones(3), np.ones(3), "kendall")
    with pytest.raises(ConfigError, match="image indices"):
        compare_vectors(np.ones(3), np.ones(3), "corr_cov")
    with pytest.raises(DataError, match="NaN"):
        compare_vectors(np.array([1.0, np.nan]), np.ones(2), "pearson")
