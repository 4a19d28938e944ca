"""The published FR-RSA numerics against the reference package's numbers and scipy.

tests/models/frrsa/data/frrsa_reference.npz holds a small problem (30 images x 6 dimensions, a
22/8 image split) and the reference package's outputs on it (ViCCo-Group/frrsa @ af6724f,
made by make_frrsa_reference.py there; see its docstring for the two scikit-learn / scipy
workarounds it needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr

from fmri_rdm.models.frrsa import ridge
from fmri_rdm.rsa.rdm import condensed_index

REF = np.load(Path(__file__).parent / "data" / "frrsa_reference.npz")
METRICS = ("correlation", "euclidean")


def _problem(metric: str):
    x, train, test = REF["x"], REF["train"], REF["test"]
    rdm = pdist(REF["responses"], metric)
    n = len(x)
    a, b = np.triu_indices(len(train), 1)
    i, j = train[a], train[b]
    c, d = np.triu_indices(len(test), 1)
    ti, tj = test[c], test[d]
    xn = ridge.normalize_patterns(x, metric)
    y, yt = rdm[condensed_index(i, j, n)], rdm[condensed_index(ti, tj, n)]
    return xn, i, j, y, ti, tj, yt


@pytest.mark.parametrize("metric", METRICS)
def test_targets_and_pairs_are_the_references(metric):
    *_, yt = _problem(metric)
    np.testing.assert_allclose(yt, REF[f"{metric}_target"], rtol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_ridge_at_the_references_alphas_equals_its_predictions(metric):
    """Same alphas, same features, z-scoring and clipping: equal to float64 rounding."""
    xn, i, j, y, ti, tj, _ = _problem(metric)
    m = ridge.moments(xn, i, j, y, metric)
    w, b0 = ridge.ridge_weights(m, REF[f"{metric}_fractional_alphas"], "alphas")
    got = ridge.predict(xn, ti, tj, w, b0, metric)
    np.testing.assert_allclose(got, REF[f"{metric}_fractional_pred"], atol=1e-9)


@pytest.mark.parametrize("metric", METRICS)
def test_fractional_ridge_matches_the_reference(metric):
    """Exact fractions here; the reference interpolates alpha on a 10^0.2 grid, so its alphas
    are within a few % and its predictions within 1e-2 of the exact ones."""
    xn, i, j, y, ti, tj, yt = _problem(metric)
    m = ridge.moments(xn, i, j, y, metric)
    fractions = np.asarray(ridge.DEFAULT_FRACTIONS)
    w, b0 = ridge.ridge_weights(m, fractions, "fractional")
    got = ridge.predict(xn, ti, tj, w, b0, metric)
    np.testing.assert_allclose(got, REF[f"{metric}_fractional_pred"], atol=1e-2)
    scores = ridge.pearson_columns(yt, got)
    np.testing.assert_allclose(scores, REF[f"{metric}_fractional_score"], atol=2e-3)
    # the coefficient norms are the asked fractions of the OLS norm (exactly, not interpolated)
    gz, cz, *_ = ridge._standardised(m)
    beta = ridge.ridge_path(gz, cz, fractions, fractions=True)
    ols = np.linalg.solve(gz, cz)
    np.testing.assert_allclose(
        np.linalg.norm(beta, axis=0) / np.linalg.norm(ols), fractions, rtol=1e-8
    )


@pytest.mark.parametrize("metric", METRICS)
def test_positive_ridge_equals_scipy_and_the_reference(metric):
    xn, i, j, y, ti, tj, yt = _problem(metric)
    m = ridge.moments(xn, i, j, y, metric)
    alphas = np.asarray(ridge.DEFAULT_ALPHAS)
    w, b0 = ridge.ridge_weights(m, alphas, "positive")
    # independent: bounded least squares on the explicit z-scored features, ridge as extra rows
    f = ridge.pair_features(xn, i, j, metric)
    z = (f - f.mean(0)) / f.std(0)
    for k in (0, 5, 10):
        design = np.vstack([z, np.sqrt(alphas[k]) * np.eye(z.shape[1])])
        rhs = np.r_[y - y.mean(), np.zeros(z.shape[1])]
        beta = lsq_linear(design, rhs, bounds=(0, np.inf), tol=1e-13, method="bvls").x
        np.testing.assert_allclose(w[:, k] * f.std(0), beta, atol=1e-8)
    got = ridge.predict(xn, ti, tj, w, b0, metric)
    # the reference's lbfgs stops at tol=1e-3: its predictions agree to ~1e-2
    np.testing.assert_allclose(got, REF[f"{metric}_positive_pred"], atol=3e-2)
    np.testing.assert_allclose(
        ridge.pearson_columns(yt, got), REF[f"{metric}_positive_score"], atol=1e-2
    )
    assert (w >= 0).all()


def test_pearson_columns_equals_scipy_and_is_nan_for_constant_columns():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=(50, 3))
    p[:, 2] = 1.0
    got = ridge.pearson_columns(y, p)
    assert got[0] == pytest.approx(pearsonr(y, p[:, 0])[0], abs=1e-12)
    assert np.isnan(got[2])


def test_block_moments_add_up_to_the_moments_of_all_pairs():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 4))
    i, j = np.triu_indices(20, 1)
    y = rng.random(len(i))
    groups = rng.permutation(20) % 4
    blocks = ridge.block_moments(x, i, j, y, groups, "euclidean")
    total = sum(blocks.values(), ridge.Moments.zeros(4))
    whole = ridge.moments(x, i, j, y, "euclidean")
    np.testing.assert_allclose(total.gram, whole.gram, rtol=1e-12)
    np.testing.assert_allclose(total.fy, whole.fy, rtol=1e-12)
    assert total.n == whole.n == len(i)
    # the blocks without group 0 are exactly the pairs among the other groups
    keep = (groups[i] != 0) & (groups[j] != 0)
    sub = sum((m for k, m in blocks.items() if 0 not in k), ridge.Moments.zeros(4))
    np.testing.assert_allclose(
        sub.gram, ridge.moments(x, i[keep], j[keep], y[keep], "euclidean").gram
    )
