"""Calibrated distances: an affine map with a positive slope, fitted on training pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.stats import linregress, pearsonr, spearmanr
from sklearn.metrics import r2_score

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.calibration import (
    CalibratedLearner,
    calibration_mode,
    fit_affine,
    load_learner,
    saved_folds,
)
from fmri_rdm.models.rsa.learner import RSALearner
from tests.models.fold import make_fold


def _cfg(mode: str = "auto"):
    return OmegaConf.create(
        {
            "model": {
                "name": "rsa",
                "learner": "fmri_rdm.models.rsa.learner.RSALearner",
                "input": "embeddings",
            },
            "metric": {"name": "correlation"},
            "evaluation": {"calibration": mode},
        }
    )


def test_affine_fit_equals_scipy_linregress():
    rng = np.random.default_rng(0)
    p = rng.normal(size=500).astype(np.float32)
    y = 0.3 * p + 0.9 + 0.1 * rng.normal(size=500)
    slope, intercept, clamped = fit_affine(p, y)
    ref = linregress(p.astype(np.float64), y)
    assert not clamped
    assert slope == pytest.approx(ref.slope, rel=1e-10)
    assert intercept == pytest.approx(ref.intercept, rel=1e-10)


def test_a_negative_relation_keeps_a_positive_slope_and_the_ranks():
    rng = np.random.default_rng(1)
    p = rng.normal(size=200)
    y = -p + 0.01 * rng.normal(size=200)
    slope, intercept, clamped = fit_affine(p, y)
    assert clamped and slope > 0
    calibrated = intercept + slope * p
    assert spearmanr(calibrated, p)[0] == pytest.approx(1.0)
    assert calibrated.mean() == pytest.approx(y.mean())  # the best constant-ish map


def test_constant_predictions_are_shifted_to_the_target_mean():
    slope, intercept, clamped = fit_affine(np.full(10, 3.0), np.arange(10.0))
    assert clamped and slope == 1.0 and intercept == pytest.approx(4.5 - 3.0)


def test_unknown_mode_is_one_config_error():
    with pytest.raises(ConfigError, match=r"evaluation\.calibration"):
        calibration_mode("sometimes")


def test_calibrated_rsa_keeps_pearson_spearman_and_fixes_r2(tmp_path: Path):
    fold = make_fold(n=40, d=8, v=6, n_train=30, tmp=tmp_path)
    raw = RSALearner("correlation")
    learner = CalibratedLearner.from_config(_cfg())
    assert isinstance(learner, CalibratedLearner)
    report = learner.fit(fold)
    assert report.facts["calibration_slope"] > 0
    n = len(fold.table)
    ti, tj = np.triu_indices(n, 1)
    test = (ti >= 30) & (tj >= 30)
    ti, tj = ti[test], tj[test]
    before, after = raw.predict(fold.table, ti, tj), learner.predict(fold.table, ti, tj)
    target = fold.responses  # test targets: the correlation distance of the responses
    from fmri_rdm.rsa.rdm import pair_distances

    y = pair_distances(target, ti, tj, "correlation")
    assert pearsonr(after, y)[0] == pytest.approx(pearsonr(before, y)[0], abs=1e-5)
    assert spearmanr(after, y)[0] == pytest.approx(spearmanr(before, y)[0], abs=1e-6)
    # on its own training pairs a least-squares affine map has R² >= 0 (= r² exactly)
    train = learner.predict(fold.table, fold.train.i, fold.train.j)
    r = pearsonr(train, fold.train.y)[0]
    assert r2_score(fold.train.y, train) == pytest.approx(r * r, abs=1e-5)


def test_saved_calibration_loads_and_older_runs_load_uncalibrated(tmp_path: Path):
    fold = make_fold(tmp=tmp_path)
    cfg = _cfg()
    learner = CalibratedLearner.from_config(cfg)
    learner.fit(fold)
    learner.save(tmp_path, 3)
    assert saved_folds(tmp_path, cfg) == [3]
    loaded = load_learner(tmp_path, 3, cfg)
    i, j = np.triu_indices(len(fold.table), 1)
    np.testing.assert_array_equal(
        loaded.predict(fold.table, i, j), learner.predict(fold.table, i, j)
    )
    older = load_learner(tmp_path, 0, cfg)  # no calibration_fold0.json: the raw learner
    assert isinstance(older, RSALearner)


def test_calibration_none_returns_the_raw_learner():
    assert isinstance(CalibratedLearner.from_config(_cfg("none")), RSALearner)


def test_auto_follows_the_learners_default():
    from fmri_rdm.models.calibration import default_pairs
    from fmri_rdm.models.encoding.learner import EncodingLearner
    from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA

    assert default_pairs(RSALearner) == "train" and default_pairs(EncodingLearner) == "cv"
    assert default_pairs(FeatureReweightedRSA) == "none"
    cfg = OmegaConf.create(
        {
            "model": {
                "name": "frrsa",
                "learner": "fmri_rdm.models.frrsa.learner.FeatureReweightedRSA",
                "input": "embeddings",
                "max_train_pairs": 1000,
                "variant": "fractional",
                "normalize": True,
                "hyperparams": None,
                "inner_folds": 5,
                "inner_repeats": 1,
            },
            "metric": {"name": "correlation"},
            "evaluation": {"calibration": "auto"},
        }
    )
    assert isinstance(CalibratedLearner.from_config(cfg), FeatureReweightedRSA)
    cfg.evaluation.calibration = "train"
    assert isinstance(CalibratedLearner.from_config(cfg), CalibratedLearner)


def test_cross_fitted_predictions_come_from_refits_without_the_group(tmp_path: Path):
    from fmri_rdm.models.calibration import CV_FOLDS, cross_fitted
    from fmri_rdm.models.encoding.learner import EncodingLearner

    fold = make_fold(n=60, d=5, v=4, n_train=50, tmp=tmp_path)

    def fresh():
        return EncodingLearner("correlation", alphas=[1.0, 10.0], cv=2, backend="numpy")

    sample = np.arange(len(fold.train.i))
    pred, target = cross_fitted(fold, fresh, sample)
    # every held-out pair has both images in one group: 5 groups of 10 images, 45 pairs each
    assert len(pred) == CV_FOLDS * 45
    # group 0, recomputed by hand: fit on the images outside it, predict the pairs inside it
    groups = np.full(60, -1)
    groups[np.random.default_rng(fold.seed).permutation(fold.train_images)] = np.arange(50) % 5
    gi, gj = groups[fold.train.i], groups[fold.train.j]
    inside, held = (gi != 0) & (gj != 0), (gi == 0) & (gj == 0)
    from dataclasses import replace

    sub = replace(
        fold,
        train_images=np.flatnonzero(groups >= 1),
        fit_images=np.flatnonzero(groups >= 1),
        train=fold.train.take(inside),
    )
    model = fresh()
    model.fit(sub)
    want = model.predict(fold.table, fold.train.i[held], fold.train.j[held])
    np.testing.assert_allclose(pred[: held.sum()], want, rtol=1e-5)
    np.testing.assert_array_equal(target[: held.sum()], fold.train.y[held])


def test_a_slope_far_from_one_is_explained_once_per_run(caplog) -> None:
    """A siamese fold logged `calibrated = -12.06 + 12.88 x prediction` without a word: for a
    network trained on the targets' scale (MSE loss) that is a warning saying what it means;
    for a pearson loss, the encoding model or rsa (other scales) it is expected."""
    from types import SimpleNamespace

    from fmri_rdm.models.calibration import slope_warning, warn_far_slope
    from fmri_rdm.runtime.once import new_run

    assert slope_warning(0, 1.3, -0.3) is None and slope_warning(0, 0.6, 0.1) is None
    text = slope_warning(0, 12.88, -12.06)
    assert text is not None and text.startswith(
        "fold 0: calibration slope 12.9 (calibrated = -12.06 + 12.88 x prediction) where ~1 is "
        "expected: its predictions spread over about 1/13 of the targets' range"
    )
    assert "4 times the targets' range" in str(slope_warning(1, 0.25, 0.0))
    new_run()
    mse, pearson = (SimpleNamespace(plan=SimpleNamespace(loss=loss)) for loss in ("mse", "pearson"))
    with caplog.at_level("WARNING", logger="fmri_rdm.models.calibration"):
        warn_far_slope(pearson, 0, 12.88, -12.06)
        warn_far_slope(object(), 0, 12.88, -12.06)  # no training plan: the encoding model, rsa
        for fold in range(3):
            warn_far_slope(mse, fold, 12.88, -12.06)
    assert [r.getMessage()[:32] for r in caplog.records] == ["fold 0: calibration slope 12.9 ("]


def test_a_clamped_slope_is_said_once_per_run(tmp_path: Path, caplog, monkeypatch) -> None:
    """Five folds printed the same `calibration keeps the smallest positive slope` line: it is
    said once per run (the folds stay in metrics.json's calibration_clamped)."""
    from dataclasses import replace

    from fmri_rdm.models import calibration
    from fmri_rdm.runtime.once import new_run

    monkeypatch.setattr(calibration, "fit_affine", lambda raw, target: (1e-3, 0.5, True))
    fold = make_fold(n=20, d=4, v=3, n_train=15, tmp=tmp_path)
    new_run()
    with caplog.at_level("WARNING", logger="fmri_rdm.models.calibration"):
        reports = [
            CalibratedLearner.from_config(_cfg()).fit(replace(fold, fold=k)) for k in range(3)
        ]
    said = [r.getMessage() for r in caplog.records if "smallest positive slope" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("fold 0: predictions are not positively")
    assert "said once per run" in said[0]
    assert all(r.facts["calibration_clamped"] for r in reports)


def test_predict_both_gives_the_raw_and_the_float64_calibrated_predictions(tmp_path: Path):
    """A clamped map (targets unrelated to the predictions) keeps its float64 spread; the raw
    predictions are the inner learner's, bit for bit, and a fixed inner stays fixed."""
    from fmri_rdm.models.base import fits_nothing
    from fmri_rdm.models.calibration import predict_both

    fold = make_fold(n=40, d=8, v=6, n_train=30, tmp=tmp_path)
    learner = CalibratedLearner.from_config(_cfg())
    learner.fit(fold)
    learner.slope, learner.intercept = 1e-6 * 0.01 / 0.03, 0.86  # as a clamped map
    i, j = np.triu_indices(len(fold.table), 1)
    raw, calibrated = predict_both(learner, fold.table, i, j)
    inner = RSALearner("correlation").predict(fold.table, i, j)
    np.testing.assert_array_equal(raw, inner.astype(np.float64))
    assert calibrated.dtype == np.float64
    np.testing.assert_array_equal(calibrated, learner.predict(fold.table, i, j))
    assert np.unique(calibrated).size == np.unique(raw).size
    assert np.unique(calibrated.astype(np.float32)).size < 20  # what float32 kept (issue 35)
    assert pearsonr(calibrated, raw)[0] == pytest.approx(1.0, abs=1e-6)
    plain, same = predict_both(RSALearner("correlation"), fold.table, i, j)
    assert plain is same
    assert fits_nothing(learner) and fits_nothing(RSALearner) and not fits_nothing(object())
