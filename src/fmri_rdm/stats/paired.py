"""Paired comparison of two runs on the same test pairs: ONE pooled difference per score, with
a stimulus-bootstrap interval, one test, and Holm's family-wise correction over the scores.

Runs pair when their predictions.npz hold the same folds with identical test pairs (i, j) and
targets, over the same images (`image_indices`): same data, distribution, folds and seed.

Per score the difference is A - B of the fold-mean score (what each run reports as its test
score). Fold k's test images are resampled with replacement (`stats.bootstrap`), the SAME draws
for A and B (paired over stimuli), independently across folds (disjoint image sets), so the
mean over folds of resample b's difference is a bootstrap draw of the pooled difference: its
percentile interval, and its two-sided bootstrap p-value (the interval inverted)

    p = min(1, 2 min(1 + #{d_b <= 0}, 1 + #{d_b >= 0}) / (1 + B))

where B counts the resamples with a defined difference. The p-values of the scores compared
(and, in `paired_report`, of every run compared with the first) are one family: Holm adjusts
them, an undefined p-value counted in the family (`stats.group.holm`), and run A is called
better only where the adjusted p is below 1 - level, on A's side (below 0 for mse, above 0
otherwise). Per-fold differences are listed without intervals or verdicts: k folds x 4 scores
of uncorrected 95 % intervals would call spurious winners.

Pearson and Spearman are scored on the runs' raw (uncalibrated) predictions where
predictions.npz holds them (`fold{k}_raw`, runs since issue 35), R² and MSE on the calibrated
ones (`rsa.scores.regression_scores`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats.group import holm

PREDICTIONS_FILE = "predictions.npz"
_FOLD_KEY = re.compile(r"fold(\d+)_i$")
TARGET_RTOL = 1e-5  # targets closer than this are the same RDM (float32 rounding)


@dataclass
class Fold:
    """One fold's test pairs (P,), targets, predictions and, when saved, raw predictions."""

    i: np.ndarray
    j: np.ndarray
    target: np.ndarray
    prediction: np.ndarray
    raw: np.ndarray | None = None

    @property
    def correlated(self) -> np.ndarray:
        """The predictions the correlations are scored on: raw when saved."""
        return self.prediction if self.raw is None else self.raw


@dataclass
class PairedComparison:
    """A vs B: `rows` one per score (pooled over folds, with interval, p and Holm p),
    `folds` one per (fold, score) without intervals, or neither and a note saying why."""

    a: str
    b: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    folds: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def paired(self) -> bool:
        return bool(self.rows)


def load_folds(run_dir: Path) -> tuple[np.ndarray | None, dict[int, Fold]]:
    """(image_indices, {fold: Fold}) of a run's predictions.npz; DataError when it is absent."""
    path = Path(run_dir) / PREDICTIONS_FILE
    if not path.is_file():
        raise DataError(f"{path} not found")
    with np.load(path) as data:
        folds = {}
        for key in data.files:
            m = _FOLD_KEY.match(key)
            if m:
                k = m.group(1)
                i, j, target, prediction = (
                    np.asarray(data[f"fold{k}_{x}"]) for x in ("i", "j", "target", "prediction")
                )
                raw = np.asarray(data[f"fold{k}_raw"]) if f"fold{k}_raw" in data.files else None
                folds[int(k)] = Fold(i, j, target, prediction, raw)
        images = np.asarray(data["image_indices"]) if "image_indices" in data.files else None
    return images, folds


def why_not_paired(
    a: tuple[np.ndarray | None, dict[int, Fold]], b: tuple[np.ndarray | None, dict[int, Fold]]
) -> str:
    """'' when the two runs' predictions pair, else the reason they do not."""
    (images_a, folds_a), (images_b, folds_b) = a, b
    if images_a is None or images_b is None or not np.array_equal(images_a, images_b):
        return "different images (image_indices)"
    if set(folds_a) != set(folds_b):
        return f"different folds ({sorted(folds_a)} vs {sorted(folds_b)})"
    for k, fa in folds_a.items():
        fb = folds_b[k]
        if not (np.array_equal(fa.i, fb.i) and np.array_equal(fa.j, fb.j)):
            return f"fold {k} has different test pairs (other seed, folds or distribution)"
        # the same measured RDM may differ in the last float32 bit between two processes
        # (threaded BLAS sums in another order): 1.2e-7 seen between two jobs of one sweep
        if fa.target.shape != fb.target.shape or not np.allclose(
            fa.target, fb.target, rtol=TARGET_RTOL, atol=TARGET_RTOL
        ):
            return f"fold {k} has different targets (other subject, ROI, metric or task)"
    return ""


