"""2-factor bootstrap over subjects AND stimuli (Schütt, Kipnis, Diedrichsen & Kriegeskorte
2023, eLife), with the variance correction of rsatoolbox's `eval_dual_bootstrap` /
`util.inference_util._dual_bootstrap`.

Resampling both factors at once counts the variance of each factor about twice (a subject
resample already carries stimulus noise and vice versa), so three bootstraps are run from the
same draws: both factors (v_both), subjects only (v_subj, stimuli fixed) and stimuli only
(v_stim, subjects fixed). With S subjects and n images the corrected variance is

    v = S/(S-1) v_subj + n/(n-1) v_stim - S n / ((S-1)(n-1)) (v_both - v_subj - v_stim)

clipped to [max(S/(S-1) v_subj, n/(n-1) v_stim), v_both], and the interval / test use a t
distribution with min(S, n) - 1 degrees of freedom, as rsatoolbox does. The estimate
generalises to new subjects and new images.

Stimulus resamples follow `stats.bootstrap`: draw the shared images with replacement; a pair
(a, b) counts c_a * c_b times (copies of one image make no pair). The same image counts serve
every subject and model, so model differences are paired over stimuli too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from fmri_rdm.stats import bootstrap as boot

# (a, b, target, prediction) of one fold: a, b (P,) positions among the n shared images
FoldPairs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class TwoFactor:
    """Group mean over subjects (or mean difference) with its 2-factor interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float  # two-sided t test of estimate = 0 (meaningful for differences)
    dof: int
    v_both: float
    v_subjects: float
    v_stimuli: float
    n_subjects: int
    n_images: int


def stimulus_scores(
    folds: Sequence[FoldPairs], counts: np.ndarray, score: str = "pearson"
) -> np.ndarray:
    """(B,) one subject's score in each stimulus resample: the mean over folds of the weighted
    score of the fold's shared test pairs. counts: (B, n) image counts (ones: the data)."""
    per_fold = [
        boot.bootstrap_scores(t, p, a, b, counts, scores=(score,))[score][0] for a, b, t, p in folds
    ]
    return np.mean(per_fold, axis=0)


def corrected_variance(
    v_both: float, v_subjects: float, v_stimuli: float, n_subjects: int, n_images: int
) -> float:
    """The small-sample 2-factor variance (module docstring; rsatoolbox `_dual_bootstrap`)."""
    s, n = n_subjects, n_images
    fs, fn = s / (s - 1), n / (n - 1)
    v = fs * v_subjects + fn * v_stimuli - fs * fn * (v_both - v_subjects - v_stimuli)
    return float(min(max(v, fs * v_subjects, fn * v_stimuli), v_both))


def two_factor(
    resampled: np.ndarray,
    observed: np.ndarray,
    n_images: int,
    *,
    rng: np.random.Generator,
    level: float = 0.95,
) -> TwoFactor:
    """Combine per-subject stimulus-resampled scores into the group estimate and interval.

    resampled: (S, B) subject s's score (or model difference) in stimulus resample b (the same
    image draws for every subject); observed: (S,) the scores on the data. Subject resamples
    (B of them) are drawn here from `rng`. Resamples with an undefined score (NaN) are dropped
    from the stimulus and double bootstraps.
    """
    x = np.asarray(resampled, dtype=np.float64)
    obs = np.asarray(observed, dtype=np.float64)
    s, b = x.shape
    w = rng.multinomial(s, np.full(s, 1.0 / s), size=b).astype(np.float64)  # (B, S)
    ok = np.isfinite(x).all(axis=0)
    both = np.einsum("bs,sb->b", w[ok], x[:, ok]) / s
    subjects = w @ obs / s
    stimuli = x[:, ok].mean(axis=0)
    v_both, v_subj, v_stim = (float(np.var(v, ddof=1)) for v in (both, subjects, stimuli))
    var = corrected_variance(v_both, v_subj, v_stim, s, n_images)
    est = float(obs.mean())
    se = math.sqrt(max(var, 0.0))
    dof = min(s, n_images) - 1
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    t = abs(est) / max(se, np.finfo(float).eps)
    p = float(2 * stats.t.sf(t, dof))
    return TwoFactor(est, se, est - half, est + half, p, dof, v_both, v_subj, v_stim, s, n_images)


def image_counts(rng: np.random.Generator, n_images: int, n_boot: int) -> np.ndarray:
    """(n_boot, n_images) stimulus resample counts (shared by every subject and model)."""
    return boot.resample_counts(rng, n_images, n_boot)
