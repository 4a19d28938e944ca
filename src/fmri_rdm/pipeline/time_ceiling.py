"""The inter-subject noise ceiling over time (`evaluation.noise_ceiling=inter_subject` on
time-resolved data, issue 39).

Per window, on the pairs among the stimuli the run shares with every other subject with the
ROI (the other subjects' windows must be the run's): the lower bound correlates the run's RDM
with the mean of the other subjects' z-scored RDMs, the upper bound with the mean over all
subjects including the run's (Nili et al. 2014); Spearman bounds use the summed ranks instead
of the z-scores. All windows at once (one row per window).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.data.source import DataSource, Subject
from fmri_rdm.errors import DataError

log = logging.getLogger(__name__)


def _rowwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(W,) Pearson r of the rows of a and b (W, P); NaN where a row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, np.einsum("wp,wp->w", a, b) / norm, np.nan)


def _zscore(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return x / np.where(std > 0, std, 1.0)


def bounds_over_time(own: np.ndarray, others: list[np.ndarray]) -> dict[str, dict[str, list]]:
    """{pearson|spearman: {lower, upper: (W,)}} of own (W, P) against others [(W, P), ...]."""
    k = len(others)
    z_others = np.mean([_zscore(o) for o in others], axis=0)
    z_all = (_zscore(own) + k * z_others) / (k + 1)
    ranks_others = np.sum([rankdata(o, axis=1) for o in others], axis=0)
    ranks_own = rankdata(own, axis=1)
    out = {}
    for score, mine, lower, upper in (
        ("pearson", own, z_others, z_all),
        ("spearman", ranks_own, rankdata(ranks_others, axis=1),
         rankdata(ranks_others + ranks_own, axis=1)),
    ):  # fmt: skip
        out[score] = {
            "lower": [float(v) for v in _rowwise_corr(mine, lower)],
            "upper": [float(v) for v in _rowwise_corr(mine, upper)],
        }
    return out


def time_ceiling(
    source: DataSource, subject: Subject, roi: str, ids: np.ndarray, time: Any, metric: str
) -> dict[str, Any]:
    """The bounds (module docstring) of the run (its stimulus ids (N,), its TimeInputs)."""
    from fmri_rdm.data.timed import load_timed
    from fmri_rdm.rsa.windows import window_rdms

    own_ids = np.asarray(ids).astype(str)
    others = [s for s in source.subjects() if s != subject and roi in source.rois(s)]
    if not others:
        raise DataError(
            f"no other subject with ROI {roi!r} under {source.root}: the inter-subject noise "
            "ceiling needs them (evaluation.noise_ceiling=inter_subject)"
        )
    shared = set(own_ids)
    for s in others:
        shared &= set(source.stimuli(s).ids.astype(str))
    mine = np.array([k for k, i in enumerate(own_ids) if i in shared], dtype=np.int64)
    if mine.size < 3:
        raise DataError(
            f"the inter-subject ceiling over time needs >= 3 shared stimuli, got {mine.size}"
        )
    a, b = np.triu_indices(mine.size, 1)
    from fmri_rdm.rsa import rdm as rdm_lib

    own = time.rdms[:, rdm_lib.condensed_index(mine[a], mine[b], len(own_ids))]
    rdms = []
    for s in others:
        position = {v: k for k, v in enumerate(source.stimuli(s).ids.astype(str))}
        rows = np.array([position[own_ids[k]] for k in mine], dtype=np.int64)
        data = load_timed(source, s, roi, rows=rows)  # type: ignore[arg-type]
        if data.times_ms.shape != time.times_ms.shape or not np.allclose(
            data.times_ms, time.times_ms
        ):
            raise DataError(f"subject {s}: its times differ from the run's (the ceiling over time)")
        if data.responses is not None:
            rdms.append(
                window_rdms(data.responses, time.windows, metric, standardize=time.standardize)
            )
        else:
            from fmri_rdm.rsa.windows import window_means

            assert data.rdms is not None
            rdms.append(window_means(data.rdms.T[:, None, :], time.windows)[:, :, 0])
    return {"subjects": [str(s) for s in others], "n_stimuli": int(mine.size)} | bounds_over_time(
        own, rdms
    )
