"""Trial-level responses in the folder format, and their averages per stimulus.

    <subject>/<roi>.trials.npy   (n_trials, units) float responses, one row per trial; a row
                                 that is NaN in every unit is a missing trial
    <subject>/<roi>.trials.tsv   one line per trial, in the same order: `stimulus_id` and a
                                 partition column, the first of `run`, `session`, `repeat`

Designs may be unbalanced (stimuli with different numbers of trials, partitions without some
stimuli). What is kept: units finite in every present trial (others dropped with a warning),
stimuli with trials in at least two partitions (cross-validated distances need them; others
left out with a warning), and of those the units that vary over the stimulus averages. The
averages (responses, z-scored per unit when asked) feed what needs one pattern per stimulus;
the raw trials stay with them for the distances of rsa.distances.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmri_rdm.errors import DataError

log = logging.getLogger(__name__)

NPY = ".trials.npy"
TSV = ".trials.tsv"
PARTITIONS = ("run", "session", "repeat")


@dataclass(frozen=True)
class Trials:
    """A subject's trials on the kept stimuli.

    x: (T, U) raw responses, float64 if the file is, else float32 (missing trials removed, the
    kept units); stimulus: (T,)
    int64 position of each trial's stimulus among the kept stimuli (0..M-1); partition: (T,)
    str labels; column: the partition column's name (run, session or repeat).
    """

    x: np.ndarray
    stimulus: np.ndarray
    partition: np.ndarray
    column: str


def table_path(npy: Path) -> Path:
    """The `.trials.tsv` beside a `.trials.npy`."""
    return npy.with_name(npy.name[: -len(NPY)] + TSV)


def read_table(path: Path, n_trials: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(stimulus ids (T,), partition labels (T,), partition column) of a `.trials.tsv`."""
    if not path.is_file():
        raise DataError(
            f"{path} not found: a .trials.npy needs its table (stimulus_id and run, session "
            "or repeat per trial)"
        )
    with path.open(newline="", encoding="utf-8") as f:
        rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in
                csv.DictReader(f, delimiter="\t")]  # fmt: skip
    columns = rows[0].keys() if rows else ()
    column = next((c for c in PARTITIONS if c in columns), None)
    if "stimulus_id" not in columns or column is None:
        raise DataError(
            f"{path}: needs a `stimulus_id` column and a partition column ({', '.join(PARTITIONS)})"
        )
    if len(rows) != n_trials:
        raise DataError(
            f"{path}: {len(rows)} lines but the trials file has {n_trials} trials: one line "
            "per trial, in the same order"
        )
    ids = np.asarray([r["stimulus_id"] for r in rows])
    parts = np.asarray([r[column] for r in rows])
    if (parts == "").any() or (ids == "").any():
        raise DataError(f"{path}: empty stimulus_id or {column} values: fill every line")
    return ids, parts, column


def _positions(ids: np.ndarray, known: np.ndarray, path: Path) -> np.ndarray:
    """(T,) position of every trial's stimulus id among the subject's stimuli `known`."""
    order = np.argsort(known)
    found = np.searchsorted(known, ids, sorter=order)
    found = np.minimum(found, len(known) - 1)
    pos = order[found]
    unknown = known[pos] != ids
    if unknown.any():
        raise DataError(
            f"{path}: {int(unknown.sum())} trials name unknown stimuli, e.g. "
            f"{ids[unknown][0]!r}: each stimulus_id must be one of the subject's stimuli"
        )
    return np.asarray(pos, dtype=np.int64)


def _finite_units(x: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(present trials (T,) bool, kept units (U',) int64): missing = NaN in every unit."""
    bad = ~np.isfinite(x)
    missing = bad.all(axis=1)
    units = np.flatnonzero(~bad[~missing].any(axis=0))
    if units.size == 0:
        raise DataError(f"{path}: no unit is finite in every present trial")
    if units.size < x.shape[1]:
        log.warning(
            "%s: dropping %d of %d units with NaN/inf in some trials",
            path,
            x.shape[1] - units.size,
            x.shape[1],
        )
    return ~missing, units


def load_trials(
    path: Path, stimulus_ids: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Trials]:
    """(kept (M,) positions among `rows`, averages (M, U) float32, trials) of a `.trials.npy`.

    stimulus_ids: (N,) the subject's stimuli; rows: (R,) the positions among them wanted.
    """
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npy array ({err}); save it with np.save") from err
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise DataError(
            f"{path}: trials must be a 2-D numeric array (trials, units), got {x.shape}"
        )
    ids, parts, column = read_table(table_path(path), x.shape[0])
    stim = _positions(ids, np.asarray(stimulus_ids), path)
    where = np.full(len(stimulus_ids), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    wanted = where[stim] >= 0
    x = np.asarray(x[wanted], dtype=np.float64 if x.dtype == np.float64 else np.float32)
    stim, parts = where[stim[wanted]], parts[wanted]
    present, units = _finite_units(x, path)
    x, stim, parts = x[np.ix_(present, units)], stim[present], parts[present]
    kept = _measured_twice(stim, parts, len(rows), path)
    keep_trial = np.isin(stim, kept)
    x, stim, parts = x[keep_trial], np.searchsorted(kept, stim[keep_trial]), parts[keep_trial]
    sums = np.zeros((kept.size, x.shape[1]), dtype=np.float64)
    np.add.at(sums, stim, x)  # a few trials per stimulus: one pass over the rows
    means = (sums / np.bincount(stim, minlength=kept.size)[:, None]).astype(np.float32)
    varying = np.flatnonzero(means.std(axis=0) > 0)
    if varying.size == 0:
        raise DataError(f"{path}: no unit varies over the stimulus averages: check the file")
    if varying.size < means.shape[1]:
        log.warning("%s: dropping %d units without variance over the stimuli", path,
                    means.shape[1] - varying.size)  # fmt: skip
    trials = Trials(np.ascontiguousarray(x[:, varying]), stim.astype(np.int64), parts, column)
    return kept, np.ascontiguousarray(means[:, varying]), trials


def _measured_twice(stim: np.ndarray, parts: np.ndarray, n_rows: int, path: Path) -> np.ndarray:
    """Sorted positions (among the wanted rows) of the stimuli with trials in two partitions
    (all stimuli with trials when the file has a single partition)."""
    _, part_code = np.unique(parts, return_inverse=True)
    n_parts = int(part_code.max()) + 1 if part_code.size else 0
    seen = np.zeros((n_rows, max(n_parts, 1)), dtype=bool)
    seen[stim, part_code] = True
    per_stimulus = seen.sum(axis=1)
    need = 2 if n_parts >= 2 else 1
    kept = np.flatnonzero(per_stimulus >= need)
    short = int(((per_stimulus > 0) & (per_stimulus < need)).sum())
    absent = int((per_stimulus == 0).sum())
    if short or absent:
        log.warning(
            "%s: leaving out %d stimuli without trials and %d with trials in one partition "
            "only (cross-validated distances need two)",
            path,
            absent,
            short,
        )
    if kept.size < 2:
        raise DataError(f"{path}: fewer than 2 stimuli have trials in two partitions")
    return kept
