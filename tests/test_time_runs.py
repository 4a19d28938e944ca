"""Runs on time-resolved folders end to end: metrics.json's `time_course` equals a plain run
on one window's data, temporal generalisation and fit_at_ms, RDM stacks, the figures, and
the settings that cannot go together."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.data.synthetic_time import generate_time_folder
from fmri_rdm.errors import ConfigError
from tests.test_folder_runs import folder_config

TIMES = np.arange(0.0, 60.0, 10.0)  # 6 samples: A from 10 ms, B from 30 ms
# calibration=none: the plain run scores what the time course scores (its raw predictions)
QUICK = [
    "evaluation.time.n_bootstrap=20",
    "evaluation.encoding_baseline=false",
    "evaluation.calibration=none",
]


@pytest.fixture(scope="module")
def timed_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("timed") / "ds"
    return generate_time_folder(
        out, n_subjects=1, n_images=30, n_units=12, times_ms=TIMES, onset_ms=10, switch_ms=30
    )


def _run(tmp_path: Path, cache: Path, root: Path, extra: list[str]) -> dict:
    from fmri_rdm.pipeline.experiment import run

    run(folder_config(tmp_path, cache, root, "sub-01", "MEG", [*QUICK, *extra]))
    return json.loads((tmp_path / "metrics.json").read_text())


@pytest.mark.parametrize("model", ["rsa", "encoding"])
def test_a_window_scores_as_a_run_on_that_window_alone(tmp_path, cache_dir, timed_root, model):
    metrics = _run(tmp_path / "timed", cache_dir, timed_root, [f"model={model}"])
    course = metrics["time_course"]
    assert course["times_ms"] == TIMES.tolist() and course["fitted"] == "every window"
    for name in ("time_course.png", "rdm_over_time.png"):
        assert (tmp_path / "timed" / "plots" / name).is_file()
    # the same folder with the responses of the window at 40 ms as plain (stimuli, units) data
    static = tmp_path / "static"
    shutil.copytree(timed_root, static, ignore=shutil.ignore_patterns("times.tsv", "MEG.npy"))
    x = np.load(timed_root / "sub-01" / "MEG.npy")
    np.save(static / "sub-01" / "MEG.npy", x[:, :, 4])
    plain = _run(tmp_path / "plain", cache_dir, static, [f"model={model}"])
    for score in ("pearson", "spearman"):
        got = [fold[4] for fold in course["scores"][score]["folds"]]
        want = [f["test"][score] for f in plain["folds"]]
        np.testing.assert_allclose(got, want, atol=1e-5)
        values = course["scores"][score]
        assert all(lo <= hi for lo, hi in zip(values["ci_low"], values["ci_high"], strict=True))
    # the run's own scores are those of the time mean
    assert metrics["n_images"] == 30 and metrics["n_voxels"] == 12


def test_generalization_and_fit_at(tmp_path, cache_dir, timed_root):
    both = ["model=rsa", "evaluation.time.generalize=true"]
    course = _run(tmp_path / "gen", cache_dir, timed_root, both)["time_course"]
    matrix = np.array(course["generalization"]["spearman"], dtype=float)
    assert matrix.shape == (6, 6)
    np.testing.assert_allclose(np.diagonal(matrix), course["scores"]["spearman"]["mean"])
    assert (tmp_path / "gen" / "plots" / "generalization.png").is_file()
    at = ["model=rsa", "evaluation.time.fit_at_ms=44", "evaluation.time.window_ms=20",
          "evaluation.time.rdm_at_ms=[5,45]"]  # fmt: skip
    once = _run(tmp_path / "at", cache_dir, timed_root, at)["time_course"]
    assert once["fitted"] == {"at_ms": 45.0} and once["window_samples"] == 2
    assert len(once["scores"]["pearson"]["mean"]) == 5
    with pytest.raises(ConfigError, match="choose one"):
        _run(tmp_path / "bad", cache_dir, timed_root, [*both, "evaluation.time.fit_at_ms=40"])


def test_rdm_stacks_run_over_time(tmp_path, cache_dir):
    root = generate_time_folder(
        tmp_path / "ds", kind="rdm", n_subjects=1, n_images=15, n_units=10, times_ms=TIMES
    )
    metrics = _run(tmp_path / "run", cache_dir, root, ["model=rsa"])
    assert metrics["data"]["kind"] == "rdm"
    assert len(metrics["time_course"]["scores"]["spearman"]["mean"]) == 6


def test_bounds_over_time_equal_scipy_per_window():
    from scipy import stats

    from fmri_rdm.pipeline.time_ceiling import bounds_over_time

    rng = np.random.default_rng(0)
    own, others = rng.random((4, 10)), [rng.random((4, 10)) for _ in range(3)]
    others[0][1, :4] = others[0][1, 4:8]  # ties
    got = bounds_over_time(own, others)
    for w in range(4):
        mean_z = np.mean([stats.zscore(o[w]) for o in others], axis=0)
        all_z = np.mean([stats.zscore(x[w]) for x in [own, *others]], axis=0)
        assert got["pearson"]["lower"][w] == pytest.approx(stats.pearsonr(own[w], mean_z)[0])
        assert got["pearson"]["upper"][w] == pytest.approx(stats.pearsonr(own[w], all_z)[0])
        ranks = np.sum([stats.rankdata(o[w]) for o in others], axis=0)
        rho = stats.spearmanr(own[w], ranks)[0]
        assert got["spearman"]["lower"][w] == pytest.approx(rho)


def test_inter_subject_ceiling_over_time(tmp_path, cache_dir):
    root = generate_time_folder(
        tmp_path / "ds", n_subjects=3, n_images=15, n_units=20, times_ms=TIMES, onset_ms=10,
        switch_ms=30, signal=2.0,
    )  # fmt: skip
    extra = ["model=rsa", "evaluation.noise_ceiling=inter_subject"]
    ceiling = _run(tmp_path / "run", cache_dir, root, extra)["time_course"]["noise_ceiling"]
    assert ceiling["subjects"] == ["sub-02", "sub-03"] and ceiling["n_stimuli"] == 15
    low, high = np.array(ceiling["pearson"]["lower"]), np.array(ceiling["pearson"]["upper"])
    assert np.all(low <= high) and low[0] < 0.3 < low[1:].min()  # no geometry before 10 ms


def test_a_fixed_model_rdm_over_time_follows_the_switch(tmp_path, cache_dir):
    root = generate_time_folder(
        tmp_path / "ds", n_subjects=1, n_images=30, n_units=20, times_ms=TIMES, onset_ms=10,
        switch_ms=30, signal=1.0,
    )  # fmt: skip
    scores = {}
    for name in ("A", "B"):
        extra = ["model=rdm", f"model.rdm={name}"]
        course = _run(tmp_path / name, cache_dir, root, extra)["time_course"]
        scores[name] = np.array(course["scores"]["spearman"]["mean"])
    on_a, on_b = (TIMES >= 10) & (TIMES < 30), TIMES >= 30
    assert scores["A"][on_a].min() > 0.3 > scores["A"][on_b].max()
    assert scores["B"][on_b].min() > 0.3 > scores["B"][on_a].max()
