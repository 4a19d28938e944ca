"""Trial-level folders end to end: `metric=crossnobis metric.noise=shrinkage_diag` runs every
model, the targets are the measured RDM of `fmri_rdm.measured_rdm` (can be negative), the
split-half and inter-subject ceilings use the same method, and metrics.json records it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fmri_rdm
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import ConfigError
from tests.helpers import MODEL_OVERRIDES
from tests.test_folder_runs import folder_config

CROSSNOBIS = ["metric=crossnobis", "metric.noise=shrinkage_diag"]
MODELS = ["rsa", "frrsa", "encoding", "mlp", "siamese", "siamese_cnn", "svm"]


@pytest.fixture(scope="module")
def trials_root(tmp_path_factory) -> Path:
    return generate_folder(
        tmp_path_factory.mktemp("trials") / "ds", kind="trials", n_subjects=2, n_images=30,
        n_units=40, n_sessions=4, seed=7,
    )  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_model_runs_on_crossnobis_targets(tmp_path, cache_dir, trials_root, model):
    from fmri_rdm.pipeline.experiment import run

    extra = [*MODEL_OVERRIDES[model], *CROSSNOBIS, "evaluation.k_folds=2"]
    cfg = folder_config(tmp_path / "run", cache_dir, trials_root, "sub-01", "IT", extra)
    result = run(cfg)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    distance = metrics["data"]["distance"]
    assert distance == {"metric": "crossnobis", "noise": "shrinkage_diag", "per_partition": False}
    assert metrics["data"]["trials"]["partition"] == "run"
    assert metrics["data"]["trials"]["n_partitions"] == 4
    assert all(np.isfinite(f.score("accuracy" if model == "svm" else "pearson"))
               for f in result.folds)  # fmt: skip


def test_targets_are_the_measured_rdm_and_ceilings_use_it(tmp_path, cache_dir, trials_root):
    from fmri_rdm.pipeline.experiment import run

    extra = ["model=rsa", *CROSSNOBIS, "evaluation.noise_ceiling=inter_subject"]
    result = run(folder_config(tmp_path / "run", cache_dir, trials_root, "sub-01", "IT", extra))
    want = fmri_rdm.measured_rdm(trials_root, "sub-01", "IT", "crossnobis", "shrinkage_diag")
    arrays = np.load(tmp_path / "run" / "predictions.npz")
    ids = arrays["stimulus_ids"]
    assert list(ids) == list(want.index)
    square = want.to_numpy()
    for fold in range(3):
        i, j = arrays[f"fold{fold}_i"], arrays[f"fold{fold}_j"]
        np.testing.assert_allclose(arrays[f"fold{fold}_target"], square[i, j], rtol=1e-5)
    ceiling = result.noise_ceiling
    assert ceiling["sessions_lower"]["mean"] < ceiling["sessions_upper"]["mean"]  # split half
    assert ceiling["inter_subject_lower"]["mean"] < ceiling["inter_subject_upper"]["mean"]


def test_a_sigmoid_head_is_refused_for_negative_targets(tmp_path, cache_dir):
    from fmri_rdm.pipeline.experiment import run

    noisy = generate_folder(tmp_path / "ds", kind="trials", n_subjects=1, n_images=40,
                            n_units=10, n_sessions=4, noise=6.0, seed=1)  # fmt: skip
    rdm = fmri_rdm.measured_rdm(noisy, "sub-01", "IT", "crossnobis", "shrinkage_diag")
    assert (rdm.to_numpy() < 0).any()  # crossnobis: below 0 for pairs alike within the noise
    extra = ["model=mlp", "model.net.head=sigmoid", *CROSSNOBIS]
    cfg = folder_config(tmp_path / "run", cache_dir, noisy, "sub-01", "IT", extra)
    with pytest.raises(ConfigError, match="sigmoid head"):
        run(cfg)
