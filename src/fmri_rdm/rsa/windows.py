"""RDMs over time: sliding windows over a time axis and one RDM per window (issue 39).

A window covers `window_ms` (default: one sample) and windows start every `step_ms` (default:
every sample); a window's response is the mean of its samples, and its time is the mean of
their times. The RDMs of all windows are batched matrix products over blocks of windows (no
loop over pairs or stimuli): correlation distance 1 - r of the rows, or the Euclidean distance,
the two metrics of `rsa.rdm.compute_rdm`, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.rdm import check_metric

_BLOCK_ELEMENTS = 1 << 23  # float64 elements of a block of window means (64 MB)


@dataclass(frozen=True)
class Windows:
    """starts: (W,) first sample of each window; width: samples per window; times_ms: (W,)
    the mean time of each window's samples."""

    starts: np.ndarray
    width: int
    times_ms: np.ndarray

    def __len__(self) -> int:
        return int(self.starts.size)


def sampling_step(times_ms: np.ndarray) -> float:
    """The sampling period in ms of strictly increasing, evenly spaced times (T,)."""
    times_ms = np.asarray(times_ms, dtype=np.float64)
    if times_ms.ndim != 1 or times_ms.size < 1 or not np.isfinite(times_ms).all():
        raise DataError(f"times must be a 1-D list of finite ms values, got {times_ms.shape}")
    if times_ms.size == 1:
        return 1.0
    gaps = np.diff(times_ms)
    if np.any(gaps <= 0):
        raise DataError("times must increase strictly (times.tsv: one row per sample, in order)")
    step = float(np.median(gaps))
    if np.any(np.abs(gaps - step) > 0.01 * step):
        raise DataError(
            f"times are not evenly spaced (gaps {gaps.min():g} to {gaps.max():g} ms): resample "
            "the recording to one sampling rate"
        )
    return step


def sliding_windows(
    times_ms: np.ndarray, window_ms: float | None = None, step_ms: float | None = None
) -> Windows:
    """The windows (module docstring) over times (T,); window_ms / step_ms are rounded to whole
    samples (at least one)."""
    times_ms = np.asarray(times_ms, dtype=np.float64)
    period = sampling_step(times_ms)
    for name, value in (("window_ms", window_ms), ("step_ms", step_ms)):
        if value is not None and not value > 0:
            raise ConfigError(f"evaluation.time.{name} must be > 0 ms, got {value}")
    width = 1 if window_ms is None else max(1, round(window_ms / period))
    stride = 1 if step_ms is None else max(1, round(step_ms / period))
    if width > times_ms.size:
        raise ConfigError(
            f"evaluation.time.window_ms={window_ms} covers {width} samples, but the data have "
            f"{times_ms.size} ({times_ms[0]:g} to {times_ms[-1]:g} ms): choose a shorter window"
        )
    starts = np.arange(0, times_ms.size - width + 1, stride)
    ends = np.concatenate([[0.0], np.cumsum(times_ms)])
    return Windows(starts, width, (ends[starts + width] - ends[starts]) / width)


def _cumulative(x: np.ndarray) -> np.ndarray:
    """(n, U, T + 1) float64 running sums of x (n, U, T) along time, 0 first."""
    total = np.zeros((*x.shape[:-1], x.shape[-1] + 1))
    np.cumsum(x, axis=-1, out=total[..., 1:])
    return total


def _means(x: np.ndarray, total: np.ndarray | None, starts: np.ndarray, width: int) -> np.ndarray:
    """(w, n, U) window means from x (width 1) or from its running sums `total`."""
    if total is None:
        picked = x[..., starts]
    else:
        picked = (total[..., starts + width] - total[..., starts]) / width
    return np.ascontiguousarray(np.moveaxis(picked, -1, 0), dtype=np.float64)


def window_means(x: np.ndarray, windows: Windows) -> np.ndarray:
    """(W, n, U) float64: the mean over each window's samples of x (n, U, T)."""
    x = np.asarray(x, dtype=np.float64)
    total = None if windows.width == 1 else _cumulative(x)
    return _means(x, total, windows.starts, windows.width)


