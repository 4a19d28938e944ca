"""Plots of a run's results: training curves, predictions vs targets, per-fold scores, confusion."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import transforms
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from fmri_rdm.errors import DataError
from fmri_rdm.plots._base import metric_label, new_figure
from fmri_rdm.reporting.results import FoldMetrics, RunMetrics
from fmri_rdm.rsa.rdm import check_metric

SCATTER_MAX_POINTS = 20_000  # above this, predicted_vs_true draws a hexbin density instead
_SPLIT_STYLES = {"train": "-", "val": "--", "test": ":"}
_BASELINES = {
    "pearson": (
        "shuffled_pearson",
        "zero_training_pearson",
        "encoding_pearson",
    ),
    "roc_auc": ("majority_accuracy", "zero_training_roc_auc"),
}
_BASELINE_LABELS = {
    "shuffled_pearson": "shuffled targets (Pearson r)",
    "zero_training_pearson": "zero-training embedding distance (Pearson r)",
    "zero_training_spearman": "zero-training embedding distance (Spearman ρ)",
    "majority_accuracy": "majority class (accuracy)",
    "zero_training_roc_auc": "zero-training embedding distance (ROC-AUC)",
    "encoding_pearson": "ridge encoding model, per unit (Pearson r)",
}
_SCORE_NAMES = {"pearson": "Pearson r", "roc_auc": "ROC-AUC"}
_LINE_STYLES = ("--", "-.", ":", (0, (5, 2, 1, 2)))


def _split_key(key: str) -> tuple[str, str]:
    """("train", "loss") from "train/loss"; ("", key) when the key has no split prefix."""
    split, sep, quantity = key.partition("/")
    return (split, quantity) if sep else ("", key)


def training_curves(histories: Sequence[Mapping[str, Sequence[float | None]]]) -> Figure:
    """Per-epoch curves: one panel per quantity (loss, ...), one line per fold and split.

    histories: one dict per fold, e.g. {"train/loss": [...], "val/loss": [...]} (values per
    epoch; None or NaN leave gaps). Colour = fold, line style = split.
    """
    if not histories or not any(histories):
        raise ValueError("training_curves needs at least one fold with a recorded history")
    quantities: dict[str, list[str]] = {}  # quantity -> splits, in order of first appearance
    for history in histories:
        for key in history:
            split, quantity = _split_key(key)
            if split not in quantities.setdefault(quantity, []):
                quantities[quantity].append(split)
    ncols = min(3, len(quantities))
    nrows = math.ceil(len(quantities) / ncols)
    fig = new_figure(5.0 * ncols + 1.6, 3.8 * nrows + 0.4)
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    colors = [f"C{f % 10}" for f in range(len(histories))]
    splits_seen: dict[str, Any] = {}
    for ax, (quantity, splits) in zip(axes, quantities.items(), strict=False):
        positive = True
        for fold, history in enumerate(histories):
            for split in splits:
                key = f"{split}/{quantity}" if split else quantity
                if key not in history:
                    continue
                y = np.array([np.nan if v is None else v for v in history[key]], dtype=float)
                style = _SPLIT_STYLES.get(split, "-.")
                splits_seen.setdefault(split or quantity, style)
                marker = "o" if y.shape[0] <= 30 else None
                ax.plot(
                    np.arange(1, y.shape[0] + 1),
                    y,
                    color=colors[fold],
                    linestyle=style,
                    marker=marker,
                    markersize=3,
                )
                positive &= bool(np.all(y[np.isfinite(y)] > 0))
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity)
        ax.set_title(f"{quantity} per epoch")
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        lo, hi = ax.dataLim.y0, ax.dataLim.y1
        if "loss" in quantity and positive and lo > 0 and hi / lo > 100:
            ax.set_yscale("log")
    for ax in axes[len(quantities) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=c, label=f"fold {f}") for f, c in enumerate(colors)]
    handles += [Line2D([], [], color="0.3", linestyle=s, label=n) for n, s in splits_seen.items()]
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    fig.suptitle(f"Training curves ({len(histories)} fold{'s' * (len(histories) != 1)})")
    return fig


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape[0] < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def predicted_vs_true(
    train: tuple[np.ndarray, np.ndarray] | None,
    test: tuple[np.ndarray, np.ndarray] | None,
    metric: str,
    fold: str | None = None,
    supplied: bool = False,
) -> Figure:
    """Predicted vs true dissimilarity per split, identity line, Pearson r in each title; the
    panels share one axis range, so train and test read on the same scale.

    train, test: (target, prediction) pairs of (P,) arrays, or None to leave a split out.
    Above 20k points a split is drawn as a log-count hexbin density with a colour bar.
    fold: which fold the pairs come from (`fold 1 of 5`), in the title. supplied: the
    targets are an RDM given as data (its metric unknown: labelled as supplied).
    """
    label = metric_label(metric, supplied)
    panels = [(name, pair) for name, pair in (("train", train), ("test", test)) if pair is not None]
    if not panels:
        raise ValueError("predicted_vs_true needs the train or the test (target, prediction)")
    fig = new_figure(5.6 * len(panels) + 0.6, 5.0)
    axes = np.asarray(fig.subplots(1, len(panels), squeeze=False)).ravel()
    data = []
    for name, (target, prediction) in panels:
        t = np.asarray(target, dtype=np.float64).ravel()
        p = np.asarray(prediction, dtype=np.float64).ravel()
        if t.shape != p.shape:
            raise DataError(f"{name}: {t.shape[0]} targets but {p.shape[0]} predictions")
        keep = np.isfinite(t) & np.isfinite(p)
        t, p = t[keep], p[keep]
        if t.size == 0:
            raise DataError(f"{name}: no finite (target, prediction) pairs to plot")
        data.append((name, t, p))
    # one range for every panel: train and test compare at a glance
    lo = min(float(min(t.min(), p.min())) for _, t, p in data)
    hi = max(float(max(t.max(), p.max())) for _, t, p in data)
    pad = 0.03 * (hi - lo or 1.0)
    for ax, (name, t, p) in zip(axes, data, strict=True):
        if t.shape[0] > SCATTER_MAX_POINTS:
            hb = ax.hexbin(t, p, gridsize=70, bins="log", mincnt=1, cmap="viridis")
            fig.colorbar(hb, ax=ax, label="pairs per hexagon (log scale)")
        else:
            alpha = float(np.clip(2000.0 / t.shape[0], 0.15, 0.8))
            ax.scatter(t, p, s=8, alpha=alpha, color="#4c72b0", edgecolors="none", label="pair")
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=1.2, label="identity y = x")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal", adjustable="box")
        r = _pearson(t, p)
        r_text = "n/a" if math.isnan(r) else f"{r:.3f}"
        ax.set_title(f"{name}: Pearson r = {r_text} ({t.shape[0]:,} pairs)")
        ax.set_xlabel(f"true {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
    which = f" · {fold}" if fold else ""
    fig.suptitle(f"Predicted vs true dissimilarity ({check_metric(metric)}){which}")
    return fig


def headline_score(run: RunMetrics) -> str:
    """The test score a run is judged by: that of its optimised metric (`test.<score>.mean`),
    else Pearson r when the run has it (older runs), else its first test score."""
    name = run.optimized_name or ""
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "test" and parts[1] in run.test:
        return parts[1]
    return "pearson" if "pearson" in run.test or not run.test else next(iter(run.test))


def _reference_lines(run: RunMetrics, key: str) -> list[tuple[str, float]]:
    """(label, value) of the chance level, the baselines and the noise ceiling of `key`."""
    lines: list[tuple[str, float]] = []
    if key == "roc_auc":
        lines.append(("chance (ROC-AUC = 0.5)", 0.5))
    for name in _BASELINES.get(key, ()):
        value = run.baseline(name)
        if value is not None:
            lines.append((_BASELINE_LABELS[name], value))
    ceiling = run.ceiling(key)
    if ceiling is not None:
        lines.append((f"noise ceiling ({_SCORE_NAMES.get(key, key)})", ceiling))
    return lines


def _draw_fold_bars(
    ax: Any, folds: Sequence[FoldMetrics], key: str, scores: np.ndarray
) -> list[float]:
    """Bars with their labels and interval whiskers; returns the interval ends drawn."""
    x = np.arange(len(folds))
    drawn = np.isfinite(scores)
    ax.bar(x[drawn], scores[drawn], width=0.6, color="#4c72b0", label="model (test)", zorder=2)
    low, high, texts = _fold_intervals(folds, key, scores)
    # labels sit above the interval's top, so the error bar never runs through them
    tops = np.fmax(scores, np.where(np.isfinite(high), high, scores))
    for k in np.flatnonzero(drawn):
        ax.annotate(texts[k], (x[k], tops[k]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    has_ci = drawn & np.isfinite(low) & np.isfinite(high)
    if has_ci.any():
        ax.errorbar(
            x[has_ci],
            scores[has_ci],
            yerr=[scores[has_ci] - low[has_ci], high[has_ci] - scores[has_ci]],
            fmt="none",
            ecolor="black",
            capsize=4,
            label="95 % interval (stimulus bootstrap)",
            zorder=4,
        )
    blend = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for pos in x[~drawn]:
        ax.text(pos, 0.5, "n/a", ha="center", va="center", color="0.4", transform=blend)
    return [*high[has_ci], *low[has_ci]]


def _draw_reference_lines(ax: Any, lines: list[tuple[str, float]]) -> None:
    for n, (label, value) in enumerate(lines):
        is_ceiling = label.startswith("noise ceiling")
        ax.axhline(
            value,
            color="black" if is_ceiling else f"C{n + 1}",
            lw=1.6,
            linestyle="-" if is_ceiling else _LINE_STYLES[n % len(_LINE_STYLES)],
            label=f"{label}: {value:.3f}",
            zorder=3,
        )
    ax.axhline(0.0, color="0.5", lw=0.8, zorder=1)


def _fold_summary_title(run: RunMetrics, key: str) -> str:
    mean = run.test_score(key)
    mean_text = "" if mean is None else f": mean {mean:.3f}"
    std = run.entry("test", key).get("std")
    if mean is not None and std is not None:
        mean_text += f" ± {std:.3f}"
    where = ", ".join(str(v) for v in (run.model, run.roi) if v is not None)
    name = _SCORE_NAMES.get(key, key)
    return f"Test {name} per fold{mean_text}" + (f" ({where})" if where else "")


def fold_summary(metrics: Mapping[str, Any], score: str | None = None) -> Figure:
    """Per-fold test score bars beside the chance / zero-training baselines and noise ceiling.

    metrics: the metrics.json dict (read through `reporting.results.RunMetrics`). score: the
    test score drawn (the task's headline: Pearson r for regression, ROC-AUC for
    classification); None reads it from the run (`headline_score`). Baselines and ceiling are
    fold means; None values are skipped.
    """
    run = RunMetrics.from_json(metrics)
    key = score or headline_score(run)
    folds = run.folds
    if not folds:
        raise ValueError("metrics has no per-fold results ('folds' is empty)")
    raw = [f.score(key) for f in folds]
    scores = np.array([np.nan if v is None else v for v in raw], dtype=float)
    lines = _reference_lines(run, key)
    fig = new_figure(max(8.0, 0.9 * len(folds) + 4.0), 5.6)
    ax = fig.subplots()
    extra = _draw_fold_bars(ax, folds, key, scores)
    band = _inter_subject_band(run, key)
    if band is not None:
        ax.axhspan(*band, color="0.6", alpha=0.25, zorder=1,
                   label=f"inter-subject noise ceiling: {band[0]:.3f}–{band[1]:.3f}")  # fmt: skip
        extra += list(band)
    _draw_reference_lines(ax, lines)
    values = np.concatenate([scores[np.isfinite(scores)], [v for _, v in lines], extra, [0.0]])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.12 * (hi - lo or 1.0)
    ax.set_ylim(lo - (pad if lo < 0 else 0.03 * (hi - lo or 1.0)), hi + pad)
    names = [f"fold {n if f.fold is None else f.fold}" for n, f in enumerate(folds)]
    ax.set_xticks(np.arange(len(folds)), names)
    ax.set_xlabel("fold (held-out images)")
    ax.set_ylabel(f"test {_SCORE_NAMES.get(key, key)}")
    ax.set_title(_fold_summary_title(run, key))
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    return fig


def _fold_intervals(
    folds: Sequence[FoldMetrics], key: str, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per fold: interval ends (NaN when absent) and the bar label (score, p-value)."""
    low, high, texts = np.full(len(folds), np.nan), np.full(len(folds), np.nan), []
    for k, fold in enumerate(folds):
        interval = fold.interval(key)
        if interval is not None:
            low[k], high[k] = interval
        p = fold.p_value(key)
        text = f"{scores[k]:.3f}"
        texts.append(text if p is None else f"{text}\np={p:.2g}")
    return low, high, texts


