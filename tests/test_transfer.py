"""Cross-subject transfer (`evaluation.transfer_subjects`) against a direct computation: the
other subject's RDM from scipy on its own rows (matched by NSD id), scipy's Pearson and
Spearman, an explicit resampling bootstrap; the pairs never touch a training image."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

from fmri_rdm.data.algonauts import image_paths, load_responses
from fmri_rdm.data.synthetic import generate_dataset
from fmri_rdm.errors import ConfigError
from fmri_rdm.pipeline.task import TASKS
from fmri_rdm.pipeline.transfer import build_transfer, requested_subjects
from fmri_rdm.rsa.rdm import compute_rdm

ROI, METRIC = "V1", "correlation"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("transfer") / "algonauts"
    return generate_dataset(
        out, subjects=(1, 2, 3), n_images=40, n_test_images=2, image_size=32, seed=1, n_shared=24
    )


def _ids(root: Path, s: int) -> list[int]:
    return [int(re.search(r"nsd-(\d+)", p.name).group(1)) for p in image_paths(root, s)]


def _inputs(root: Path) -> SimpleNamespace:
    paths = image_paths(root, 1)
    rdm = compute_rdm(load_responses(root, 1, ROI), METRIC)
    n = len(paths)
    from fmri_rdm.data.algonauts_source import AlgonautsSource, nsd_ids

    return SimpleNamespace(
        root=root, subject=1, roi=ROI, metric=METRIC, paths=paths, rdm=rdm, n_images=n,
        source=AlgonautsSource(root, "synthetic"), stimulus_ids=nsd_ids(paths).astype(str),
    )  # fmt: skip


def _cfg(subjects, n_boot: int = 0, source: str = "synthetic"):
    return OmegaConf.create(
        {
            "evaluation": {"transfer_subjects": subjects, "n_bootstrap": n_boot, "ci_level": 0.9},
            "data": {"standardize": True, "source": source},
        }
    )


class Recorder:
    """A fitted learner stand-in: correlation distance between rows of a fixed random table,
    recording every pair it is asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[np.ndarray, np.ndarray]] = []

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        self.asked.append((np.asarray(i), np.asarray(j)))
        return squareform(pdist(table, "correlation"))[i, j].astype(np.float32)


def test_requested_subjects():
    assert requested_subjects(None, 1) == [] and requested_subjects([], 1) == []
    assert requested_subjects("all", 1) == "all" and requested_subjects("ALL", 1) == "all"
    assert requested_subjects([3, "subj02", 3], 1) == [2, 3]
    assert requested_subjects(2, 1) == [2]
    with pytest.raises(ConfigError, match="own subject 1"):
        requested_subjects([1, 2], 1)
    with pytest.raises(ConfigError, match="give subject ids"):
        requested_subjects(["two"], 1)
    with pytest.raises(ConfigError, match="give subject ids"):
        requested_subjects([True], 1)


