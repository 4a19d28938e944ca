"""Figures of time-resolved results (issue 39).

- `time_course_figure`: one line per model with its interval band, the noise-ceiling band over
  time (grey), and each model's significant clusters as a bar below the curves (one row per
  model, its colour), the onset as a tick on that bar.
- `generalization_figure`: the temporal-generalisation matrix (fitted at one time, tested at
  another), training time on the y axis, the diagonal dashed.
- `rdm_frames_figure`: the RDM at chosen latencies as small multiples on one colour scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError
from fmri_rdm.plots._base import new_figure, save_figure


def time_course_figure(
    times_ms: Sequence[float],
    curves: Mapping[str, Mapping[str, Any]],
    path: Path,
    *,
    ceiling: tuple[Sequence[float], Sequence[float]] | None = None,
    score: str = "spearman",
    title: str = "",
) -> Path:
    """curves: model -> {mean, low, high: (T,), optional significant: (T,) bool and onset:
    {"ms": ...}}; ceiling: (low, high) each (T,) or None. Writes a PNG to `path`."""
    times = np.asarray(times_ms, dtype=np.float64)
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    if ceiling is not None:
        ax.fill_between(times, ceiling[0], ceiling[1], color="0.85", label="noise ceiling", lw=0)
    colours = [f"C{k}" for k in range(len(curves))]
    for colour, (name, c) in zip(colours, curves.items(), strict=True):
        mean = np.asarray(c["mean"], dtype=np.float64)
        if mean.shape != times.shape:
            raise DataError(f"{name}: {mean.size} values for {times.size} times")
        ax.plot(times, mean, color=colour, lw=1.6, label=name)
        if c.get("low") is not None:
            ax.fill_between(times, c["low"], c["high"], color=colour, alpha=0.2, lw=0)
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.axvline(0.0, color="0.4", lw=0.8, ls=":")
    bottom, top = ax.get_ylim()
    row = 0.04 * (top - bottom)
    for k, (colour, c) in enumerate(zip(colours, curves.values(), strict=True)):
        y = bottom - (k + 1) * row
        sig = np.asarray(c.get("significant", np.zeros(times.size, bool)), dtype=bool)
        ax.scatter(times[sig], np.full(int(sig.sum()), y), color=colour, marker="s", s=6)
        onset = (c.get("onset") or {}).get("ms")
        if onset is not None:
            ax.plot([onset, onset], [y - row / 2, y + row / 2], color="k", lw=1.2)
    ax.set_ylim(bottom - (len(curves) + 1) * row, top)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{score} with the brain RDM")
    ax.set_title(title or "score over time (squares: significant clusters, |: onset)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return save_figure(fig, path)


def generalization_figure(
    matrix: np.ndarray, times_ms: Sequence[float], path: Path, *, score: str = "spearman"
) -> Path:
    """matrix: (T, T) score of the model fitted at times_ms[row], tested at times_ms[col]."""
    times = np.asarray(times_ms, dtype=np.float64)
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (times.size, times.size):
        raise DataError(f"a generalisation matrix of {matrix.shape} for {times.size} times")
    fig = new_figure(5.2, 4.4)
    ax = fig.add_subplot(1, 1, 1)
    limit = float(np.nanmax(np.abs(matrix))) if np.isfinite(matrix).any() else 1.0
    extent = (times[0], times[-1], times[0], times[-1])
    image = ax.imshow(
        matrix, origin="lower", extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto"
    )
    ax.plot(extent[:2], extent[2:], color="k", lw=0.8, ls="--")
    ax.set_xlabel("tested at (ms)")
    ax.set_ylabel("fitted at (ms)")
    ax.set_title("temporal generalisation")
    fig.colorbar(image, ax=ax, label=f"test {score}")
    return save_figure(fig, path)


def rdm_frames_figure(
    rdms: np.ndarray, times_ms: Sequence[float], chosen_ms: Sequence[float], path: Path
) -> Path:
    """rdms: (T, n(n-1)/2) condensed RDMs per time; one panel per chosen latency (the nearest
    time), all on the colour scale of the chosen panels."""
    from scipy.spatial.distance import squareform

    times = np.asarray(times_ms, dtype=np.float64)
    rdms = np.asarray(rdms, dtype=np.float64)
    if rdms.ndim != 2 or rdms.shape[0] != times.size or not len(chosen_ms):
        raise DataError(f"RDMs {rdms.shape} for {times.size} times, latencies {chosen_ms}")
    picks = [int(np.argmin(np.abs(times - t))) for t in chosen_ms]
    frames = [squareform(rdms[k], checks=False) for k in picks]
    low = min(float(np.nanmin(f[np.triu_indices_from(f, 1)])) for f in frames)
    high = max(float(np.nanmax(f)) for f in frames)
    fig = new_figure(1.9 * len(frames) + 0.8, 2.3)
    axes = fig.subplots(1, len(frames), squeeze=False)[0]
    images = []
    for ax, k, frame in zip(axes, picks, frames, strict=True):
        images.append(ax.imshow(frame, cmap="viridis", vmin=low, vmax=high))
        ax.set_title(f"{times[k]:g} ms", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(images[0], ax=list(axes), label="dissimilarity", shrink=0.8)
    return save_figure(fig, path)


def run_time_plots(
    folder: Path,
    course: Mapping[str, Any],
    score: str,
    rdms: np.ndarray | None = None,
    rdm_at_ms: Sequence[float] | None = None,
) -> dict[str, Path]:
    """A run's figures of its metrics.json `time_course`: the test `score` per window with its
    bootstrap band (time_course.png), with generalize the matrix (generalization.png), and
    given the brain RDM of each window rdms (W, pairs), the RDM at `rdm_at_ms` (default: five
    latencies spread over the windows; rdm_over_time.png)."""
    values = course["scores"][score]
    nan = np.nan
    curve = {
        "mean": [nan if v is None else v for v in values["mean"]],
        "low": [nan if v is None else v for v in values["ci_low"]],
        "high": [nan if v is None else v for v in values["ci_high"]],
    }
    out = {
        "time_course": time_course_figure(
            course["times_ms"],
            {f"test {score} (fold mean)": curve},
            folder / "time_course.png",
            score=score,
            title="test score per window (band: stimulus bootstrap)",
        )
    }
    if rdms is not None:
        times = np.asarray(course["times_ms"], dtype=np.float64)
        spread = times[np.unique(np.linspace(0, times.size - 1, 5).round().astype(int))]
        chosen = np.asarray(spread if not rdm_at_ms else list(rdm_at_ms), dtype=np.float64)
        out["rdm_over_time"] = rdm_frames_figure(
            rdms, times.tolist(), chosen.tolist(), folder / "rdm_over_time.png"
        )
    if "generalization" in course:
        rows = course["generalization"][score]
        matrix = np.asarray([[nan if v is None else v for v in row] for row in rows])
        out["generalization"] = generalization_figure(
            matrix, course["times_ms"], folder / "generalization.png", score=score
        )
    return out
