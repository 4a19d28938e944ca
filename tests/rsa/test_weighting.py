"""Gram-based least squares and non-negative weights against sklearn on explicit designs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from fmri_rdm.errors import DataError
from fmri_rdm.rsa.weighting import (
    block_grams,
    least_squares,
    nonnegative_least_squares,
    pair_gram,
    r_squared,
)


def _design(seed: int = 0, p: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((p, 3))
    y = 0.5 + 2.0 * x[:, 0] - 1.5 * x[:, 1] + 0.3 * x[:, 2] + 0.2 * rng.standard_normal(p)
    return x, y


def test_gram_equals_explicit_product() -> None:
    x, y = _design()
    z = np.column_stack([np.ones(len(y)), x, y])
    np.testing.assert_allclose(pair_gram(list(x.T), y), z.T @ z, rtol=1e-12)
    block = np.arange(len(y)) % 3 - 1  # -1 left out
    grams = block_grams(list(x.T), y, block, 2)
    for b in range(2):
        zb = z[block == b]
        np.testing.assert_allclose(grams[b], zb.T @ zb, rtol=1e-12)


def test_least_squares_equals_sklearn() -> None:
    x, y = _design()
    gram = pair_gram(list(x.T), y)
    b0, w = least_squares(gram, [0, 2])
    ref = LinearRegression().fit(x[:, [0, 2]], y)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-9)
    assert b0 == pytest.approx(ref.intercept_, rel=1e-9)
    assert r_squared(gram, b0, w, [0, 2]) == pytest.approx(ref.score(x[:, [0, 2]], y), rel=1e-9)


def test_nonnegative_equals_sklearn_positive() -> None:
    x, y = _design(1)
    b0, w = nonnegative_least_squares(pair_gram(list(x.T), y))
    ref = LinearRegression(positive=True).fit(x, y)
    assert np.all(w >= 0)
    assert w[1] == 0.0  # the negatively related candidate is switched off
    np.testing.assert_allclose(w, ref.coef_, atol=1e-8)
    assert b0 == pytest.approx(ref.intercept_, abs=1e-8)


def test_nonnegative_with_duplicate_and_constant_candidates() -> None:
    """Collinear (duplicate) and constant columns do not break the fit; the fit equals the
    positive fit on the distinct columns."""
    x, y = _design(2)
    wide = np.column_stack([x[:, 0], x[:, 0], np.full(len(y), 3.0), x[:, 2]])
    b0, w = nonnegative_least_squares(pair_gram(list(wide.T), y))
    ref = LinearRegression(positive=True).fit(x[:, [0, 2]], y)
    assert np.all(w >= 0)
    assert w[0] + w[1] == pytest.approx(ref.coef_[0], abs=1e-8)
    assert w[3] == pytest.approx(ref.coef_[1], abs=1e-8)
    pred = b0 + wide @ w
    np.testing.assert_allclose(pred, ref.predict(x[:, [0, 2]]), atol=1e-8)


def test_constant_target_has_undefined_r2_and_short_inputs_raise() -> None:
    x, _ = _design()
    gram = pair_gram(list(x.T), np.ones(len(x)))
    b0, w = least_squares(gram, [0])
    assert np.isnan(r_squared(gram, b0, w, [0]))
    with pytest.raises(DataError, match="at least 2 pairs"):
        least_squares(pair_gram([np.ones(1)], np.ones(1)), [0])
    with pytest.raises(DataError, match="one length"):
        pair_gram([np.ones(3)], np.ones(4))