def test_scores_match_a_direct_computation(root):
    inputs = _inputs(root)
    n = inputs.n_images
    transfer = build_transfer(_cfg([2], n_boot=40), inputs, TASKS["regression"])
    table = np.random.default_rng(0).normal(size=(n, 6))
    test_images = np.arange(0, n, 2)  # every other image; the rest trained
    learner = Recorder()
    got = transfer.fold(learner, table, test_images, seed=7)["subj02"]

    ids1, ids2 = _ids(root, 1), _ids(root, 2)
    shared_run = [k for k in range(n) if ids1[k] in ids2]  # run positions subject 2 saw
    rows2 = [ids2.index(ids1[k]) for k in shared_run]  # subject 2's rows, run order
    other = squareform(pdist(load_responses(root, 2, ROI, images=rows2).astype(np.float64), METRIC))
    keep = [x for x, k in enumerate(shared_run) if k % 2 == 0]  # shared test images
    a, b = np.triu_indices(len(keep), 1)
    pa, pb = np.asarray(keep)[a], np.asarray(keep)[b]
    target = other[pa, pb]
    run_i, run_j = np.asarray(shared_run)[pa], np.asarray(shared_run)[pb]
    pred = squareform(pdist(table, "correlation"))[run_i, run_j]
    assert got["n_images_shared"] == len(keep) and got["n_pairs"] == len(target)
    assert got["pearson"] == pytest.approx(pearsonr(pred, target)[0], abs=1e-5)
    assert got["spearman"] == pytest.approx(spearmanr(pred, target)[0], abs=1e-5)
    own = squareform(compute_rdm(load_responses(root, 1, ROI), METRIC).astype(np.float64))
    lower = pearsonr(own[run_i, run_j], target)[0]
    assert got["noise_ceiling"]["inter_subject_lower"] == pytest.approx(lower, abs=1e-5)
    own_r = pearsonr(pred, own[run_i, run_j])[0]
    assert got["own_subject"]["pearson"] == pytest.approx(own_r, abs=1e-5)

    # the pairs asked for are exactly the shared test pairs: never a training image
    ((i, j),) = learner.asked
    assert set(map(tuple, np.c_[i, j])) == set(map(tuple, np.c_[run_i, run_j]))
    assert np.isin(np.r_[i, j], test_images).all()

    # bootstrap: resample the shared test images, keep the pairs of distinct draws (repeated)
    rng = np.random.default_rng([7, 13, 2])
    samples = []
    for c in rng.multinomial(len(keep), np.full(len(keep), 1 / len(keep)), size=40):
        w = c[a] * c[b]
        samples.append(pearsonr(np.repeat(pred, w), np.repeat(target, w))[0])
    low, high = np.quantile(samples, [0.05, 0.95])
    assert got["ci"]["pearson"]["ci_low"] == pytest.approx(low, abs=1e-4)
    assert got["ci"]["pearson"]["ci_high"] == pytest.approx(high, abs=1e-4)


class Rounded(Recorder):
    """Predictions on a coarse grid (many ties), or all equal (`constant`)."""

    def __init__(self, constant: bool = False) -> None:
        super().__init__()
        self.constant = constant

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        values = super().predict(table, i, j)
        return np.zeros_like(values) if self.constant else np.round(values, 1)


def test_ties_and_constant_predictions(root):
    inputs = _inputs(root)
    transfer = build_transfer(_cfg([3], n_boot=10), inputs, TASKS["regression"])
    table = np.random.default_rng(2).normal(size=(inputs.n_images, 3))
    test_images = np.arange(1, inputs.n_images, 2)
    learner = Rounded()
    got = transfer.fold(learner, table, test_images, seed=0)["subj03"]
    ((i, j),) = learner.asked
    pred = learner.predict(table, i, j)
    assert len(np.unique(pred)) < len(pred) // 2  # ties indeed
    target = transfer.targets[0]
    pos = np.searchsorted(target.images, i), np.searchsorted(target.images, j)
    y = squareform(target.rdm)[pos]
    assert got["spearman"] == pytest.approx(spearmanr(pred, y)[0], abs=1e-5)
    flat = transfer.fold(Rounded(constant=True), table, test_images, seed=0)["subj03"]
    assert flat["pearson"] is None and flat["spearman"] is None  # undefined, not 0 or NaN


def test_summary_over_folds(root):
    inputs = _inputs(root)
    transfer = build_transfer(_cfg([2, 3], n_boot=20), inputs, TASKS["regression"])
    table = np.random.default_rng(1).normal(size=(inputs.n_images, 4))
    folds = [
        {"transfer": transfer.fold(Recorder(), table, np.arange(k, inputs.n_images, 2), seed=k)}
        for k in (0, 1)
    ]
    summary = transfer.summary(folds)
    assert list(summary) == ["subj02", "subj03"]
    for key, section in summary.items():
        values = [f["transfer"][key]["pearson"] for f in folds]
        assert section["pearson"]["mean"] == pytest.approx(np.mean(values))
        assert section["pearson"]["std"] == pytest.approx(np.std(values))
        assert section["pearson"]["ci_low"] <= section["pearson"]["ci_high"]
        counts = [f["transfer"][key]["n_images_shared"] for f in folds]
        assert section["n_images_shared"]["mean"] == pytest.approx(np.mean(counts))
        assert set(section["spearman"]) >= {"mean", "std", "ci_low", "ci_high"}
        own = [f["transfer"][key]["own_subject"]["spearman"] for f in folds]
        assert section["own_subject"]["spearman"]["mean"] == pytest.approx(np.mean(own))


