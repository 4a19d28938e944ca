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
_MEANS = ("baseline_", "noise_ceiling_", "transfer_", "all_pairs_")  # shown as their mean
Resamples = dict[str, dict[str, tuple[float, np.ndarray]]]  # dir -> score -> (observed, (B,))


@dataclass
class FamilyResult:
    table: pd.DataFrame
    paired: pd.DataFrame
    reference: str | None
    notes: list[str] = field(default_factory=list)


def _label(values: dict[str, Any]) -> str:
    """A group in the notes: its run name (`name=<label>`) where it has one, else its
    settings."""
    if str(values.get("name", "(default)")) not in ("(default)", "null", ""):
        return f"name={values['name']}"
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
    row["fits_nothing"] = _fixed(g)
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


def _fixed(runs: pd.DataFrame) -> bool:
    """Whether every run of `runs` is a fixed model (nothing fitted)."""
    return "fits_nothing" in runs and bool(runs["fits_nothing"].astype(bool).all())


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
            | {"fits_nothing": _fixed(g) and _fixed(r)}  # else: conditional on the fits
        )
    return rows


def _partner(values: dict[str, Any], refs: list[dict[str, Any]], ref_key: str) -> int:
    """The reference group a group is paired with: the one equal to it in the most settings
    other than the reference key (the first of those on a tie)."""

    def same(r: dict[str, Any]) -> int:
        return sum(r[k] == v for k, v in values.items() if k != ref_key)

    return max(range(len(refs)), key=lambda k: (same(refs[k]), -k))


def _undefined_note(label: str, res: Resamples, g: pd.DataFrame, row: dict[str, Any]) -> list[str]:
    """Why a group's 2-factor interval is missing where the resamples exist."""
    notes = []
    for s in SCORES:
        if not res or len(g) < 2 or f"test_{s}_2f_mean" not in row:
            continue
        if math.isfinite(row[f"test_{s}_2f_mean"]):
            continue
        draws = np.stack([res[d][s][1] for d in g["dir"]])
        bad = int((~np.isfinite(draws)).any(axis=0).sum())
        notes.append(
            f"{label}: 2-factor {s} undefined: {bad} of {draws.shape[1]} image resamples give "
            "some subject no defined score (typically predictions with almost no spread over "
            "the resampled pairs); the t interval over subjects stands"
        )
    return notes


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
    """One group row per combination of the settings, and one paired row per score for every
    group whose reference-key value is not the reference, against the reference group equal
    to it in the most other settings (`_partner`): two groups that differ in any setting (a
    model, an embeddings.path) are compared on the subjects both have."""
    scores = [s for s in SCORES if f"test_{s}" in subjects]
    parts = list(subjects.groupby(list(keys), sort=False)) if keys else [((), subjects)]
    combos = []
    for index in parts:
        idx = index[0] if isinstance(index[0], tuple) else (index[0],)
        combos.append((dict(zip(keys, idx, strict=True)), index[1]))
    groups, paired, notes = [], [], []
    levels = list(dict.fromkeys(subjects[ref_key])) if ref_key else []
    reference = ref_value if ref_value is not None else (levels[0] if levels else None)
    for index, (values, g) in enumerate(combos):
        rng = np.random.default_rng([seed, 29, index])
        res, n, why = _resamples(g, scores, n_boot, rng)
        if why:
            notes.append(f"{_label(values)}: no 2-factor bootstrap: {why}; intervals over subjects")
        if len(g) < 2:
            notes.append(f"{_label(values)}: 1 subject: no interval across subjects")
        groups.append(_group_row(values, g, res, n, rng, level))
        notes += _undefined_note(_label(values), res, g, groups[-1])
    refs = [(v, g) for v, g in combos if ref_key is not None and v[ref_key] == reference]
    for index, (values, g) in enumerate(combos):
        if ref_key is None or not refs or values[ref_key] == reference:
            continue
        ref_values, r = refs[_partner(values, [v for v, _ in refs], ref_key)]
        both = pd.concat([g, r])
        rng = np.random.default_rng([seed, 31, index])
        res, n, _ = _resamples(both, scores, n_boot, rng)
        others = {k: v for k, v in values.items() if k != ref_key}
        if any(ref_values[k] != v for k, v in others.items()):
            others |= {
                f"reference {k}": ref_values[k] for k in others if ref_values[k] != others[k]
            }
        shared = set(g["subject"]) & set(r["subject"])
        if not shared:
            notes.append(f"{_label(values)}: no subject in common with the reference group")
            continue
        rows = _paired_rows(others, ref_key, str(reference), values[ref_key], g, r,
                            (res, n, rng), level)  # type: ignore[arg-type]  # fmt: skip
        missing = [row["score"] for row in rows if res and not math.isfinite(row["diff_2f_mean"])]
        if missing:
            notes.append(
                f"{_label(values)} - {reference}: 2-factor {', '.join(missing)} difference "
                "undefined (image resamples that give a subject no defined score, typically "
                "predictions with almost no spread); the sign-flip test over subjects stands"
            )
        paired += rows
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
