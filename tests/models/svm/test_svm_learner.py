"""The SVM learner from the run's config: the method it used and the pairs it trained on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.models.svm.learner import SVMLearner
from tests.helpers import compose_config
from tests.models.fold import make_fold


@pytest.mark.parametrize("method", ["nystroem", "exact"])
def test_facts_name_the_method_and_the_pairs(tmp_path: Path, method: str) -> None:
    cfg = compose_config(["model=svm", f"model.method={method}", "model.max_train_pairs=200"])
    assert compose_config(["model=svm"]).model.method == "nystroem"  # the default
    fold = make_fold(n=40, d=6, n_train=30, tmp=tmp_path)
    labels = fold.train.y > np.median(fold.train.y)  # similar / dissimilar
    fold = dataclasses.replace(fold, train=dataclasses.replace(fold.train, y=labels))
    learner = SVMLearner.from_config(cfg)
    facts = learner.fit(fold).facts
    assert facts["svm_method"] == method
    # exact samples max_train_pairs; nystroem trains on every pair (435 < its own cap)
    assert facts["n_pairs_trained_on"] == (200 if method == "exact" else len(labels))
    scores = learner.predict(fold.table, fold.train.i, fold.train.j)
    assert scores.dtype == np.float32 and np.mean((scores > 0) == labels) > 0.6
    learner.save(tmp_path, 0)
    again = SVMLearner.load(tmp_path, 0, cfg)
    np.testing.assert_array_equal(again.predict(fold.table, fold.train.i, fold.train.j), scores)
