"""Numbers of the group tables: per family (the runs equal in every setting but the subject and
the reference key) one group row per level and one paired row per (level, score) against the
reference. The statistics themselves live in `stats.group` and `stats.two_factor`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fmri_rdm.analysis import group_images as gi
from fmri_rdm.analysis.runs import Run
from fmri_rdm.stats import group as gs
from fmri_rdm.stats import two_factor as tf

SCORES = ("pearson", "spearman")  # the scores the 2-factor bootstrap resamples
# the other comparison measures a run may score (evaluation.measures): t intervals only
EXTRA_SCORES = ("tau_a", "rho_a", "cosine", "corr_cov", "cosine_cov")
_MEANS = ("baseline_", "noise_ceiling_", "transfer_")  # per-run columns shown as their mean
Resamples = dict[str, dict[str, tuple[float, np.ndarray]]]  # dir -> score -> (observed, (B,))


@dataclass
class FamilyResult:
    table: pd.DataFrame
    paired: pd.DataFrame
    reference: str | None
    notes: list[str] = field(default_factory=list)


def _label(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items()) or "all runs"


def _resamples(
    fam: pd.DataFrame, scores: Sequence[str], n_boot: int, rng: np.random.Generator
) -> tuple[Resamples, int, str]:
    """Per run and score, the observed shared-pair score and its (B,) stimulus resamples over
    the family's shared test images (the same draws for every run); ({}, n, note) when the
    2-factor bootstrap is not possible."""
    if n_boot < 2:
        return {}, 0, f"--bootstrap {n_boot}"
    if fam["subject"].nunique() < 2:
        return {}, 0, ""  # the one-subject note says it
    dirs = list(dict.fromkeys(fam["dir"]))
    loaded, why = gi.try_load([Path(d) for d in dirs])
    if not loaded:
        return {}, 0, f"images not matched across subjects ({why})"
    shared = gi.shared_images(list(loaded.values()))
    if shared.size < gi.MIN_SHARED_IMAGES:
        return {}, int(shared.size), f"the subjects share {shared.size} test images (stimulus ids)"
    counts = tf.image_counts(rng, shared.size, n_boot)
    ones = np.ones((1, shared.size), dtype=np.int64)
    out: Resamples = {}
    for d in dirs:
        pairs = gi.shared_pairs(loaded[Path(d)], shared)
        if not pairs:
            return {}, int(shared.size), f"{d} has no test pair among the shared images"
        out[d] = {
            s: (float(tf.stimulus_scores(pairs, ones, s)[0]), tf.stimulus_scores(pairs, counts, s))
            for s in scores
        }
    return out, int(shared.size), ""


def _two_factor(
    rows: pd.DataFrame, other: pd.DataFrame | None, score: str, res: Resamples, n: int, rng: Any
) -> tf.TwoFactor | None:
    """2-factor result of `rows` (one per subject), or of rows - other (matched subjects)."""
    if not res or len(rows) < 2:
        return None
    obs = np.array([res[d][score][0] for d in rows["dir"]])
    x = np.stack([res[d][score][1] for d in rows["dir"]])
    if other is not None:
        obs = obs - np.array([res[d][score][0] for d in other["dir"]])
        x = x - np.stack([res[d][score][1] for d in other["dir"]])
    return tf.two_factor(x, obs, n, rng=rng)


def _group_row(
    values: dict[str, Any], g: pd.DataFrame, res: Resamples, n: int, rng: Any, level: float
) -> dict[str, Any]:
    row: dict[str, Any] = {**values, "n_subjects": len(g), "subjects": ",".join(g["subject"])}
    for s in (*SCORES, *EXTRA_SCORES):
        if f"test_{s}" not in g:
            continue
        x = g[f"test_{s}"].to_numpy(dtype=float)
        mean, lo, hi = gs.t_interval(x, level)
        b_lo, b_hi = gs.subject_bootstrap(x, level)
        row |= {f"test_{s}_mean": mean, f"test_{s}_ci_low": lo, f"test_{s}_ci_high": hi}
        row |= {f"test_{s}_boot_low": b_lo, f"test_{s}_boot_high": b_hi}
        two = _two_factor(g, None, s, res, n, rng) if s in SCORES else None
        row[f"test_{s}_2f_mean"] = two.estimate if two else math.nan
        row[f"test_{s}_2f_ci_low"] = two.ci_low if two else math.nan
        row[f"test_{s}_2f_ci_high"] = two.ci_high if two else math.nan
    row["n_images_shared"] = n if res else 0
    for col in g.columns:  # variance partition components (model=weighted): t over subjects
        if col.startswith("vp_") and g[col].notna().any():
            mean, lo, hi = gs.t_interval(g[col].to_numpy(dtype=float), level)
            row |= {f"{col}_mean": mean, f"{col}_ci_low": lo, f"{col}_ci_high": hi}
    for col in g.columns:
        if col.startswith(_MEANS):
            v = g[col].to_numpy(dtype=float)
            row[f"{col}_mean"] = (
                float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else math.nan
            )
    return row


def _paired_rows(
    values: dict[str, Any],
    key: str,
    ref: str,
    level_value: str,
    g: pd.DataFrame,
    r: pd.DataFrame,
    stim: tuple[Resamples, int, Any],
    level: float,
) -> list[dict[str, Any]]:
    res, n, rng = stim
    both = sorted(set(g["subject"]) & set(r["subject"]))
    a = g.set_index("subject").loc[both].reset_index()
    b = r.set_index("subject").loc[both].reset_index()
    rows = []
    for s in (*SCORES, *EXTRA_SCORES):
        if f"test_{s}" not in g:
            continue
        d = a[f"test_{s}"].to_numpy(dtype=float) - b[f"test_{s}"].to_numpy(dtype=float)
        mean, lo, hi = gs.t_interval(d, level)
        two = _two_factor(a, b, s, res, n, rng) if s in SCORES else None
        rows.append(
            {"reference": ref, key: level_value, **values, "score": s, "n_subjects": len(both)}
            | {"diff_mean": mean, "ci_low": lo, "ci_high": hi, "p_value": gs.sign_flip_p(d)}
            | {"diff_2f_mean": two.estimate if two else math.nan}
            | {"ci_2f_low": two.ci_low if two else math.nan}
            | {"ci_2f_high": two.ci_high if two else math.nan}
            | {"p_2f": two.p_value if two else math.nan, "n_images_shared": n if two else 0}
        )
    return rows


def family_statistics(
    runs: Sequence[Run],
    subjects: pd.DataFrame,
    keys: Sequence[str],
    ref_key: str | None,
    ref_value: str | None,
    *,
    n_boot: int,
    seed: int,
    level: float,
) -> FamilyResult:
    """Group rows and paired rows of every family (module docstring)."""
    fam_keys = [k for k in keys if k != ref_key]
    scores = [s for s in SCORES if f"test_{s}" in subjects]
    groups, paired, notes = [], [], []
    reference = ref_value
    parts = subjects.groupby(fam_keys, sort=False) if fam_keys else [((), subjects)]
    for index, (fam_index, fam) in enumerate(parts):
        idx = fam_index if isinstance(fam_index, tuple) else (fam_index,)
        values = dict(zip(fam_keys, idx, strict=True))
        rng = np.random.default_rng([seed, 29, index])
        res, n, why = _resamples(fam, scores, n_boot, rng)
        if why:
            notes.append(f"{_label(values)}: no 2-factor bootstrap: {why}; intervals over subjects")
        levels = list(dict.fromkeys(fam[ref_key])) if ref_key else [None]
        ref = ref_value if ref_value is not None else levels[0]
        reference = reference if reference is not None else ref
        for lv in levels:
            g = fam if ref_key is None else fam[fam[ref_key] == lv]
            key_values = values if ref_key is None else {ref_key: lv, **values}
            if len(g) < 2:
                notes.append(f"{_label(key_values)}: 1 subject: no interval across subjects")
            groups.append(_group_row(key_values, g, res, n, rng, level))
        for lv in levels if ref_key is not None and ref in levels else []:
            if lv != ref:
                g, r = fam[fam[ref_key] == lv], fam[fam[ref_key] == ref]
                paired += _paired_rows(values, ref_key, ref, lv, g, r, (res, n, rng), level)  # type: ignore[arg-type]
    table = pd.DataFrame.from_records(groups)
    return FamilyResult(table, _adjust(pd.DataFrame.from_records(paired)), reference, notes)


def _adjust(paired: pd.DataFrame) -> pd.DataFrame:
    """Holm over all comparisons of each score: `p_adjusted` (sign-flip), `p_2f_adjusted`."""
    if paired.empty:
        return paired
    for col, name in (("p_value", "p_adjusted"), ("p_2f", "p_2f_adjusted")):
        adjusted = paired.groupby("score", sort=False)[col].transform(
            lambda p: pd.Series(gs.holm(p.to_numpy(dtype=float)), index=p.index)
        )
        paired.insert(int(paired.columns.get_loc(col)) + 1, name, adjusted)
    return paired
