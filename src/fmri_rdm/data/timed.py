"""The time axis of the folder format (`data=folder`, issue 39).

    ROOT/times.tsv             the sampling times in ms, one column `time_ms`, one row per sample
    ROOT/<subject>/times.tsv   a subject's own times (overrides ROOT's)
    <roi>.npy                  responses (n_stimuli, units, times)
    <roi>.rdm.npy              an RDM per time: (times, n, n) or (times, n(n-1)/2)

With a times.tsv every ROI of the subject is time-resolved; the last axis of its responses (the
first of its RDM stack) must have one entry per row of times.tsv, and the times must be evenly
spaced. `load_timed` reads one (subject, ROI); the run layer makes RDMs per window from it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from fmri_rdm.data import rdm_files
from fmri_rdm.data.files import load_npy
from fmri_rdm.errors import DataError
from fmri_rdm.rsa.windows import sampling_step

if TYPE_CHECKING:
    from fmri_rdm.data.source import Stimuli, Subject, SubjectData


class FolderSource(Protocol):
    """What time-resolved loading reads of `data.folder.FolderSource` (which imports this
    module: a structural type keeps the import one way)."""

    root: Path

    def _roi_file(self, subject: Subject, roi: str) -> Path: ...

    def _subject_dir(self, subject: Subject) -> Path: ...

    def stimuli(self, subject: Subject) -> Stimuli: ...


TIMES = "times.tsv"
COLUMN = "time_ms"


def read_times(path: Path) -> np.ndarray:
    """(T,) float64 ms of a times.tsv: DataError naming the file when it is not one column of
    evenly spaced, increasing numbers."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or COLUMN not in rows[0]:
        raise DataError(f"{path}: needs a `{COLUMN}` column (header line) and one row per sample")
    try:
        times = np.asarray([float(r[COLUMN]) for r in rows], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{path}: `{COLUMN}` holds a value that is not a number ({err})") from err
    try:
        sampling_step(times)
    except DataError as err:
        raise DataError(f"{path}: {err}") from err
    return times


def times_file(root: Path, subject_dir: Path) -> Path | None:
    """The times.tsv that applies to a subject (its own, else ROOT's), or None."""
    for path in (subject_dir / TIMES, root / TIMES):
        if path.is_file():
            return path
    return None


@dataclass
class TimedData:
    """One time-resolved (subject, ROI) on the requested stimuli.

    times_ms: (T,); kept: (M,) positions among the requested rows; responses: (M, U, T) float64
    or None; rdms: (T, M(M-1)/2) float64 condensed RDMs or None; file: the data file.
    """

    times_ms: np.ndarray
    kept: np.ndarray
    responses: np.ndarray | None = None
    rdms: np.ndarray | None = None
    file: Path | None = None

    @property
    def kind(self) -> str:
        return "responses" if self.responses is not None else "rdm"


def _responses(
    path: Path, x: np.ndarray, n: int, times: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    if x.ndim != 3 or x.shape[0] != n or x.shape[2] != times.size:
        raise DataError(
            f"{path}: responses of shape {x.shape}, but the subject has {n} stimuli and "
            f"{times.size} times: save ({n}, units, {times.size}) (stimuli, units, times)"
        )
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{path}: responses must be numbers (dtype {x.dtype})")
    picked = np.asarray(x[rows], dtype=np.float64)
    if not np.isfinite(picked).all():
        raise DataError(f"{path}: time-resolved responses hold NaN or inf: fix or drop them")
    return picked


def _rdm_stack(
    path: Path, x: np.ndarray, n: int, times: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    pairs = n * (n - 1) // 2
    if x.shape not in ((times.size, n, n), (times.size, pairs)):
        raise DataError(
            f"{path}: an RDM stack of shape {x.shape} for {times.size} times and {n} stimuli: "
            f"save ({times.size}, {n}, {n}) or ({times.size}, {pairs}), one RDM per time"
        )
    stack = rdm_files.check_values(rdm_files.condensed_sessions(x, n, path), path)
    return rdm_files.sub_rdm(stack, n, rows)


def load_timed(
    source: FolderSource, subject: Subject, roi: str, *, rows: np.ndarray | None = None
) -> TimedData:
    """The time-resolved data of (subject, roi) on `rows` (positions in its stimuli; None:
    all): DataError when the subject has no times.tsv or the file does not fit it."""
    path = source._roi_file(subject, roi)
    found = times_file(source.root, source._subject_dir(subject))
    if found is None:
        raise DataError(
            f"{path.parent}: no {TIMES} (here or in {source.root}): time-resolved data need "
            f"the times in ms, one `{COLUMN}` column"
        )
    if path.name.endswith(".rdm.hdf5"):
        raise DataError(f"{path}: time-resolved RDMs come as <roi>.rdm.npy (times, n, n)")
    if path.name.endswith(".trials.npy"):
        raise DataError(
            f"{path}: trial-level time-resolved data are not read yet: average the trials per "
            "stimulus into <roi>.npy (n_stimuli, units, times)"
        )
    times = read_times(found)
    n = len(source.stimuli(subject))
    chosen = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    x = load_npy(path)
    kept = np.arange(chosen.size)
    if path.name.endswith(".rdm.npy"):
        return TimedData(times, kept, rdms=_rdm_stack(path, x, n, times, chosen), file=path)
    return TimedData(times, kept, responses=_responses(path, x, n, times, chosen), file=path)


def averaged(timed: TimedData, standardize: bool) -> SubjectData:
    """The SubjectData of a run on time-resolved data: responses (or the RDM) averaged over all
    times (responses z-scored per unit when `standardize`), the time-resolved data attached."""
    from fmri_rdm.data.algonauts import zscore_columns
    from fmri_rdm.data.source import SubjectData

    if timed.responses is not None:
        mean = timed.responses.mean(axis=2).astype(np.float32)
        x = zscore_columns(mean) if standardize else mean
        return SubjectData(timed.kept, responses=x, file=timed.file, timed=timed)
    assert timed.rdms is not None
    return SubjectData(
        timed.kept, sessions=timed.rdms.mean(axis=0)[None], file=timed.file, timed=timed
    )


def describe_times(times_ms: np.ndarray) -> str:
    """`1100 times, -100 to 999 ms, step 1 ms`."""
    step = sampling_step(times_ms)
    return f"{times_ms.size} times, {times_ms[0]:g} to {times_ms[-1]:g} ms, step {step:g} ms"
