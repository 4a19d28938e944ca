"""Within-subject noise ceiling from sessions, for the target the run scores: the mean of S
sessions (leave-one-session-out, Nili et al. 2014, then Spearman–Brown).

For RDM data with S >= 2 sessions, on a fold's test pairs, the single-session bounds are

    single_lower = mean over s of r(session s, pool(the other sessions))
    single_upper = mean over s of r(session s, pool(all sessions))

pool averages the sessions after z-scoring each over the pairs, as rsatoolbox's
`pool_rdm(method="corr")` does, so they equal rsatoolbox's `boot_noise_ceiling(rdms,
method="corr")` on the same pairs. They bound r(true RDM, ONE session) = √ρ₁ (ρ₁: a session's
reliability). The run scores models against the MEAN of the S sessions, whose reliability is
the Spearman–Brown ρ_S = S ρ₁ / (1 + (S - 1) ρ₁); a model that predicted the true RDM scores
√ρ_S. The map

    c -> √(S c² / (1 + (S - 1) c²))           (`spearman_brown`; c² read as a reliability)

is increasing, so it carries the single-session bounds onto bounds for the mean:
`sessions_lower` / `sessions_upper` = the mapped single-session bounds, and the true RDM's
score lies between them whenever √ρ₁ lies between the single-session ones (for S = 2 as for
S >= 3; `tests/stats/test_sessions.py` simulates S = 2, 4, 6). The single-session bounds stay
in `sessions_single_lower` / `sessions_single_upper`. Equal reliability over sessions is
assumed (the Spearman–Brown premise).
"""

from __future__ import annotations

import numpy as np


def _zscored(x: np.ndarray) -> np.ndarray:
    """(S, P) -> each row z-scored over its finite entries (ddof=0); NaN stays NaN."""
    mean = np.nanmean(x, axis=1, keepdims=True)
    std = np.nanstd(x, axis=1, keepdims=True)
    return (x - mean) / np.where(std > 0, std, 1.0)


def _row_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(S,) Pearson r of each row pair over the pairs finite in both."""
    keep = np.isfinite(a) & np.isfinite(b)
    n = keep.sum(axis=1)
    a0 = np.where(keep, a, 0.0)
    b0 = np.where(keep, b, 0.0)
    ma, mb = a0.sum(axis=1) / np.maximum(n, 1), b0.sum(axis=1) / np.maximum(n, 1)
    da = np.where(keep, a - ma[:, None], 0.0)
    db = np.where(keep, b - mb[:, None], 0.0)
    den = np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((den > 0) & (n >= 3), (da * db).sum(axis=1) / den, np.nan)


def spearman_brown(r: float | None, n_sessions: int) -> float | None:
    """The correlation with the mean of `n_sessions` sessions that a correlation `r` with one
    session implies (module docstring): sign(r) √(S r² / (1 + (S - 1) r²)); None stays None."""
    if r is None:
        return None
    r2 = r * r
    return float(np.sign(r) * np.sqrt(n_sessions * r2 / (1.0 + (n_sessions - 1) * r2)))


def session_bounds(sessions: np.ndarray, index: np.ndarray | None = None) -> dict:
    """{sessions_lower, sessions_upper, sessions_single_lower, sessions_single_upper,
    n_sessions} on the pairs `index` (positions in the condensed RDMs; all pairs when None).
    sessions: (S, P) float RDMs. `sessions_*` bound the score of the true RDM against the mean
    of the S sessions, `sessions_single_*` against one session (module docstring). The bounds
    are None with fewer than 2 sessions or 3 pairs."""
    x = np.asarray(sessions, dtype=np.float64)
    if index is not None:
        x = x[:, np.asarray(index)]
    s = x.shape[0]
    names = ("sessions_lower", "sessions_upper", "sessions_single_lower", "sessions_single_upper")
    if s < 2 or x.shape[1] < 3:
        return dict.fromkeys(names) | {"n_sessions": int(s)}
    z = _zscored(x)
    finite = np.isfinite(z)
    total = np.where(finite, z, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    own = np.where(finite, z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        everyone = np.where(count > 0, total / count, np.nan)
        others = (total[None] - own) / (count[None] - finite)  # nanmean without session s
    lower = _mean(_row_corr(x, np.where(np.isfinite(others), others, np.nan)))
    upper = _mean(_row_corr(x, np.broadcast_to(everyone, x.shape)))
    return {
        "sessions_lower": spearman_brown(lower, s),
        "sessions_upper": spearman_brown(upper, s),
        "sessions_single_lower": lower,
        "sessions_single_upper": upper,
        "n_sessions": int(s),
    }


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None
