"""bench.run machinery on tiny sizes: row fields, table, bench.json layout (no speed checks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from bench import baselines
from bench.run import (
    FIELDS,
    FULL_GROUPS,
    GROUPS,
    Row,
    Sizes,
    bench_rows,
    format_table,
    main,
    run,
    write_json,
)
from fmri_rdm.data.images import dominant_colors
from fmri_rdm.rsa.pairs import all_pairs, balanced_pairs, extremes_pairs
from fmri_rdm.rsa.rdm import compute_rdm
from fmri_rdm.rsa.splits import image_disjoint_folds, split_pairs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_rows_table_and_json(tmp_path: Path) -> None:
    rows = run(Sizes.quick(), only=("rdm", "extremes", "folds", "colors"))
    names = [r.operation for r in rows]
    assert any("pdist" in n for n in names) and any("colour" in n for n in names)
    for r in rows:
        assert r.project_s > 0
        assert (r.baseline_s is None) == (r.ratio is None)
    rdm_row = rows[0]
    assert rdm_row.gflops and rdm_row.gemm_gflops and rdm_row.ratio
    table = format_table(rows)
    assert "GFLOP/s" in table and len(table.splitlines()) == len(rows) + 2
    out = tmp_path / "bench.json"
    write_json(rows, out)
    data = json.loads(out.read_text())
    assert isinstance(data, list) and len(data) == len(rows)
    assert all(set(d) == set(FIELDS) for d in data)


def test_main_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b.json"
    main(["--quick", "--only", "colors", "--out", str(out)])
    assert "colour classification" in capsys.readouterr().out
    (row,) = json.loads(out.read_text())
    assert row["operation"].startswith("colour") and row["ratio"] > 0


def _toy_rows(sizes: Sizes) -> list[Row]:
    """A benchmark registered by the test below: one row, its size from `sizes`."""
    return [Row("toy", f"repeats={sizes.repeats}", 0.5)]


def test_registry_entries_resolve_and_one_line_registers_a_bench(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for entry in [*GROUPS.values(), *FULL_GROUPS.values()]:
        assert callable(bench_rows(entry)), entry
    monkeypatch.setitem(GROUPS, "toy", "tests.test_bench:_toy_rows")  # the one registry line
    (row,) = run(Sizes.quick(), only=("toy",))
    assert row.operation == "toy" and row.size == "repeats=1"
    main(["--quick", "--only", "toy", "--out", str(tmp_path / "toy.json")])
    assert "toy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--quick", "--only", "rmd"])  # a misspelt group is an error, not an empty table
    assert "unknown --only group(s) rmd: use rdm, extremes" in capsys.readouterr().err


def test_row_rounding() -> None:
    d = Row("x", "n=1", 0.123456789, 12.3456).as_dict()
    assert d["project_s"] == 0.1235 and d["baseline_s"] == 12.3 and d["met"] is None


def test_baselines_agree_with_the_project() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 30)).astype(np.float32)
    np.testing.assert_allclose(baselines.rdm_pdist(x), pdist(x, "correlation"))
    np.testing.assert_allclose(compute_rdm(x), baselines.rdm_pdist(x), atol=2e-5)
    n, k = 25, 3
    rdm = rng.random(n * (n - 1) // 2).astype(np.float32) * 2
    i, j = extremes_pairs(rdm, n, k)
    assert baselines.extremes_loop(rdm, n, k) == list(zip(i.tolist(), j.tolist(), strict=True))
    bi, _ = balanced_pairs(rdm, n, "correlation", k, seed=0, mid_band=0.3)
    assert len(baselines.balanced_loop(rdm, n, k, mid_band=0.3)) == len(bi)
    imgs = rng.integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)
    imgs[0] = (200, 10, 10)
    imgs[1, :4] = (90, 90, 90)  # exact ties
    np.testing.assert_array_equal(baselines.dominant_colors_loop(imgs), dominant_colors(imgs))
    pi, pj = all_pairs(14)
    folds = image_disjoint_folds(14, 5, seed=0)
    for (train, test), (tr, te) in zip(
        baselines.folds_list_comprehension(pi, pj, folds), folds, strict=True
    ):
        train_mask, test_mask = split_pairs(pi, pj, tr, te, 14)
        assert train == list(zip(pi[train_mask].tolist(), pj[train_mask].tolist(), strict=True))
        assert test == list(zip(pi[test_mask].tolist(), pj[test_mask].tolist(), strict=True))


def test_statistics_rows_and_loop_reference() -> None:
    from bench.statistics_rows import _fold, materialized_loop
    from fmri_rdm.stats.bootstrap import bootstrap_scores, resample_counts

    rows = run(Sizes.quick(), only=("stats",))
    assert rows[0].operation.startswith("stimulus bootstrap") and len(rows) == 6
    i, j, t, p = _fold(10)
    counts = resample_counts(np.random.default_rng(0), 10, 8)
    got = bootstrap_scores(t, p, i, j, counts, ("pearson", "spearman"))
    ref = materialized_loop(counts, i, j, t, p)  # the baseline computes the same numbers
    np.testing.assert_allclose(np.stack([got["pearson"][0], got["spearman"][0]], 1), ref, atol=1e-6)


def test_time_rows_and_their_baselines_agree() -> None:
    pytest.importorskip("mne")
    from bench.time_rows import _mne, _pdist_loop
    from fmri_rdm.rsa.windows import sliding_windows, window_rdms
    from fmri_rdm.stats.clusters import cluster_test

    rows = run(Sizes.quick(), only=("time",))
    assert [r.target for r in rows] == ["< 10 s", "< 10 s"] and all(r.baseline_s for r in rows)
    x = np.random.default_rng(0).normal(size=(6, 4, 9))
    got = window_rdms(x, sliding_windows(np.arange(9.0)))
    np.testing.assert_allclose(got, _pdist_loop(x), atol=1e-12)  # the same RDMs
    scores = np.random.default_rng(1).normal(0.5, 1.0, (5, 30))
    _, clusters, _, _ = _mne(scores, 100)  # 2^5 patterns: both exact
    ours = cluster_test(scores, n_permutations=100)
    assert len(ours.clusters) == len(clusters)


@pytest.mark.slow  # three processes that each import Lightning: ~30 s on the shared 2 cores
def test_concurrent_row_machinery() -> None:
    """Two training processes started together (3 steps each): fields, not speed."""
    from bench.training_rows import bench_concurrent

    row, alone = bench_concurrent(Sizes.quick())
    for r in (row, alone):
        assert r.project_s > 0 and r.baseline_s and r.baseline_s > 0
        # the row's seconds are rounded for the table; at 3 steps that alone moves the ratio ~2 %
        assert r.ratio == pytest.approx(r.project_s / r.baseline_s, rel=5e-2)
        assert "3 steps" in r.size
    assert row.operation.startswith("training: 2 copies")
    assert alone.operation.startswith("training alone") and "ACTIVE" in alone.operation


def test_full_pipeline_extrapolation_recovers_the_growth() -> None:
    from bench.full_pipeline import FULL_EPOCHS, FULL_IMAGES, extrapolate, table

    def result(n: int) -> dict:
        stages = {"embeddings": 0.01 * n, "fit": 1e-4 * n**2, "save": 0.01, "total": 0.0}
        return {"roi": "V1v", "n_images": n, "epochs": 2, "n_voxels": 7, "stages": stages,
                "peak_rss_mb": 100.0, "peak_gpu_mb": None}  # fmt: skip

    small, large = result(100), result(400)
    guess = extrapolate(small, large)
    assert guess["embeddings"] == pytest.approx((1.0, 0.01 * FULL_IMAGES))
    k, fit = guess["fit"]
    assert k == pytest.approx(2.0)
    assert fit == pytest.approx(1e-4 * FULL_IMAGES**2 * FULL_EPOCHS / 2)
    assert guess["save"][0] == 2.0  # too short to time: assumed quadratic (an overstatement)
    shown = table([small, large])
    assert "roi=V1v (7 voxels)" in shown and "(est.)" in shown and "peak_rss_mb" in shown


@pytest.mark.slow  # a whole (tiny) run in a child process: data, embeddings, 5 folds, stats
def test_full_pipeline_runs_end_to_end(tmp_path: Path) -> None:
    from bench.full_pipeline import measure

    extra = ["data.generate.n_images=40", "data.generate.image_size=64", "training.batch_size=256"]
    res = measure("V1v", 40, 1, [*extra, f"paths.cache_dir={tmp_path}"])
    stages = res["stages"]
    for stage in ("generate", "data", "embeddings", "fit", "predict", "statistics", "total"):
        assert stages[stage] >= 0, stage
    assert stages["encoding_baseline"] > 0 and stages["fit"] > 0
    assert stages["total"] >= stages["fit"] + stages["embeddings"]  # generation apart
    assert res["n_images"] == 40 and res["peak_rss_mb"] > 0


def test_svm_ridge_rows_and_the_direct_solve_baseline() -> None:
    """bench/svm_ridge.py at quick sizes: its rows, and its plain direct ridge solve picks the
    alphas the project's solver picks (its baseline is the same estimator)."""
    from sklearn.model_selection import KFold

    from bench.svm_ridge import bench_svm_ridge, direct_ridge_cv, ridge_data
    from fmri_rdm.models.encoding.ridge_eigh import ridge_cv_eigh

    rows = bench_svm_ridge(Sizes.quick())
    assert [r.operation.split(":")[0] for r in rows] == ["SVM fit+predict", "encoding fit"]
    assert all(r.project_s > 0 and r.ratio and r.met is not None for r in rows)
    assert "AUC" in rows[0].target
    x, y = ridge_data(60, 12, 8)
    alphas = np.logspace(-2, 8, 21)
    splits = list(KFold(5, shuffle=True, random_state=0).split(x))
    np.testing.assert_array_equal(
        direct_ridge_cv(x, y, alphas, splits), ridge_cv_eigh(x, y, alphas, splits).best_alphas
    )
