"""Tests for fmri_rdm.plots: figures, their labels, the saved files, and no pyplot state."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.plots import (
    PLOT_NAMES,
    color_examples,
    confusion_matrix,
    extreme_pairs,
    fold_summary,
    predicted_vs_true,
    rdm_heatmap,
    rdm_histogram,
    save_figure,
    save_run_plots,
    select_extreme_pairs,
    training_curves,
)
from fmri_rdm.rsa.rdm import binarize_rdm, compute_rdm, condensed_to_pairs

N = 12


@pytest.fixture(autouse=True)
def _no_pyplot_figures() -> Iterator[None]:
    """Every test must leave pyplot's figure registry empty (the module never uses pyplot)."""
    assert plt.get_fignums() == []
    yield
    assert plt.get_fignums() == []


@pytest.fixture()
def paths(tmp_path: Path) -> list[Path]:
    """N small PNGs: pure red, green and blue images in turn, then a mixed one."""
    colors = [(230, 10, 10), (10, 230, 10), (10, 10, 230), (120, 130, 110)]
    out = []
    for k in range(N):
        path = tmp_path / "images" / f"img{k:02d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (20, 16), colors[k % 4]).save(path)
        out.append(path)
    return out


def _rdm(metric: str = "correlation", n: int = N, seed: int = 0) -> np.ndarray:
    return compute_rdm(np.random.default_rng(seed).standard_normal((n, 30)), metric)


def _metrics(model: str = "mlp") -> dict[str, Any]:
    key = "roc_auc" if model == "svm" else "pearson"
    folds: list[dict[str, Any]] = [{"fold": f, "test": {key: 0.3 + 0.1 * f}} for f in range(3)]
    folds[1]["test"][key] = None
    baselines = (
        {"majority_accuracy": {"mean": 0.55}, "zero_training_roc_auc": {"mean": None}}
        if model == "svm"
        else {
            "shuffled_pearson": {"mean": 0.01},
            "zero_training_pearson": {"mean": 0.25},
            "zero_training_spearman": {"mean": 0.2},
        }
    )
    return {
        "model": model,
        "roi": "V1",
        "folds": folds,
        "test": {key: {"mean": 0.4, "std": 0.1}},
        "baselines": baselines,
        "noise_ceiling": {key: {"mean": 0.8}},
    }


def _image(ax: Axes) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_rdm_heatmap_shows_values_and_binary_with_colour_bars(metric: str) -> None:
    rdm = _rdm(metric)
    fig = rdm_heatmap(rdm, N, metric, max_images=5)
    assert isinstance(fig, Figure) and fig.get_suptitle()
    assert len(fig.axes) == 4  # two panels + two colour bars
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2 and all(ax.get_xlabel() == "image index" for ax in panels)
    assert _image(panels[0]).shape == (5, 5)
    binary = _image(panels[1])
    full = binarize_rdm(rdm, metric)
    i, j = condensed_to_pairs(np.arange(full.size), N)
    want = np.zeros((N, N), dtype=bool)
    want[i, j] = want[j, i] = full
    shown = np.unique(np.round(np.linspace(0, N - 1, 5)).astype(int))
    np.testing.assert_array_equal(binary.astype(bool), want[np.ix_(shown, shown)])
    fig = rdm_heatmap(rdm, N, metric, subset=np.array([3, 1, 7]), title="custom")
    assert _image(fig.axes[0]).shape == (3, 3)
    assert fig.get_suptitle() == "custom"


def test_rdm_heatmap_rejects_a_mismatched_rdm() -> None:
    with pytest.raises(DataError, match="n_images"):
        rdm_heatmap(_rdm(), N + 1, "correlation")
    with pytest.raises(ConfigError):
        rdm_heatmap(_rdm(), N, "cosine")


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_rdm_histogram_marks_the_threshold(metric: str) -> None:
    rdm = _rdm(metric)
    fig = rdm_histogram(rdm, metric)
    (ax,) = fig.axes
    assert ax.get_xlabel() and ax.get_ylabel() == "number of image pairs" and ax.get_title()
    threshold = 1.0 if metric == "correlation" else float(np.median(rdm))
    (line,) = ax.get_lines()
    assert np.asarray(line.get_xdata())[0] == pytest.approx(threshold)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_select_extreme_pairs_matches_brute_force(metric: str, k: int) -> None:
    rdm = _rdm(metric, n=40, seed=k)
    chosen = select_extreme_pairs(rdm, metric, k)
    order = np.argsort(rdm, kind="stable")
    np.testing.assert_array_equal(chosen["lowest"], order[:k])
    np.testing.assert_array_equal(chosen["highest"], order[::-1][:k])
    threshold = 1.0 if metric == "correlation" else np.median(rdm)
    gap = np.abs(rdm - threshold)
    # the euclidean median lies between two tied pairs: compare distances, then the set
    np.testing.assert_array_equal(gap[chosen["closest"]], np.sort(gap)[:k])
    assert np.all(gap[chosen["closest"]] <= np.sort(gap)[k - 1])


