"""What a finished run's table alone would leave unsaid, as one-line notes: a pair network
that kept its prior (its scores are the prior's), a test R² far below the mean predictor's,
and why no noise ceiling is shown. `train.py` prints them under the results table; the API
gives them as `notes(run)`."""

from __future__ import annotations

import math
from typing import Any

from fmri_rdm.reporting.results import RunMetrics

R2_WARNING = -1.0  # a mean test R² below this: MSE over twice the variance of the targets


def _mean(values: list[Any]) -> float | None:
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def prior_note(run: RunMetrics) -> str | None:
    """`siamese kept its rsa prior in 3 of 5 folds: ...` (metrics.json folds[].kept)."""
    kept = [f.data.get("kept") for f in run.folds]
    n = sum(k == "prior" for k in kept)
    if not n:
        return None
    prior = next((f.data.get("prior") for f in run.folds if f.data.get("kept") == "prior"), None)
    which = f"its {prior} prior" if prior else "its prior"
    return (
        f"{run.model} kept {which} in {n} of {len(kept)} folds (it validated no worse than "
        f"the trained network): those folds score the prior's predictions "
        f"(metrics.json folds[].kept)"
    )


def r2_note(run: RunMetrics) -> str | None:
    """A mean test R² below R2_WARNING, with its MSE against the mean predictor's."""
    r2 = run.test_score("r2")
    if r2 is None or r2 >= R2_WARNING:
        return None
    mse = _mean([f.score("mse") for f in run.folds])
    mean_mse = _mean([(f.data.get("baselines") or {}).get("mean_predictor_mse") for f in run.folds])
    ratio = f", MSE {mse / mean_mse:.1f} x the mean predictor's" if mse and mean_mse else ""
    return (
        f"{run.model}: test R² {r2:.2f}{ratio}: its predictions are far off the targets' "
        "scale or level (Pearson and Spearman ignore both); read R² and MSE with care"
    )


def ceiling_note(run: RunMetrics) -> str | None:
    """Why a Pearson-scored run shows no noise ceiling (None when it shows one)."""
    if run.noise_ceiling or "pearson" not in run.test:  # classification runs have no ceiling
        return None
    data = run.extra.get("data") or {}
    reasons = []
    if run.inter_subject is None:
        reasons.append(
            "no inter-subject ceiling (evaluation.noise_ceiling=inter_subject: needs other "
            "subjects with the same stimuli)"
        )
    if data.get("kind") == "rdm":
        reasons.append(f"{data.get('n_sessions') or 1} session: no within-subject ceiling")
    elif data:
        reasons.append("responses without repeats: no within-subject ceiling")
    return "no noise ceiling: " + "; ".join(reasons) if reasons else None


def notes(run: RunMetrics) -> list[str]:
    """Every note that applies to `run`, in print order."""
    found = (prior_note(run), r2_note(run), ceiling_note(run))
    return [n for n in found if n]


__all__ = ["ceiling_note", "notes", "prior_note", "r2_note"]
