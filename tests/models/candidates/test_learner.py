"""The fixed and weighted candidate learners on a synthetic folder without images."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.spatial.distance import squareform

from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import ConfigError
from fmri_rdm.models.candidates.learner import FixedRDMLearner, WeightedRDMLearner
from fmri_rdm.rsa.measures import pearson
from fmri_rdm.rsa.splits import PairSplit

N = 30


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cand_learner") / "folder"
    return generate_folder(out, kind="rdm", n_subjects=1, n_images=N, candidates=True, images=False)


def _cfg(root: Path, **model: object) -> object:
    """A run config's data and model keys (conf/model/rdm.yaml leaves rdm and column null)."""
    unset = {"rdm": None, "column": None} if model.get("name") == "rdm" else {}
    return OmegaConf.create(
        {
            "data": {"source": "folder", "root": str(root)},
            "model": {"input": "stimuli", **unset, **model},
        }
    )


def _fold(root: Path, table: np.ndarray) -> SimpleNamespace:
    """Fit pairs among the first 20 run images; y = truth + 0.3 * category + noise."""
    a, b = np.triu_indices(20, 1)
    truth = squareform(np.load(root / "models" / "truth.rdm.npy"))
    pos = table[:, 0].astype(int)
    category = (pos[a] < N // 2) != (pos[b] < N // 2)
    rng = np.random.default_rng(0)
    y = truth[pos[a], pos[b]] + 0.3 * category + 0.1 * rng.standard_normal(a.size)
    return SimpleNamespace(table=table, fit=PairSplit(a, b, y.astype(np.float32)))


def test_fixed_rdm_predicts_the_candidate_for_any_stimulus_order(root: Path) -> None:
    learner = FixedRDMLearner.from_config(_cfg(root, name="rdm", learner="x", rdm="truth"))
    assert learner.fits_nothing
    table = np.random.default_rng(1).permutation(N).astype(np.float32)[:, None]
    i, j = np.array([0, 5, 7]), np.array([3, 6, 29])
    truth = squareform(np.load(root / "models" / "truth.rdm.npy"))
    pos = table[:, 0].astype(int)
    np.testing.assert_allclose(learner.predict(table, i, j), truth[pos[i], pos[j]], rtol=1e-6)
    with pytest.raises(ConfigError, match=r"one of model\.rdm"):
        FixedRDMLearner.from_config(_cfg(root, name="rdm", learner="x", rdm="truth", column="size"))


def test_weighted_is_non_negative_and_beats_each_component_on_fit_pairs(
    root: Path, tmp_path: Path
) -> None:
    cfg = _cfg(root, name="weighted", learner="x", rdms=["truth", "column:category", "noise"])
    learner = WeightedRDMLearner.from_config(cfg)
    table = np.arange(N, dtype=np.float32)[:, None]
    data = _fold(root, table)
    report = learner.fit(data)
    weights = report.facts["weights"]
    assert set(weights) == {"truth", "column:category", "noise"}
    assert all(w >= 0 for w in weights.values())
    assert weights["truth"] > 0 and weights["column:category"] > 0
    combined = learner.predict(table, data.fit.i, data.fit.j)
    singles = [
        pearson(FixedRDMLearner.from_config(_cfg(root, name="rdm", learner="x", **kw)).predict(
            table, data.fit.i, data.fit.j), data.fit.y)
        for kw in ({"rdm": "truth"}, {"column": "category"}, {"rdm": "noise"})
    ]  # fmt: skip
    assert pearson(combined, data.fit.y) >= max(singles) - 1e-9
    assert report.facts["fit_pearson"]["combined"] == pytest.approx(pearson(combined, data.fit.y))
    learner.save(tmp_path, 2)
    again = WeightedRDMLearner.load(tmp_path, 2, cfg)
    assert WeightedRDMLearner.saved_folds(tmp_path) == [2]
    np.testing.assert_allclose(again.predict(table, data.fit.i, data.fit.j), combined)


def test_weighted_needs_two_distinct_candidates(root: Path) -> None:
    with pytest.raises(ConfigError, match="2 or more distinct"):
        WeightedRDMLearner.from_config(_cfg(root, name="weighted", learner="x", rdms=["truth"]))


def test_embedding_candidate_reads_the_embedding_columns(root: Path) -> None:
    from scipy.spatial.distance import cdist

    cfg = _cfg(root, name="weighted", learner="x", rdms=["truth", "embedding"])
    with pytest.raises(ConfigError, match=r"model\.input=stimuli\+embeddings"):
        WeightedRDMLearner.from_config(cfg)
    cfg.model.input = "stimuli+embeddings"
    learner = WeightedRDMLearner.from_config(cfg)
    embedded = np.random.default_rng(2).standard_normal((N, 5)).astype(np.float32)
    table = np.hstack([np.arange(N, dtype=np.float32)[:, None], embedded])
    i, j = np.array([0, 4, 9]), np.array([1, 20, 29])
    truth_col, embedding_col = learner._columns(table, i, j)
    reference = cdist(embedded.astype(np.float64), embedded.astype(np.float64), "correlation")
    np.testing.assert_allclose(embedding_col, reference[i, j], atol=1e-5)
    truth = squareform(np.load(root / "models" / "truth.rdm.npy"))
    np.testing.assert_allclose(truth_col, truth[i, j], rtol=1e-6)
