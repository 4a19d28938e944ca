"""Paired run comparison: one pooled difference per score with its interval, bootstrap p and
Holm correction, against scipy / scikit-learn; unpaired runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from fmri_rdm.analysis import compare
from fmri_rdm.stats.group import holm
from fmri_rdm.stats.paired import bootstrap_p, compare_pair, load_folds


def _write_run(path, noise, seed, *, pairs_seed=0, n=14):
    rng = np.random.default_rng(pairs_seed)
    images = np.arange(n)
    arrays = {"image_indices": images}
    for fold in range(2):
        test = np.sort(rng.choice(n, 8, replace=False))
        a, b = np.triu_indices(8, 1)
        target = rng.random(len(a))
        noise_rng = np.random.default_rng(seed + fold)
        arrays |= {
            f"fold{fold}_i": test[a],
            f"fold{fold}_j": test[b],
            f"fold{fold}_target": target,
            f"fold{fold}_prediction": target + noise * noise_rng.normal(size=len(a)),
        }
    path.mkdir(parents=True)
    np.savez(path / "predictions.npz", **arrays)
    metrics = {"model": "mlp", "test": {"pearson": {"mean": 0.5, "std": 0.1, "n": 2}}}
    (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def test_the_better_run_is_found_once_per_score(tmp_path):
    good = _write_run(tmp_path / "good", noise=0.05, seed=1)
    bad = _write_run(tmp_path / "bad", noise=0.6, seed=2)
    res = compare_pair(good, bad, n_boot=300, seed=0)
    assert res.paired and [r["score"] for r in res.rows] == ["pearson", "spearman", "r2", "mse"]
    assert {r["fold"] for r in res.folds} == {0, 1} and "better" not in res.folds[0]
    for row in res.rows:
        assert row["better"] == "A", row
        assert row["p_holm"] < 0.05 and row["p_holm"] >= row["p_value"]
        if row["score"] == "mse":
            assert row["ci_high"] < 0 < row["b"] - row["a"]
        else:
            assert row["ci_low"] > 0 and row["difference"] > 0
    swapped = compare_pair(bad, good, n_boot=300, seed=0)
    assert all(r["better"] == "B" for r in swapped.rows)
    same = compare_pair(good, good, n_boot=100, seed=0)
    assert all(r["better"] == "-" and r["ci_low"] == r["ci_high"] == 0 for r in same.rows)
    assert all(r["p_value"] == 1.0 for r in same.rows)


def test_the_pooled_difference_is_the_difference_of_the_fold_means(tmp_path):
    """Against scipy / scikit-learn on each fold's saved predictions."""
    a = _write_run(tmp_path / "a", noise=0.2, seed=1)
    b = _write_run(tmp_path / "b", noise=0.4, seed=2)
    res = compare_pair(a, b, n_boot=50, seed=0)
    _, folds_a = load_folds(a)
    _, folds_b = load_folds(b)
    ref = {
        "pearson": lambda f: stats.pearsonr(f.target, f.prediction)[0],
        "spearman": lambda f: stats.spearmanr(f.target, f.prediction)[0],
        "r2": lambda f: skm.r2_score(f.target, f.prediction),
        "mse": lambda f: skm.mean_squared_error(f.target, f.prediction),
    }
    for row in res.rows:
        score = ref[row["score"]]
        diffs = [score(folds_a[k]) - score(folds_b[k]) for k in folds_a]
        assert row["difference"] == pytest.approx(np.mean(diffs), abs=1e-9)
        assert row["a"] == pytest.approx(np.mean([score(f) for f in folds_a.values()]), abs=1e-9)