def test_select_extreme_pairs_with_k_beyond_the_pair_count() -> None:
    rdm = _rdm(n=3)  # 3 pairs
    chosen = select_extreme_pairs(rdm, "correlation", 10)
    assert all(v.shape == (3,) for v in chosen.values())
    assert set(chosen["lowest"]) == {0, 1, 2}


def test_extreme_pairs_figure(paths: list[Path]) -> None:
    rdm = _rdm()
    fig = extreme_pairs(rdm, N, paths, "correlation", k=2)
    assert len(fig.axes) == 6
    lo = int(np.argmin(rdm))
    i, j = condensed_to_pairs(np.array([lo]), N)
    assert fig.axes[0].get_title() == f"image {i[0]} & image {j[0]}: d = {rdm[lo]:.3f}"
    assert "lowest" in fig.axes[0].get_ylabel() and "highest" in fig.axes[4].get_ylabel()
    assert _image(fig.axes[0]).shape[:2] == (128, 2 * 128 + 6)
    with pytest.raises(DataError, match="paths"):
        extreme_pairs(rdm, N, paths[:-1], "correlation")
    # named by stimulus id (e.g. image0042), not by RDM row, and a supplied RDM says so
    ids = [f"stim-{k}" for k in range(N)]
    fig = extreme_pairs(rdm, N, paths, "correlation", k=2, ids=ids, supplied=True)
    assert fig.axes[0].get_title() == f"stim-{i[0]} & stim-{j[0]}: d = {rdm[lo]:.3f}"
    assert fig.get_suptitle().startswith("Extreme image pairs of the supplied RDM")


def test_a_supplied_rdm_is_not_labelled_with_the_run_metric() -> None:
    """RDM data: the values' metric is the data's own, unknown to the run."""
    rdm = _rdm()
    assert rdm_histogram(rdm, "correlation").axes[0].get_xlabel() == "dissimilarity (1 − Pearson r)"
    fig = rdm_histogram(rdm, "correlation", supplied=True)
    assert fig.axes[0].get_xlabel() == "dissimilarity (as supplied)"
    fig = rdm_heatmap(rdm, N, "correlation", supplied=True)
    assert "dissimilarity (as supplied)" in [a.get_ylabel() for a in fig.axes]
    fig = predicted_vs_true(None, (rdm, rdm), "correlation", supplied=True)
    assert "(as supplied)" in fig.axes[0].get_xlabel()


def test_training_curves_one_line_per_fold_and_split() -> None:
    histories: list[dict[str, list[float | None]]] = [
        {"train/loss": [1.0, 0.5, 0.3], "val/loss": [1.1, 0.7, None], "val/pearson": [0, 0.2, 0.3]}
        for _ in range(2)
    ]
    fig = training_curves(histories)
    assert len(fig.axes) == 2  # loss, pearson
    loss, pearson = fig.axes
    assert len(loss.get_lines()) == 4 and len(pearson.get_lines()) == 2
    assert loss.get_xlabel() == "epoch" and loss.get_ylabel() == "loss"
    np.testing.assert_array_equal(loss.get_lines()[0].get_xdata(), [1, 2, 3])
    assert len(fig.legends[0].get_texts()) == 4  # fold 0, fold 1, train, val
    with pytest.raises(ValueError, match="history"):
        training_curves([])


