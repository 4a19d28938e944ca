"""Within-subject noise ceiling from sessions (leave-one-session-out, Nili et al. 2014).

For RDM data with S >= 2 sessions, on a fold's test pairs:

    lower = mean over s of r(session s, pool(the other sessions))
    upper = mean over s of r(session s, pool(all sessions))

pool averages the sessions after z-scoring each over the pairs, as rsatoolbox's
`pool_rdm(method="corr")` does, so the bounds equal rsatoolbox's
`boot_noise_ceiling(rdms, method="corr")` on the same pairs. The run's target is the mean over
sessions, so a model that predicted the true RDM would score about between the two.
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


def session_bounds(sessions: np.ndarray, index: np.ndarray | None = None) -> dict:
    """{sessions_lower, sessions_upper, n_sessions} on the pairs `index` (positions in the
    condensed RDMs; all pairs when None). sessions: (S, P) float RDMs. The bounds are None
    with fewer than 2 sessions or 3 pairs."""
    x = np.asarray(sessions, dtype=np.float64)
    if index is not None:
        x = x[:, np.asarray(index)]
    s = x.shape[0]
    if s < 2 or x.shape[1] < 3:
        return {"sessions_lower": None, "sessions_upper": None, "n_sessions": int(s)}
    z = _zscored(x)
    finite = np.isfinite(z)
    total = np.where(finite, z, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    own = np.where(finite, z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        everyone = np.where(count > 0, total / count, np.nan)
        others = (total[None] - own) / (count[None] - finite)  # nanmean without session s
    lower = _row_corr(x, np.where(np.isfinite(others), others, np.nan))
    upper = _row_corr(x, np.broadcast_to(everyone, x.shape))
    return {
        "sessions_lower": _mean(lower),
        "sessions_upper": _mean(upper),
        "n_sessions": int(s),
    }


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None