def fold_differences(
    a: Fold, b: Fold, counts: np.ndarray, scores: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """({score: (2,) observed A and B}, {score: (B,) resampled A - B}) of one fold.
    counts: (B, n) draws of the fold's n test images (the same for A and B)."""
    images = np.union1d(a.i, a.j)
    pa, pb, n = boot.local_pairs(a.i, a.j, images)
    preds = np.stack([a.prediction, b.prediction]).astype(np.float64)
    raw = np.stack([a.correlated, b.correlated]).astype(np.float64)
    target = a.target.astype(np.float64)
    ones = np.ones((1, n), np.int64)
    observed = boot.bootstrap_scores(target, preds, pa, pb, ones, scores, raw=raw)
    samples = boot.bootstrap_scores(target, preds, pa, pb, counts, scores, raw=raw)
    return (
        {k: v[:, 0] for k, v in observed.items()},
        {k: v[0] - v[1] for k, v in samples.items()},
    )


def bootstrap_p(differences: np.ndarray) -> float:
    """Two-sided bootstrap p of difference = 0 (module docstring); NaN resamples dropped,
    NaN when none is defined."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    below, above = int(np.sum(d <= 0)), int(np.sum(d >= 0))
    return float(min(1.0, 2 * (1 + min(below, above)) / (1 + d.size)))


def adjust(rows: list[dict[str, Any]], level: float = 0.95) -> list[dict[str, Any]]:
    """Holm over the rows' p-values (one family, NaN counted) into `p_holm`, and `better`:
    A or B where the adjusted p is below 1 - level, on that run's side, else '-'."""
    adjusted = holm(np.array([r["p_value"] for r in rows], dtype=np.float64))
    for row, p in zip(rows, adjusted, strict=True):
        sign = -1.0 if row["score"] in boot.LOWER_IS_BETTER else 1.0
        favours = "A" if sign * row["difference"] > 0 else "B"
        row["p_holm"] = float(p)
        row["better"] = favours if p < 1.0 - level else "-"  # NaN compares False: "-"
    return rows


def pooled_differences(
    folds_a: dict[int, Fold],
    folds_b: dict[int, Fold],
    *,
    seed: int = 0,
    n_boot: int = 1000,
    level: float = 0.95,
    scores: tuple[str, ...] = boot.SCORES,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pooled rows, one per score; per-fold rows, one per (fold, score)) of A - B.
    Pooled rows carry a, b, difference (fold means), ci_low, ci_high, p_value; `adjust` adds
    p_holm and better."""
    observed: dict[str, list[np.ndarray]] = {s: [] for s in scores}
    samples: dict[str, list[np.ndarray]] = {s: [] for s in scores}
    per_fold = []
    for k in sorted(folds_a):
        n = np.union1d(folds_a[k].i, folds_a[k].j).size
        counts = boot.resample_counts(np.random.default_rng([seed, 13, k]), n, n_boot)
        obs, diff = fold_differences(folds_a[k], folds_b[k], counts, scores)
        for name in scores:
            observed[name].append(obs[name])
            samples[name].append(diff[name])
            a_k, b_k = (float(x) for x in obs[name])
            per_fold.append({"fold": k, "score": name, "a": a_k, "b": b_k, "difference": a_k - b_k})
    rows = []
    for name in scores:
        a_k, b_k = np.stack(observed[name]).T  # (K,) each
        pooled = _finite_mean(np.stack(samples[name]))  # (B,)
        lo, hi = boot.percentile_interval(pooled, level)
        a_mean, b_mean = (float(_finite_mean(x[:, None])[0]) for x in (a_k, b_k))
        difference = float(_finite_mean((a_k - b_k)[:, None])[0])
        rows.append(
            {"score": name, "a": a_mean, "b": b_mean, "difference": difference}
            | {"ci_low": lo, "ci_high": hi, "p_value": bootstrap_p(pooled)}
        )
    return adjust(rows, level), per_fold


def _finite_mean(x: np.ndarray) -> np.ndarray:
    """(B,) mean over the rows of x (K, B) of its finite entries; NaN where none is."""
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    total = np.where(ok, x, 0.0).sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def compare_pair(
    dir_a: Path, dir_b: Path, *, label_a: str = "A", label_b: str = "B", **kwargs: Any
) -> PairedComparison:
    """The pooled paired differences of two run directories (Holm over their scores), or a
    note saying why they do not pair. kwargs go to `pooled_differences` (seed, n_boot,
    level, scores)."""
    result = PairedComparison(label_a, label_b)
    try:
        run_a, run_b = load_folds(dir_a), load_folds(dir_b)
    except DataError as err:
        result.note = f"no paired columns: {err}"
        return result
    reason = why_not_paired(run_a, run_b)
    if reason:
        result.note = f"no paired columns: the runs do not share test pairs: {reason}"
        return result
    result.rows, result.folds = pooled_differences(run_a[1], run_b[1], **kwargs)
    return result


def paired_report(runs: Sequence[Any], *, n_boot: int = 1000, seed: int = 0) -> list[Any]:
    """Renderables for `python -m fmri_rdm.compare`: each successful run against the first
    one (A = the first run), a table of pooled differences or a note. Holm's family is every
    score of every comparison shown.

    runs: objects with `dir`, `label` and `ok` (compare.Run).
    """
    from rich.table import Table
    from rich.text import Text

    ok = [r for r in runs if r.ok]
    results = [
        compare_pair(
            ok[0].dir, other.dir, label_a=ok[0].label, label_b=other.label, n_boot=n_boot, seed=seed
        )
        for other in ok[1:]
    ]
    adjust([row for res in results for row in res.rows])  # one family over all comparisons
    family = sum(len(res.rows) for res in results)
    out: list[Any] = []
    for res in results:
        title = (
            f"paired: A = {res.a} vs B = {res.b} (A - B of the fold-mean score, {n_boot} "
            f"stimulus resamples per fold, 95 %; p: bootstrap, Holm over {family} tests)"
        )
        if not res.paired:
            out.append(Text(f"{title}: {res.note}", style="yellow"))
            continue
        table = Table(title=title)
        for col in ("score", "A", "B", "A - B", "95 % CI", "p", "p Holm", "better"):
            table.add_column(col, justify="left" if col in ("score", "better") else "right")
        for row in res.rows:
            table.add_row(
                row["score"],
                f"{row['a']:.4f}",
                f"{row['b']:.4f}",
                f"{row['difference']:+.4f}",
                f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]",
                _p(row["p_value"]),
                _p(row["p_holm"]),
                row["better"],
            )
        out.append(table)
    return out


def _p(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.3g}"