def test_predicted_vs_true_scatter_and_hexbin() -> None:
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 2, 200)
    big = rng.uniform(0, 2, 25_000)
    fig = predicted_vs_true((big, big + rng.normal(0, 0.1, big.size)), (small, small), "euclidean")
    assert len(fig.axes) == 3  # train hexbin + its colour bar, test scatter
    train, test, bar = fig.axes
    assert bar.get_label() == "<colorbar>" and "pairs per hexagon" in bar.get_ylabel()
    assert train.get_title().startswith("train: Pearson r = ")
    assert test.get_title() == "test: Pearson r = 1.000 (200 pairs)"
    assert "Euclidean" in test.get_xlabel() and test.get_ylabel().startswith("predicted")
    fig = predicted_vs_true(None, (small, np.ones_like(small)), "correlation")
    assert len(fig.axes) == 1 and "n/a" in fig.axes[0].get_title()
    with pytest.raises(DataError):
        predicted_vs_true(None, (small, small[:-1]), "correlation")


@pytest.mark.parametrize("model", ["mlp", "svm"])
def test_fold_summary_bars_and_baselines(model: str) -> None:
    fig = fold_summary(_metrics(model))
    (ax,) = fig.axes
    assert len(ax.patches) == 2  # fold 1 has no score
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    if model == "svm":
        assert any("majority" in s for s in labels) and not any(
            "zero-training" in s for s in labels
        )
        assert any("chance" in s for s in labels) and "ROC-AUC" in ax.get_ylabel()
    else:
        assert any("shuffled" in s for s in labels)
        # the Pearson plot's zero-training line is the Pearson one, never the Spearman one
        assert "zero-training embedding distance (Pearson r): 0.250" in labels
        assert not any("Spearman" in s for s in labels)
        assert "Pearson" in ax.get_ylabel()
    assert any("noise ceiling" in s for s in labels)
    assert "mean 0.400 ± 0.100" in ax.get_title()
    with pytest.raises(ValueError, match="folds"):
        fold_summary({"model": "mlp", "folds": []})


def test_confusion_matrix_annotations() -> None:
    fig = confusion_matrix([[30, 10], [0, 0]])
    assert len(fig.axes) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "30\n(75.0%)" in texts and "10\n(25.0%)" in texts and "0\n(n/a)" in texts
    assert fig.axes[0].get_xlabel() == "predicted" and fig.axes[0].get_ylabel() == "true"
    with pytest.raises(ValueError, match="2x2"):
        confusion_matrix([[1, 2, 3]])


def test_color_examples_rows_per_colour(paths: list[Path]) -> None:
    labels = np.array([k % 4 if k % 4 < 3 else -1 for k in range(N)], dtype=np.int8)
    fig = color_examples(paths, labels, ("red", "blue"), per_class=4)
    assert len(fig.axes) == 8
    assert fig.axes[0].get_ylabel().startswith("red") and fig.axes[4].get_ylabel().startswith(
        "blue"
    )
    assert fig.axes[0].get_title() == "image 0" and fig.axes[4].get_title() == "image 2"
    assert len(fig.axes[3].images) == 0  # only 3 red images among 12
    with pytest.raises(ConfigError, match="colour"):
        color_examples(paths, labels, ("purple",))


def test_save_figure_creates_the_folder(tmp_path: Path) -> None:
    out = save_figure(confusion_matrix([[1, 2], [3, 4]]), tmp_path / "a" / "b" / "cm.png")
    assert out == tmp_path / "a" / "b" / "cm.png"
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size[0] > 300


def test_save_run_plots_writes_every_plot(tmp_path: Path, paths: list[Path]) -> None:
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 2, 50)
    labels = np.array([k % 4 if k % 4 < 3 else -1 for k in range(N)], dtype=np.int8)
    written = save_run_plots(
        tmp_path / "plots",
        rdm=_rdm(),
        n_images=N,
        metric="correlation",
        paths=paths,
        metrics=_metrics(),
        histories=[{"train/loss": [1.0, 0.5], "val/loss": [1.2, 0.8]}],
        train_scatter=(target, target + 0.1),
        test_scatter=(target, target * 0.5),
        confusion=[[5, 1], [2, 7]],
        color_labels=labels,
    )
    assert set(written) == set(PLOT_NAMES)
    for name, path in written.items():
        assert path == tmp_path / "plots" / f"{name}.png" and path.stat().st_size > 1000


