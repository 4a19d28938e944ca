"""A new model is a learner class plus a YAML file: a toy learner from tests/toy (outside the
package, with its own config folder on Hydra's search path) runs end to end and predicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.entry.predict import list_images, predict_rdm
from fmri_rdm.errors import ConfigError
from fmri_rdm.models import learner_class
from fmri_rdm.pipeline.experiment import run
from tests.helpers import tiny_config

TOY_CONF = Path(__file__).parent / "toy" / "conf"
TOY = ["model=toy", f"hydra.searchpath=[file://{TOY_CONF}]", "evaluation.encoding_baseline=false"]


def test_a_toy_learner_runs_end_to_end(tmp_path, cache_dir):
    metrics = run(tiny_config(tmp_path, cache_dir, TOY)).to_json()
    assert metrics["model"] == "toy" and metrics["task"] == "regression"
    assert len(metrics["folds"]) == 3 and all("toy_slope" in f for f in metrics["folds"])
    # an affine map of the embedding distance ranks pairs as the distance does
    for fold in metrics["folds"]:
        zero = fold["baselines"]["zero_training_spearman"]
        assert fold["test"]["spearman"] == pytest.approx(abs(zero), abs=1e-6)
    assert sorted(p.name for p in tmp_path.glob("toy_fold*.npy")) == [
        "toy_fold0.npy",
        "toy_fold1.npy",
        "toy_fold2.npy",
    ]
    images = list_images(next(cache_dir.glob("synthetic/*/subj01/test_split/test_images")))
    rdm = predict_rdm(tmp_path, images)
    assert rdm.shape == (len(images) * (len(images) - 1) // 2,) and np.isfinite(rdm).all()


def test_the_toy_schema_checks_its_keys(tmp_path, cache_dir):
    cfg = tiny_config(tmp_path, cache_dir, [*TOY, "model.ridge=lots"])
    with pytest.raises(ConfigError, match=r"model\.ridge"):
        learner_class(cfg.model).from_config(cfg)
