"""A run's time axis (issue 39): the sliding windows of `evaluation.time` and each window's brain
RDM, read once with the run's inputs (`pipeline.inputs`); `pipeline.time_course` scores them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fmri_rdm.data.algonauts import zscore_columns
from fmri_rdm.data.timed import TimedData
from fmri_rdm.rsa.windows import Windows, sliding_windows, window_means


@dataclass
class TimeInputs:
    """A run's time axis: windows, the brain RDM of each window (W, N(N-1)/2) float64 among the
    run's stimuli, and the responses (N, U, T) for learners that read them (None: RDM data)."""

    times_ms: np.ndarray
    windows: Windows
    rdms: np.ndarray
    responses: np.ndarray | None
    window_ms: float | None
    step_ms: float | None
    standardize: bool

    def window_responses(self, w: int) -> np.ndarray | None:
        """(N, U) float32 mean responses of window w (z-scored per unit when standardize)."""
        if self.responses is None:
            return None
        one = Windows(self.windows.starts[w : w + 1], self.windows.width, self.times_ms[:1])
        x = window_means(self.responses, one)[0].astype(np.float32)
        return zscore_columns(x) if self.standardize else x


def time_inputs(timed: TimedData, time_cfg: Any, metric: str, standardize: bool) -> TimeInputs:
    """The windows of `evaluation.time` and each window's brain RDM (`metric`)."""
    from fmri_rdm.rsa.windows import window_rdms

    window_ms, step_ms = time_cfg.get("window_ms"), time_cfg.get("step_ms")
    windows = sliding_windows(timed.times_ms, window_ms, step_ms)
    if timed.responses is not None:
        rdms = window_rdms(timed.responses, windows, metric, standardize=standardize)
    else:
        assert timed.rdms is not None
        rdms = window_means(timed.rdms.T[:, None, :], windows)[:, :, 0]
    return TimeInputs(
        timed.times_ms,
        windows,
        rdms,
        timed.responses,
        None if window_ms is None else float(window_ms),
        None if step_ms is None else float(step_ms),
        standardize,
    )