def test_save_run_plots_skips_missing_inputs_and_survives_a_failing_plot(
    tmp_path: Path, paths: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    paths[0].write_bytes(b"not a png")  # color_examples shows image 0 and fails
    rdm = _rdm()
    with caplog.at_level(logging.WARNING, logger="fmri_rdm.plots"):
        written = save_run_plots(
            tmp_path / "plots",
            rdm=rdm,
            n_images=N,
            metric="correlation",
            paths=paths,
            metrics={"model": "mlp", "folds": []},
            color_labels=np.zeros(N, dtype=np.int8),  # all red: image 0 is shown
        )
    assert "rdm_heatmap" in written and "rdm_histogram" in written
    assert "color_examples" not in written
    assert any("color_examples" in r.getMessage() for r in caplog.records)
    assert not {"training_curves", "predicted_vs_true", "fold_summary", "confusion_matrix"} & set(
        written
    )
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        f"{name}.png" for name in written
    )


def test_save_run_plots_rejects_bad_arguments(tmp_path: Path, paths: list[Path]) -> None:
    with pytest.raises(DataError, match="paths"):
        save_run_plots(
            tmp_path, rdm=_rdm(), n_images=N, metric="correlation", paths=paths[:3], metrics={}
        )
    with pytest.raises(ConfigError):
        save_run_plots(tmp_path, rdm=_rdm(), n_images=N, metric="cosine", paths=paths, metrics={})


def test_rdm_heatmap_groups_images_by_a_metadata_column():
    """plots.sort_by: the heatmap shows the images grouped by their label, named on the axes."""
    from scipy.spatial.distance import pdist

    from fmri_rdm.plots.rdm_plots import rdm_heatmap, sorted_subset

    labels = ["b", "a", "b", "c", "a", "a"]
    order = sorted_subset(labels, max_images=100)
    assert order.tolist() == [1, 4, 5, 0, 2, 3]  # stable within a group
    rdm = pdist(np.random.default_rng(0).standard_normal((6, 4)), "correlation")
    fig = rdm_heatmap(rdm, 6, "correlation", sort_labels=labels)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    shown = ax.images[0].get_array()
    square = np.zeros((6, 6))
    square[np.triu_indices(6, 1)] = rdm
    square += square.T
    # the diagonal is blank (NaN) since the colour scale spans the off-diagonal values
    np.testing.assert_allclose(np.nan_to_num(shown), square[np.ix_(order, order)], atol=1e-6)


def test_rdm_heatmap_colour_scale_spans_the_off_diagonal_values() -> None:
    """The zero diagonal would pin the scale at 0 and paint every pair (0.95-1.07) one colour:
    the limits are the shown off-diagonal minimum and maximum, the diagonal is blank, and a few
    images are named on the axes."""
    from scipy.spatial.distance import squareform

    rng = np.random.default_rng(1)
    rdm = rng.uniform(0.95, 1.07, 10)  # 5 images
    names = [f"img{k}.png" for k in range(5)]
    fig = rdm_heatmap(rdm, 5, "correlation", names=names, title="Predicted RDM")
    image = fig.axes[0].images[0]
    assert image.get_clim() == pytest.approx((rdm.min(), rdm.max()))
    shown = np.asarray(image.get_array(), dtype=float)
    assert np.isnan(np.diag(shown)).all()
    np.testing.assert_allclose(np.nan_to_num(shown), squareform(rdm), rtol=1e-6)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == names
    many = rdm_heatmap(
        rng.uniform(0, 2, 45 * 89), 90, "correlation", names=[str(k) for k in range(90)]
    )
    assert len(many.axes[0].get_xticklabels()) <= 6  # too many to name: a few index ticks


def test_predicted_vs_true_names_the_fold_and_shares_the_axes() -> None:
    rng = np.random.default_rng(2)
    train_t = rng.uniform(0.5, 1.5, 300)
    test_t = rng.uniform(0.8, 1.1, 100)
    fig = predicted_vs_true(
        (train_t, train_t + 0.2), (test_t, test_t), "correlation", "fold 2 of 5"
    )
    train, test = fig.axes
    assert train.get_xlim() == test.get_xlim() and train.get_ylim() == test.get_ylim()
    assert train.get_xlim()[0] < 0.5 and train.get_xlim()[1] > 1.7
    assert fig.get_suptitle().endswith(" · fold 2 of 5")