def test_holm_counts_every_score_of_the_family_an_undefined_one_too(tmp_path):
    """B predicts a constant: its Pearson and Spearman are undefined (p NaN), yet R² and MSE
    are corrected for 4 tests, not 2; the adjusted p-values are Holm's of the raw ones."""
    good = _write_run(tmp_path / "good", noise=0.05, seed=1)
    flat = _write_run(tmp_path / "flat", noise=0.0, seed=2)
    with np.load(flat / "predictions.npz") as saved:
        arrays = dict(saved)
    for k in (0, 1):
        arrays[f"fold{k}_prediction"] = np.full_like(arrays[f"fold{k}_prediction"], 0.5)
    np.savez(flat / "predictions.npz", **arrays)
    rows = {r["score"]: r for r in compare_pair(good, flat, n_boot=200, seed=0).rows}
    assert np.isnan(rows["pearson"]["p_value"]) and rows["pearson"]["better"] == "-"
    p = np.array([rows[s]["p_value"] for s in ("pearson", "spearman", "r2", "mse")])
    adjusted = [rows[s]["p_holm"] for s in ("pearson", "spearman", "r2", "mse")]
    np.testing.assert_array_equal(adjusted, holm(p))
    smallest = min(rows["r2"]["p_value"], rows["mse"]["p_value"])
    assert min(rows["r2"]["p_holm"], rows["mse"]["p_holm"]) == pytest.approx(min(1, 4 * smallest))


def test_correlations_use_the_saved_raw_predictions(tmp_path):
    """A run written since issue 35 saves raw predictions beside the calibrated ones: its
    Pearson and Spearman come from the raw ones (a clamped calibration's float32 values
    would give other numbers), R² and MSE from the calibrated ones."""
    a = _write_run(tmp_path / "a", noise=0.3, seed=1)
    b = _write_run(tmp_path / "b", noise=0.3, seed=2)
    with np.load(a / "predictions.npz") as saved:
        arrays = dict(saved)
    for k in (0, 1):
        raw = arrays[f"fold{k}_prediction"]
        arrays[f"fold{k}_raw"] = raw
        arrays[f"fold{k}_prediction"] = (0.5 + 1e-7 * (raw - raw.mean())).astype(np.float32)
    np.savez(a / "predictions.npz", **arrays)
    _, folds = load_folds(a)
    rows = {r["score"]: r for r in compare_pair(a, b, n_boot=50, seed=0).rows}
    pearson = np.mean([stats.pearsonr(f.target, f.raw)[0] for f in folds.values()])
    assert rows["pearson"]["a"] == pytest.approx(pearson, abs=1e-9)
    mse = np.mean([skm.mean_squared_error(f.target, f.prediction) for f in folds.values()])
    assert rows["mse"]["a"] == pytest.approx(mse, abs=1e-9)


def test_bootstrap_p_inverts_the_percentile_interval():
    assert bootstrap_p(np.zeros(10)) == 1.0
    assert bootstrap_p(np.arange(1.0, 100.0)) == pytest.approx(2 / 100)
    d = np.random.default_rng(0).normal(0.3, 0.1, 999)
    assert bootstrap_p(d) == pytest.approx(2 * (1 + np.sum(d <= 0)) / 1000)
    assert np.isnan(bootstrap_p(np.array([np.nan, np.nan])))


def test_runs_without_shared_pairs_get_a_note(tmp_path, capsys):
    a = _write_run(tmp_path / "a", noise=0.1, seed=1)
    other = _write_run(tmp_path / "other", noise=0.1, seed=1, pairs_seed=5)
    res = compare_pair(a, other)
    assert not res.paired and "different test pairs" in res.note
    assert compare.main([str(a), str(other), "--out", str(tmp_path / "out")]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "no paired columns" in out
    good = _write_run(tmp_path / "good", noise=0.05, seed=3)
    assert compare.main([str(good), str(a), "--out", str(tmp_path / "o2")]) == 0
    assert "paired: A = good vs B = a" in " ".join(capsys.readouterr().out.split())


def test_targets_equal_but_for_float32_rounding_still_pair(tmp_path):
    """Two jobs of one sweep wrote the same measured RDM 1.2e-7 apart (threaded sums in
    another order): they pair; a different RDM does not."""
    a = _write_run(tmp_path / "a", noise=0.1, seed=1)
    b = _write_run(tmp_path / "b", noise=0.2, seed=2)
    with np.load(b / "predictions.npz") as saved:
        arrays = dict(saved)
    arrays["fold0_target"] = (arrays["fold0_target"] + 1.2e-7).astype(np.float64)
    np.savez(b / "predictions.npz", **arrays)
    assert compare_pair(a, b, n_boot=50).paired
    arrays["fold0_target"] = arrays["fold0_target"] + 0.01
    np.savez(b / "predictions.npz", **arrays)
    assert "different targets" in compare_pair(a, b, n_boot=50).note