def test_config_mistakes_are_one_line_errors(root, synthetic_root):
    alone = _inputs(synthetic_root)  # subject 1 only
    with pytest.raises(ConfigError, match="other than the run's"):
        build_transfer(_cfg("all"), alone, TASKS["regression"])
    inputs = _inputs(root)
    with pytest.raises(ConfigError, match=r"subject\(s\) 5 .*data.generate.subjects"):
        build_transfer(_cfg([5]), inputs, TASKS["regression"])
    with pytest.raises(ConfigError, match="regression model"):
        build_transfer(_cfg([2]), inputs, TASKS["classification"])
    assert build_transfer(_cfg(None), inputs, TASKS["classification"]) is None
    transfer = build_transfer(_cfg([2]), inputs, TASKS["regression"])
    ids1, ids2 = _ids(root, 1), _ids(root, 2)
    own_only = np.array([k for k in range(inputs.n_images) if ids1[k] not in ids2])
    with pytest.raises(ConfigError, match="saw 0 of this fold's"):
        transfer.fold(Recorder(), np.eye(inputs.n_images), own_only, seed=0)


def test_all_skips_subjects_without_shared_test_images(root, caplog):
    inputs = _inputs(root)
    transfer = build_transfer(_cfg("all"), inputs, TASKS["regression"])
    assert [t.subject for t in transfer.targets] == [2, 3]
    ids1, ids2 = _ids(root, 1), _ids(root, 2)
    own_only = np.array([k for k in range(inputs.n_images) if ids1[k] not in ids2])
    with caplog.at_level(logging.WARNING):
        assert transfer.fold(Recorder(), np.eye(inputs.n_images), own_only, seed=0) == {}
    assert "skipped in this fold" in caplog.text


def test_end_to_end_metrics_printed_table_and_compare(rsa_transfer_run, capsys):
    from fmri_rdm.analysis.compare import frame
    from fmri_rdm.analysis.runs import load_runs
    from fmri_rdm.entry.train import print_results

    metrics = json.loads((rsa_transfer_run / "metrics.json").read_text())
    section = metrics["transfer"]["subj02"]
    for score in ("pearson", "spearman"):
        assert set(section[score]) >= {"mean", "std", "ci_low", "ci_high"}
        assert section[score]["mean"] == pytest.approx(
            np.mean([f["transfer"]["subj02"][score] for f in metrics["folds"]])
        )
    assert set(section["n_images_shared"]) >= {"mean", "std"}
    assert section["noise_ceiling"]["inter_subject_lower"]["mean"] is not None
    for fold in metrics["folds"]:  # pairs among the fold's test images only
        assert fold["transfer"]["subj02"]["n_images_shared"] <= fold["n_images_test"]
    print_results(metrics)
    assert "transfer subj02 pearson" in capsys.readouterr().out
    table = frame(load_runs([rsa_transfer_run]))
    assert table["transfer.subj02.pearson.mean"][0] == pytest.approx(section["pearson"]["mean"])


def test_folder_subjects_are_named_by_their_folders():
    assert requested_subjects(["sub-03", "sub-02"], "sub-01") == ["sub-02", "sub-03"]
    assert requested_subjects("sub-02", "sub-01") == ["sub-02"]
    assert requested_subjects("all", "sub-01") == "all"
    with pytest.raises(ConfigError, match="own subject sub-01"):
        requested_subjects(["sub-01"], "sub-01")
