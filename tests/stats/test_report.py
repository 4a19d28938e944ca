"""metrics.json layout of the statistics, the results table and the fold-summary error bars."""

from __future__ import annotations

import numpy as np
import pytest

from fmri_rdm.entry.train import print_results
from fmri_rdm.plots.results import fold_summary
from fmri_rdm.rsa.scores import aggregate_folds, regression_scores
from fmri_rdm.stats.bootstrap import percentile_interval
from fmri_rdm.stats.report import add_statistics, fold_statistics


def _run(n_images=24, k=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_images, 4))
    i, j = np.triu_indices(n_images, 1)
    rdm = np.linalg.norm(x[i] - x[j], axis=1)
    folds, stats = [], []
    for f, test in enumerate(np.array_split(rng.permutation(n_images), k)):
        test = np.sort(test)
        a, b = np.triu_indices(len(test), 1)
        ti, tj = test[a], test[b]
        y = rdm[n_images * ti - ti * (ti + 1) // 2 + tj - ti - 1]
        pred = y + rng.normal(0, 0.5, y.shape)
        folds.append({"fold": f, "test": regression_scores(y, pred)})
        stats.append(
            fold_statistics(rdm, n_images, ti, tj, y, pred, test, seed=f, n_boot=200, n_perm=99)
        )
    metrics = {"model": "mlp", "folds": folds, "test": aggregate_folds(folds, "test")}
    return metrics, stats


def test_layout_keeps_every_key_and_adds_intervals():
    metrics, stats = _run()
    before = {name: dict(entry) for name, entry in metrics["test"].items()}
    add_statistics(metrics, stats)
    for name, entry in metrics["test"].items():
        assert before[name].items() <= entry.items()  # nothing replaced
        assert entry["ci_low"] <= entry["mean"] <= entry["ci_high"]
    assert metrics["test"]["pearson"]["p_value"] == pytest.approx(0.01)
    assert "p_value" not in metrics["test"]["mse"]
    for fold, s in zip(metrics["folds"], stats, strict=True):
        assert set(fold["test"]) == {"pearson", "spearman", "r2", "mse"}  # still {name: float}
        ci = fold["test_ci"]["spearman"]
        assert (ci["ci_low"], ci["ci_high"]) == percentile_interval(s.samples["spearman"])
        assert fold["test_p_value"]["pearson"] == pytest.approx(0.01)
        assert fold["statistics"] == {"n_bootstrap": 200, "n_permutations": 99, "level": 0.95}
        # the observed statistic is the fold's reported score
        assert s.observed["pearson"] == pytest.approx(fold["test"]["pearson"], abs=1e-5)
    pooled = np.mean([s.samples["pearson"] for s in stats], axis=0)
    lo, hi = percentile_interval(pooled)
    assert metrics["test"]["pearson"]["ci_low"] == pytest.approx(lo)
    assert metrics["test"]["pearson"]["ci_high"] == pytest.approx(hi)


def test_table_and_plot_show_them(capsys):
    metrics, stats = _run()
    add_statistics(metrics, stats)
    metrics |= {"subject": 1, "roi": "V1", "metric": "euclidean", "n_images": 24}
    metrics |= {"baselines": {}, "noise_ceiling": {}}
    metrics["noise_ceiling"] = {
        "inter_subject_lower": {"mean": 0.5, "std": 0.0, "n": 2},
        "inter_subject_upper": {"mean": 0.7, "std": 0.0, "n": 2},
    }
    print_results(metrics)
    out = capsys.readouterr().out
    entry = metrics["test"]["pearson"]
    assert f"[{entry['ci_low']:.3f}, {entry['ci_high']:.3f}] p=0.01" in out
    fig = fold_summary(metrics)
    (ax,) = fig.axes
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("95 % interval" in s for s in labels) and any("inter-subject" in s for s in labels)
    assert any("p=0.01" in t.get_text() for t in ax.texts)


def test_fold_statistics_of_clamped_calibrated_predictions_are_the_uncalibrated_ones():
    """Issue 35: calibration with a clamped slope must not change the correlations, their
    intervals or their p-values (float32 collapse gave NaN Pearson resamples)."""
    rng = np.random.default_rng(5)
    n = 23
    x = rng.normal(size=(n, 4))
    i, j = np.triu_indices(n, 1)
    rdm = np.linalg.norm(x[i] - x[j], axis=1)
    raw = 0.86 + 0.03 * rng.standard_normal(rdm.size) + 0.003 * rdm
    slope = 1e-6 * rdm.std() / raw.std()
    calibrated = (rdm.mean() + slope * (raw - raw.mean())).astype(np.float32)
    images = np.arange(n)
    kwargs = {"seed": 3, "n_boot": 200, "n_perm": 99}
    got = fold_statistics(rdm, n, i, j, rdm, calibrated, images, raw=raw, **kwargs)
    plain = fold_statistics(rdm, n, i, j, rdm, raw, images, **kwargs)
    for name in ("pearson", "spearman"):
        np.testing.assert_array_equal(got.samples[name], plain.samples[name])
        np.testing.assert_array_equal(got.null[name], plain.null[name])
        assert got.observed[name] == plain.observed[name]
        assert np.isfinite(got.samples[name]).all()
    # observed p and r come from the permutation code (float32 gathers, as its null)
    assert got.observed["pearson"] == pytest.approx(np.corrcoef(raw, rdm)[0, 1], abs=1e-7)
    mse = np.mean((calibrated.astype(np.float64) - rdm) ** 2)
    assert got.observed["mse"] == pytest.approx(mse, rel=1e-12)
    assert not np.array_equal(got.samples["mse"], plain.samples["mse"])


def test_all_pairs_metrics_equal_a_direct_computation():
    """A fixed model on all pairs: the score is scipy's on every pair (1e-9), its interval a
    stimulus bootstrap over all images, its p the permutation test's."""
    from scipy import stats as sps

    from fmri_rdm.stats.report import all_pairs_metrics

    rng = np.random.default_rng(8)
    n = 26
    x = rng.normal(size=(n, 4))
    i, j = np.triu_indices(n, 1)
    rdm = np.linalg.norm(x[i] - x[j], axis=1)
    raw = (rdm + rng.normal(0, 1.0, rdm.size)).astype(np.float32)
    got = all_pairs_metrics(rdm, n, i, j, rdm, raw, seed=1, n_boot=200, n_perm=99)
    assert got["n_pairs"] == n * (n - 1) // 2 and got["n_images"] == n
    pearson, spearman = got["test"]["pearson"], got["test"]["spearman"]
    assert pearson["mean"] == pytest.approx(sps.pearsonr(raw, rdm)[0], abs=1e-9)
    assert spearman["mean"] == pytest.approx(sps.spearmanr(raw, rdm)[0], abs=1e-6)
    for entry in (pearson, spearman):
        assert entry["ci_low"] < entry["mean"] < entry["ci_high"]
        assert entry["p_value"] == pytest.approx(0.01)
    direct = fold_statistics(rdm, n, i, j, rdm, raw, np.arange(n), seed=1, n_boot=200, n_perm=99)
    assert (pearson["ci_low"], pearson["ci_high"]) == percentile_interval(direct.samples["pearson"])


def test_table_says_which_pairs_each_number_uses(capsys):
    """A fixed model's metrics.json has `all_pairs`: the table shows it beside the fold means,
    each row naming its pairs; the existing rows are unchanged."""
    metrics, stats = _run()
    add_statistics(metrics, stats)
    metrics |= {"subject": 1, "roi": "V1", "metric": "euclidean", "n_images": 24}
    metrics |= {"baselines": {}, "noise_ceiling": {}, "fits_nothing": True}
    metrics["all_pairs"] = {
        "n_pairs": 276,
        "n_images": 24,
        "test": {"pearson": {"mean": 0.4321, "ci_low": 0.3, "ci_high": 0.5, "p_value": 0.001}},
        "noise_ceiling": {"sessions_lower": 0.61},
    }
    print_results(metrics)
    out = " ".join(capsys.readouterr().out.split())
    assert "all 276 pairs (fixed model) pearson 0.432 [0.300, 0.500]" in out
    assert "noise ceiling sessions_lower 0.610" in out
    assert "test: mean over folds of each fold's within-test pairs" in out
    from fmri_rdm.reporting.results import RunMetrics

    again = RunMetrics.from_json(metrics).to_json()
    assert again["all_pairs"] == metrics["all_pairs"] and again["fits_nothing"] is True