def _inter_subject_band(run: RunMetrics, key: str) -> tuple[float, float] | None:
    """(lower, upper) fold means of the inter-subject ceiling for Pearson, else None."""
    if key != "pearson":
        return None
    lo, hi = run.ceiling("inter_subject_lower"), run.ceiling("inter_subject_upper")
    return None if lo is None or hi is None else (lo, hi)


def confusion_matrix(cm: Sequence[Sequence[int]], *, title: str | None = None) -> Figure:
    """2x2 confusion matrix (rows true similar/dissimilar, columns predicted), counts and row %."""
    counts = np.asarray(cm, dtype=np.float64)
    if counts.shape != (2, 2) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"a confusion matrix must be 2x2 non-negative counts, got {cm!r}")
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(rows > 0, 100.0 * counts / rows, np.nan)
    total = counts.sum()
    fig = new_figure(5.6, 4.6)
    ax = fig.subplots()
    im = ax.imshow(pct, cmap="Blues", vmin=0.0, vmax=100.0)
    fig.colorbar(im, ax=ax, label="% of the true class (row)")
    for row, col in ((0, 0), (0, 1), (1, 0), (1, 1)):  # the four cells
        share = pct[row, col]
        text = f"{int(counts[row, col]):,}\n" + ("(n/a)" if np.isnan(share) else f"({share:.1f}%)")
        ax.text(
            col,
            row,
            text,
            ha="center",
            va="center",
            fontsize=12,
            color="white" if share > 55 else "black",
        )
    classes = ["similar", "dissimilar"]
    ax.set_xticks([0, 1], classes)
    ax.set_yticks([0, 1], classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / total if total else float("nan")
    ax.set_title(title or f"Confusion matrix\n{int(total):,} pairs, accuracy {accuracy:.1%}")
    return fig