def _block_rdms(m: np.ndarray, metric: str) -> np.ndarray:
    """(w, n, n) dissimilarities among the rows of each window's responses m (w, n, U)."""
    if metric == "correlation":
        z = m - m.mean(axis=2, keepdims=True)
        norm = np.sqrt(np.einsum("wnu,wnu->wn", z, z))
        flat = norm <= 1e-12 * np.sqrt(np.einsum("wnu,wnu->wn", m, m)) + 1e-300
        if flat.any():
            w, k = np.argwhere(flat)[0]
            raise DataError(
                f"stimulus row {k} has no variance over units in window {w}: its correlation "
                "distance is undefined (use metric=euclidean or drop the stimulus)"
            )
        z /= norm[..., None]
        return np.clip(1.0 - z @ np.swapaxes(z, 1, 2), 0.0, 2.0)
    z = m - m.mean(axis=1, keepdims=True)  # centred over stimuli: less cancellation
    sq = np.einsum("wnu,wnu->wn", z, z)
    scale = sq[:, :, None] + sq[:, None, :]
    d2 = scale - 2.0 * (z @ np.swapaxes(z, 1, 2))
    # close pairs lose their digits to cancellation: those few again from their differences
    w, i, j = np.nonzero(d2 < 1e-6 * scale)
    diff = z[w, i] - z[w, j]
    d2[w, i, j] = np.einsum("pu,pu->p", diff, diff)
    return np.sqrt(np.maximum(d2, 0.0))


def _zscore_units(m: np.ndarray) -> np.ndarray:
    """m (w, n, U) with each unit z-scored over the stimuli of its window (ddof 0; a constant
    unit becomes 0), as the run z-scores responses (data.standardize)."""
    m = m - m.mean(axis=1, keepdims=True)
    std = np.sqrt((m * m).mean(axis=1, keepdims=True))
    return m / np.where(std == 0, 1.0, std)


def window_rdms(
    x: np.ndarray, windows: Windows, metric: str = "correlation", *, standardize: bool = False
) -> np.ndarray:
    """(W, n(n-1)/2) float64 condensed (pdist order) RDMs of each window of x (n, U, T);
    standardize: each unit z-scored over the stimuli within each window first."""
    check_metric(metric)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] < 2 or x.shape[1] < 1:
        raise DataError(f"time-resolved responses must be (stimuli, units, times), got {x.shape}")
    if not np.isfinite(x).all():
        raise DataError("time-resolved responses hold NaN or inf values")
    n, units, _ = x.shape
    a, b = np.triu_indices(n, 1)
    total = None if windows.width == 1 else _cumulative(x)
    out = np.empty((len(windows), a.size))
    block = max(1, _BLOCK_ELEMENTS // (n * max(units, n)))
    for s in range(0, len(windows), block):  # blocks of windows, each a batched product
        means = _means(x, total, windows.starts[s : s + block], windows.width)
        if standardize:
            means = _zscore_units(means)
        out[s : s + block] = _block_rdms(means, metric)[:, a, b]
    return out


SCORES = ("pearson", "spearman")


def window_scores(rdms: np.ndarray, model: np.ndarray, score: str = "spearman") -> np.ndarray:
    """(W,) Pearson or Spearman correlation of each window's RDM rdms (W, P) with a model RDM
    (P,) over the pairs finite in both (NaN where a side is constant)."""
    from scipy.stats import rankdata

    if score not in SCORES:
        raise ConfigError(f"unknown time-course score {score!r}: choose {', '.join(SCORES)}")
    rdms = np.asarray(rdms, dtype=np.float64)
    model = np.asarray(model, dtype=np.float64)
    if rdms.ndim != 2 or rdms.shape[1] != model.size:
        raise DataError(f"RDMs {rdms.shape} and model RDM {model.shape} differ in pairs")
    keep = np.isfinite(model) & np.isfinite(rdms).all(axis=0)
    y, x = rdms[:, keep], model[keep]
    if score == "spearman":
        y, x = rankdata(y, axis=1), rankdata(x)
    scale_y, scale_x = np.abs(y).max(axis=1, initial=0.0), np.abs(x).max(initial=0.0)
    y = y - y.mean(axis=1, keepdims=True)
    x = x - x.mean()
    norm_y, norm_x = np.linalg.norm(y, axis=1), np.linalg.norm(x)
    flat = norm_y <= 1e-12 * scale_y * np.sqrt(x.size)  # constant up to rounding
    if norm_x <= 1e-12 * scale_x * np.sqrt(x.size):
        flat[:] = True
    out = np.full(rdms.shape[0], np.nan)
    out[~flat] = (y[~flat] @ x) / (norm_y[~flat] * norm_x)
    return out
