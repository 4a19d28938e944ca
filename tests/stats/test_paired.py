"""Paired run comparison: the interval's sign where one run is known better; unpaired runs."""

from __future__ import annotations

import json

import numpy as np

from fmri_rdm.reporting import compare
from fmri_rdm.stats.paired import compare_pair


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


def test_the_better_run_is_found_on_every_fold(tmp_path):
    good = _write_run(tmp_path / "good", noise=0.05, seed=1)
    bad = _write_run(tmp_path / "bad", noise=0.6, seed=2)
    res = compare_pair(good, bad, n_boot=300, seed=0)
    assert res.paired and {r["fold"] for r in res.rows} == {0, 1}
    for row in res.rows:
        assert row["better"] == "A", row
        if row["score"] == "mse":
            assert row["ci_high"] < 0 < row["b"] - row["a"]
        else:
            assert row["ci_low"] > 0 and row["difference"] > 0
    swapped = compare_pair(bad, good, n_boot=300, seed=0)
    assert all(r["better"] == "B" for r in swapped.rows)
    same = compare_pair(good, good, n_boot=100, seed=0)
    assert all(r["better"] == "-" and r["ci_low"] == r["ci_high"] == 0 for r in same.rows)


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
