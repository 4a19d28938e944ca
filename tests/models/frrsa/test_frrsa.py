"""Feature-reweighted RSA against a direct bounded least-squares fit on explicit features."""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear, nnls

from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA, nnls_from_moments
from fmri_rdm.rsa.splits import PairSplit
from tests.models.fold import make_fold


def _explicit(x, i, j):
    return np.square(x[i].astype(np.float64) - x[j])


def test_weights_equal_a_direct_nnls(fold):
    learner = FeatureReweightedRSA()
    learner.fit(fold)
    f = _explicit(fold.table, fold.train.i, fold.train.j)
    y = fold.train.y.astype(np.float64)
    # intercept free, weights >= 0: an independent solver on the explicit (P, 1 + D) problem
    design = np.column_stack([np.ones(len(f)), f])
    lower = np.r_[-np.inf, np.zeros(f.shape[1])]
    ref = lsq_linear(design, y, bounds=(lower, np.inf), tol=1e-12, method="bvls")
    assert learner.weights is not None
    np.testing.assert_allclose(learner.weights, ref.x[1:], atol=1e-6)
    assert (
        learner.intercept == np.float64(ref.x[0]).item() or abs(learner.intercept - ref.x[0]) < 1e-6
    )
    # prediction: intercept + weighted squared differences
    i, j = fold.train.i[:7], fold.train.j[:7]
    want = ref.x[0] + _explicit(fold.table, i, j) @ ref.x[1:]
    np.testing.assert_allclose(learner.predict(fold.table, i, j), want, rtol=1e-4, atol=1e-5)


def test_moments_reduction_equals_scipy_nnls_on_centred_features():
    rng = np.random.default_rng(1)
    f = rng.random((200, 5))
    y = f @ np.array([0.0, 2.0, 0.5, 0.0, 1.0]) + 3.0 + 0.01 * rng.normal(size=200)
    fc, yc = f - f.mean(0), y - y.mean()
    w_ref, _ = nnls(fc, yc)
    w, b = nnls_from_moments(f.T @ f, f.T @ y, f.sum(0), float(y.sum()), n=200)
    np.testing.assert_allclose(w, w_ref, atol=1e-8)
    assert abs(b - (y.mean() - f.mean(0) @ w_ref)) < 1e-8


def test_large_training_sets_are_subsampled(tmp_path):
    fold = make_fold(tmp=tmp_path)
    report = FeatureReweightedRSA(max_train_pairs=100).fit(fold)
    assert report.facts["n_fit_pairs"] == 100


def test_published_variant_fits_selects_and_round_trips(tmp_path):

    from fmri_rdm.models.frrsa import ridge

    fold = make_fold(n=40, d=6, v=5, n_train=30, tmp=tmp_path)
    learner = FeatureReweightedRSA(variant="fractional", inner_folds=3, inner_repeats=2)
    report = learner.fit(fold)
    assert report.facts["frrsa_hyperparam"] in ridge.DEFAULT_FRACTIONS
    # the chosen fraction is the argmax of the inner scores, recomputed here
    x = ridge.normalize_patterns(fold.table, "correlation")
    scores, total = ridge.inner_cv_scores(
        x,
        fold.train.i,
        fold.train.j,
        fold.train.y.astype(np.float64),
        np.arange(30),
        metric="correlation",
        variant="fractional",
        hyperparams=learner.hyperparams,
        n_folds=3,
        n_repeats=2,
        seed=fold.seed,
    )
    assert report.facts["frrsa_hyperparam"] == learner.hyperparams[np.nanargmax(scores)]
    assert total.n == len(fold.train.i)
    i, j = np.triu_indices(40, 1)
    pred = learner.predict(fold.table, i, j)
    assert pred.min() >= 0.0 and pred.max() <= 2.0  # clipped to 1 - r's range
    learner.save(tmp_path, 0)
    cfg = _frrsa_config(variant="fractional")
    loaded = FeatureReweightedRSA.load(tmp_path, 0, cfg)
    np.testing.assert_array_equal(loaded.predict(fold.table, i, j), pred)


def test_files_of_older_runs_load_as_nnls(tmp_path):

    fold = make_fold(tmp=tmp_path)
    old = FeatureReweightedRSA()
    old.fit(fold)
    np.savez(tmp_path / "frrsa_fold0.npz", weights=old.weights, intercept=old.intercept)
    cfg = _frrsa_config(variant="fractional")
    loaded = FeatureReweightedRSA.load(tmp_path, 0, cfg)
    assert loaded.variant == "nnls"
    i, j = fold.train.i[:20], fold.train.j[:20]
    np.testing.assert_array_equal(loaded.predict(fold.table, i, j), old.predict(fold.table, i, j))


def test_positive_variant_has_non_negative_weights_on_euclidean_targets(tmp_path):
    fold = make_fold(n=40, d=6, v=5, n_train=30, tmp=tmp_path)
    fold.metric = "euclidean"
    distances = np.sqrt(
        np.sum((fold.responses[fold.train.i] - fold.responses[fold.train.j]) ** 2, axis=1)
    )
    fold.train = PairSplit(fold.train.i, fold.train.j, distances)
    learner = FeatureReweightedRSA(variant="positive", inner_folds=3, inner_repeats=1)
    report = learner.fit(fold)
    assert learner.weights is not None and (learner.weights >= 0).all()
    assert report.facts["frrsa_hyperparam"] in learner.hyperparams
    i, j = np.triu_indices(40, 1)
    assert learner.predict(fold.table, i, j).min() >= 0.0  # a distance is never negative


def _frrsa_config(**model):
    """conf/model/frrsa.yaml with `model` overrides, as a run's config holds it."""
    from omegaconf import OmegaConf

    from tests.helpers import ROOT

    base = OmegaConf.load(ROOT / "conf" / "model" / "frrsa.yaml")
    return OmegaConf.create({"model": OmegaConf.merge(base, model)})
