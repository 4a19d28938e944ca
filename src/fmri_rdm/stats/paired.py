"""Paired comparison of two runs on the same test pairs: score differences per fold with a
stimulus-bootstrap interval computed from the SAME resampled images for both runs.

Runs pair when their predictions.npz hold the same folds with identical test pairs (i, j) and
targets, over the same images (`image_indices`): same data, distribution, folds and seed. The
resampled images are the images of the fold's test pairs. A difference is A - B; run A is
better where the interval excludes 0 on A's side (below 0 for mse, above 0 otherwise).
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

PREDICTIONS_FILE = "predictions.npz"
_FOLD_KEY = re.compile(r"fold(\d+)_i$")
TARGET_RTOL = 1e-5  # targets closer than this are the same RDM (float32 rounding)


@dataclass
class Fold:
    i: np.ndarray
    j: np.ndarray
    target: np.ndarray
    prediction: np.ndarray


@dataclass
class PairedComparison:
    """A vs B: one row per (fold, score), or no rows and a note saying why they do not pair."""

    a: str
    b: str
    rows: list[dict[str, Any]] = field(default_factory=list)
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
                folds[int(k)] = Fold(
                    *(np.asarray(data[f"fold{k}_{x}"]) for x in ("i", "j", "target", "prediction"))
                )
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


def paired_differences(
    fold: int,
    a: Fold,
    b: Fold,
    *,
    seed: int = 0,
    n_boot: int = 1000,
    level: float = 0.95,
    scores: tuple[str, ...] = boot.SCORES,
) -> list[dict[str, Any]]:
    """One row per score: A's and B's score, difference A - B and its paired interval."""
    images = np.union1d(a.i, a.j)
    pa, pb, n = boot.local_pairs(a.i, a.j, images)
    preds = np.stack([a.prediction, b.prediction]).astype(np.float64)
    target = a.target.astype(np.float64)
    observed = boot.bootstrap_scores(target, preds, pa, pb, np.ones((1, n), np.int64), scores)
    counts = boot.resample_counts(np.random.default_rng([seed, 13, fold]), n, n_boot)
    samples = boot.bootstrap_scores(target, preds, pa, pb, counts, scores)
    rows = []
    for name in scores:
        lo, hi = boot.percentile_interval(samples[name][0] - samples[name][1], level)
        sign = -1.0 if name in boot.LOWER_IS_BETTER else 1.0
        s_lo, s_hi = sorted((sign * lo, sign * hi))
        better = "A" if s_lo > 0 else "B" if s_hi < 0 else "-"  # NaN compares False: "-"
        rows.append(
            {
                "fold": fold,
                "score": name,
                "a": float(observed[name][0, 0]),
                "b": float(observed[name][1, 0]),
                "difference": float(observed[name][0, 0] - observed[name][1, 0]),
                "ci_low": lo,
                "ci_high": hi,
                "better": better,
            }
        )
    return rows


def compare_pair(
    dir_a: Path, dir_b: Path, *, label_a: str = "A", label_b: str = "B", **kwargs: Any
) -> PairedComparison:
    """Paired differences of two run directories, or a note saying why they do not pair.
    kwargs go to `paired_differences` (seed, n_boot, level, scores)."""
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
    for k in sorted(run_a[1]):
        result.rows += paired_differences(k, run_a[1][k], run_b[1][k], **kwargs)
    return result


def paired_report(runs: Sequence[Any], *, n_boot: int = 1000, seed: int = 0) -> list[Any]:
    """Renderables for `python -m fmri_rdm.compare`: each successful run against the first
    one (A = the first run), a table of paired differences or a note.

    runs: objects with `dir`, `label` and `ok` (compare.Run).
    """
    from rich.table import Table
    from rich.text import Text

    ok = [r for r in runs if r.ok]
    out: list[Any] = []
    for other in ok[1:]:
        res = compare_pair(
            ok[0].dir, other.dir, label_a=ok[0].label, label_b=other.label, n_boot=n_boot, seed=seed
        )
        title = f"paired: A = {res.a} vs B = {res.b} (A - B, {n_boot} stimulus resamples, 95 %)"
        if not res.paired:
            out.append(Text(f"{title}: {res.note}", style="yellow"))
            continue
        table = Table(title=title)
        for col in ("fold", "score", "A", "B", "A - B", "95 % CI", "better"):
            table.add_column(col, justify="left" if col in ("score", "better") else "right")
        for row in res.rows:
            table.add_row(
                str(row["fold"]),
                row["score"],
                f"{row['a']:.4f}",
                f"{row['b']:.4f}",
                f"{row['difference']:+.4f}",
                f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]",
                row["better"],
            )
        out.append(table)
    return out
