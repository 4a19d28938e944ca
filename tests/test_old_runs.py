"""Runs written by the code before `model.net` (flat model configs, the SVM's `_target_`) still
predict: their run_config.yaml and model files, kept as test data with the predictions that
code made on four images, load through `learners.legacy`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from fmri_rdm.entry.predict import predict_rdm
from fmri_rdm.models.legacy import resolve_path, upgrade_model_config

OLD_RUNS = Path(__file__).parent / "data" / "runs_before_model_net"
MODELS = ("siamese", "siamese_cnn", "svm", "frrsa", "rsa", "encoding")


def _copy_run(model: str, tmp_path: Path) -> Path:
    """The kept run in a fresh folder, its paths pointing there (embeddings cache included)."""
    run = tmp_path / model
    shutil.copytree(OLD_RUNS / model, run)
    config = yaml.safe_load((run / "run_config.yaml").read_text())
    config["paths"] |= {"output_dir": str(run), "cache_dir": str(tmp_path / "cache")}
    (run / "run_config.yaml").write_text(yaml.safe_dump(config))
    return run


@pytest.mark.parametrize("model", MODELS)
def test_a_run_made_before_the_change_predicts_as_it_did(model, tmp_path):
    run = _copy_run(model, tmp_path)
    images = sorted((OLD_RUNS / "images").glob("*.png"))
    predicted = predict_rdm(run, images, fold=0)
    expected = np.load(run / "expected_predicted_rdm.npy")
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)


def test_flat_model_configs_are_upgraded():
    old = yaml.safe_load((OLD_RUNS / "siamese" / "run_config.yaml").read_text())["model"]
    assert "_target_" in old and "net" not in old
    new = upgrade_model_config(OmegaConf.create(old))
    assert new.net._target_ == resolve_path(old["_target_"]) and new.net.tower == old["tower"]
    # runs before the blocks plan (issue 24) trained on pairs
    # ... and had no encoding prior, nor an RDM-only prior
    keys = {"name", "learner", "input", "net", "plan", "block_images", "block_steps"}
    assert set(new) == keys | {"encoding_prior", "rdm_prior"}
    assert new.plan == "pairs" and new.encoding_prior is False and new.rdm_prior == "none"
    svm = yaml.safe_load((OLD_RUNS / "svm" / "run_config.yaml").read_text())["model"]
    assert "_target_" not in upgrade_model_config(OmegaConf.create(svm))
    today = OmegaConf.create(
        {
            "name": "x",
            "net": {"_target_": "a.B"},
            "plan": "blocks",
            "encoding_prior": True,
            "rdm_prior": "frrsa",
        }
    )
    assert upgrade_model_config(today) is today


def test_moved_paths_resolve():
    assert (
        resolve_path("fmri_rdm.datamodule.PairSplit")
        == "fmri_rdm.models.pair_network.datamodule.PairSplit"
    )
    assert resolve_path("fmri_rdm.evaluation") == "fmri_rdm.rsa.scores"
    assert (
        resolve_path("fmri_rdm.models.siamese.SiameseNet")
        == "fmri_rdm.models.pair_network.nets.siamese.SiameseNet"
    )


def test_todays_paths_are_left_alone_and_old_learner_paths_move():
    from fmri_rdm.models.legacy import LEARNER_OF_MODEL, MOVED

    for now in [*MOVED.values(), *LEARNER_OF_MODEL.values()]:
        assert resolve_path(now) == now
    assert (
        resolve_path("fmri_rdm.learners.svm.SVMLearner") == "fmri_rdm.models.svm.learner.SVMLearner"
    )
    assert (
        resolve_path("fmri_rdm.models.svm.SVMPairClassifier")
        == "fmri_rdm.models.svm.classifier.SVMPairClassifier"
    )


def test_a_pickle_naming_a_moved_module_loads(tmp_path):
    """An SVM fold file written before the design pass pickles `PairKernel` from
    `fmri_rdm.models.svm_nystroem`: it loads through `legacy.old_module_names`, which leaves
    no alias behind."""
    import pickle
    import sys

    import joblib

    from fmri_rdm.models.legacy import old_module_names
    from fmri_rdm.models.svm.nystroem import PairKernel

    old = pickle.dumps(PairKernel("rbf", 0.5), protocol=0).replace(
        b"fmri_rdm.models.svm.nystroem", b"fmri_rdm.models.svm_nystroem"
    )
    (tmp_path / "fold.joblib").write_bytes(old)
    before = set(sys.modules)
    with pytest.raises(ModuleNotFoundError):
        joblib.load(tmp_path / "fold.joblib")
    with old_module_names(within="fmri_rdm.models.svm"):
        kernel = joblib.load(tmp_path / "fold.joblib")
    assert kernel == PairKernel("rbf", 0.5)
    assert "fmri_rdm.models.svm_nystroem" not in sys.modules
    assert "pytorch_lightning" not in sys.modules or "pytorch_lightning" in before
