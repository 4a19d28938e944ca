"""Calibration end to end: metrics.json records each fold's map, predictions.npz and predict.py
return calibrated distances, and a run without the maps still loads (uncalibrated)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr

from fmri_rdm.data.algonauts import image_paths
from fmri_rdm.entry.predict import predict_pairs
from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.pipeline.experiment import run
from fmri_rdm.pipeline.inputs import data_root, model_table
from tests.helpers import MODEL_OVERRIDES, tiny_config


@pytest.mark.slow  # two tiny runs (~1 min each on 2 loaded cores, most of it shared set-up)
@pytest.mark.parametrize("model", ["encoding", "rsa"])
def test_calibrated_run_and_predict(model, tmp_path, cache_dir):
    cfg = tiny_config(tmp_path, cache_dir, [*MODEL_OVERRIDES[model], "evaluation.n_bootstrap=0"])
    metrics = run(cfg).to_json()
    saved = np.load(tmp_path / "predictions.npz")
    paths = [image_paths(data_root(cfg), 1)[k] for k in saved["image_indices"]]
    i, j = saved["fold1_i"][:50], saved["fold1_j"][:50]
    fold = metrics["folds"][1]
    # evaluation.calibration=auto: cross-fitted for the encoding model, training pairs for rsa
    expected = {"encoding": "cv", "rsa": "train"}[model]
    assert fold["calibration_slope"] > 0 and fold["calibration_pairs"] == expected
    # predict.py's path applies the fold's map: the run's own test predictions come back
    got = predict_pairs(tmp_path, paths, i, j, fold=1)
    np.testing.assert_allclose(got, saved["fold1_prediction"][:50], rtol=1e-4, atol=1e-5)
    # the raw learner differs by exactly the affine map
    if model == "encoding":
        raw = EncodingLearner.load(tmp_path, 1, cfg)
        table = model_table(cfg, paths)[0]
        want = fold["calibration_intercept"] + fold["calibration_slope"] * raw.predict(table, i, j)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        assert pearsonr(got, want)[0] == pytest.approx(1.0)
    # an older run (no calibration files) loads and predicts uncalibrated
    for f in tmp_path.glob("calibration_fold*.json"):
        f.unlink()
    older = predict_pairs(tmp_path, paths, i, j, fold=1)
    slope, intercept = fold["calibration_slope"], fold["calibration_intercept"]
    np.testing.assert_allclose(intercept + slope * older, got, rtol=1e-4, atol=1e-5)
