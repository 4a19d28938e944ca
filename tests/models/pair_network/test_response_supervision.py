"""model.response_weight through the learner: only the fit images' responses are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from fmri_rdm.config import register_schemas
from fmri_rdm.models.pair_network.learner import PairNetworkLearner
from tests.models.fold import make_fold

ROOT = Path(__file__).resolve().parents[3]


def learner_config(extra: list[str]):
    register_schemas()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        overrides = [
            "experiment=demo",
            "logger=none",
            "trainer.max_epochs=2",
            "trainer.enable_progress_bar=false",
            "training.batch_size=64",
            *extra,
        ]
        return compose("config", overrides=overrides)


def test_fit_never_reads_the_responses_of_other_images(tmp_path: Path) -> None:
    fold = make_fold(n=40, n_train=24, tmp=tmp_path)
    # validation and test images' responses are NaN: a fit reading them would go NaN
    fold.fit_images, fold.val_images = np.arange(20), np.arange(20, 24)
    fold.responses = fold.responses.copy()
    fold.responses[20:] = np.nan
    cfg = learner_config(["model.response_weight=1.0", "model.net.head=correlation"])
    learner = PairNetworkLearner.from_config(cfg)
    learner.fit(fold)
    readout = learner.module.readout
    assert readout is not None and readout.scores.shape[0] == 20  # the fit images only
    assert all(np.isfinite(p.detach().numpy()).all() for p in learner.module.parameters())
    pred = learner.predict(fold.table, np.arange(24, 39), np.arange(25, 40))
    assert np.isfinite(pred).all() and pred.std() > 0
    # the checkpoint holds the read-out: the learner loads back and predicts the same
    loaded = PairNetworkLearner.load(tmp_path, 0, cfg)
    again = loaded.predict(fold.table, np.arange(24, 39), np.arange(25, 40))
    np.testing.assert_allclose(again, pred, rtol=1e-5, atol=1e-6)
