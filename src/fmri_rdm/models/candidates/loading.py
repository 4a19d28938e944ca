"""Candidate RDMs of a data folder: hypothesis RDMs from files and categorical RDMs from labels.

    ROOT/models/<name>.rdm.npy    (n, n) square or (n(n-1)/2,) condensed dissimilarities, rows in
                                  ROOT/stimuli.tsv order; a stack (s, ...) is averaged
    ROOT/models/<name>.tsv        optional: a `stimulus_id` column naming the stimuli of its rows
                                  (any subset of ROOT's stimuli, any order)
    ROOT/models/<name>.rdm.hdf5   an rsatoolbox RDMs file (pattern descriptor `stimulus_id` or
                                  `file`; without one, rows in ROOT's order)

A candidate is named in a config as `<name>` (a file above) or `column:<col>` (the categorical
RDM of a stimuli.tsv column: 0 within a level, 1 between). It is kept over the root's stimuli,
so a run's table of root positions (`stimulus_table`) indexes it for any subset of them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from fmri_rdm.data.rdm_files import check_values, condensed_sessions, read_rsatoolbox
from fmri_rdm.data.source import Stimuli
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.rdm import condensed_index

MODELS = "models"
COLUMN = "column:"


@dataclass(frozen=True)
class Candidate:
    """One candidate RDM over the root's R stimuli.

    rows: (R,) int64 row of each root stimulus in the candidate, -1 where it has none.
    rdm: (M(M-1)/2,) float32 condensed over its M rows, or None for a categorical candidate.
    labels: (M,) int64 level codes of a categorical candidate (None for an RDM file).
    """

    name: str
    rows: np.ndarray
    rdm: np.ndarray | None = None
    labels: np.ndarray | None = None

    def values(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(P,) float32 dissimilarities of the pairs of root stimuli (a[k], b[k]), a != b."""
        ra = self.rows[np.asarray(a, dtype=np.int64)]
        rb = self.rows[np.asarray(b, dtype=np.int64)]
        missing = np.count_nonzero((ra < 0) | (rb < 0))
        if missing:
            raise DataError(
                f"candidate RDM {self.name!r} has no row for some stimuli of {missing} pairs: "
                f"list every stimulus of the run in ROOT/{MODELS}/{self.name}.tsv"
            )
        if self.labels is not None:
            return (self.labels[ra] != self.labels[rb]).astype(np.float32)
        assert self.rdm is not None
        m = int(self.rows.max()) + 1 if self.rows.size else 0
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        if np.any(lo == hi):
            raise DataError(f"candidate RDM {self.name!r}: a pair joins a stimulus to itself")
        return np.asarray(self.rdm[condensed_index(lo, hi, m)], dtype=np.float32)


def categorical(name: str, values: list[str]) -> Candidate:
    """The categorical RDM of one label per root stimulus (0 within a level, 1 between)."""
    _, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    n = len(values)
    return Candidate(name, np.arange(n, dtype=np.int64), labels=codes.astype(np.int64))


def _row_ids(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "stimulus_id" not in rows[0]:
        raise DataError(f"{path}: needs a `stimulus_id` column naming the stimulus of each row")
    return [(r.get("stimulus_id") or "").strip() for r in rows]


def _rows_of(ids: list[str], stimuli: Stimuli, path: Path) -> np.ndarray:
    """(R,) row in the candidate of each root stimulus (-1: none) from the ids of its rows."""
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: a stimulus id is listed twice; list each row's stimulus once")
    position = {str(v): k for k, v in enumerate(stimuli.ids)}
    unknown = [i for i in ids if i not in position]
    if unknown:
        raise DataError(
            f"{path}: unknown stimulus ids {unknown[:3]} ({len(unknown)} in all): each must be "
            "a stimulus_id of ROOT/stimuli.tsv"
        )
    rows = np.full(len(stimuli), -1, dtype=np.int64)
    rows[[position[i] for i in ids]] = np.arange(len(ids))
    return rows


def _from_npy(name: str, path: Path, stimuli: Stimuli) -> Candidate:
    listing = path.parent / f"{name}.tsv"
    ids = _row_ids(listing) if listing.is_file() else [str(v) for v in stimuli.ids]
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npy array ({err}); save it with np.save") from err
    sessions = check_values(condensed_sessions(array, len(ids), path), path)
    rdm = np.nanmean(sessions, axis=0) if len(sessions) > 1 else sessions[0]
    if not np.all(np.isfinite(rdm)):
        raise DataError(f"{path}: the candidate RDM has NaN pairs; give every pair a value")
    rows = _rows_of(ids, stimuli, listing) if listing.is_file() else np.arange(len(ids))
    return Candidate(name, rows.astype(np.int64), rdm=rdm.astype(np.float32))


def _from_hdf5(name: str, path: Path, stimuli: Stimuli, root: Path) -> Candidate:
    folder = root / "stimuli"
    files = [
        str(p.relative_to(folder)) if p.is_relative_to(folder) else p.name for p in stimuli.paths
    ]
    sessions = check_values(read_rsatoolbox(path, stimuli.ids, files), path)
    rdm = np.nanmean(sessions, axis=0) if len(sessions) > 1 else sessions[0]
    return Candidate(name, np.arange(len(stimuli), dtype=np.int64), rdm=rdm.astype(np.float32))


def load_candidate(root: Path, spec: str, stimuli: Stimuli) -> Candidate:
    """The candidate `spec` names (`<name>` or `column:<col>`) over the root's `stimuli`."""
    spec = str(spec).strip()
    if spec.startswith(COLUMN):
        column = spec[len(COLUMN) :]
        if column not in stimuli.metadata:
            have = ", ".join(sorted(stimuli.metadata)) or "none"
            raise ConfigError(
                f"no stimuli.tsv column {column!r} for a categorical RDM: columns are {have}"
            )
        return categorical(spec, stimuli.metadata[column])
    folder = Path(root) / MODELS
    if (folder / f"{spec}.rdm.npy").is_file():
        return _from_npy(spec, folder / f"{spec}.rdm.npy", stimuli)
    if (folder / f"{spec}.rdm.hdf5").is_file():
        return _from_hdf5(spec, folder / f"{spec}.rdm.hdf5", stimuli, Path(root))
    found = sorted(p.name.split(".")[0] for p in folder.glob("*.rdm.*")) if folder.is_dir() else []
    raise ConfigError(
        f"no candidate RDM {spec!r}: put {folder / spec}.rdm.npy (or .rdm.hdf5) there; "
        f"found {', '.join(found) or 'none'}"
    )


@cache
def cached_candidate(root: str, spec: str, stamp: float) -> Candidate:
    """`load_candidate` once per (root, spec, newest file time) in a process (folds reload it)."""
    from fmri_rdm.data.folder import FolderSource

    return load_candidate(Path(root), spec, FolderSource(root).all_stimuli())


def stamp_of(root: Path, spec: str) -> float:
    """Modification time of the candidate's files (0 for a column)."""
    files = list((Path(root) / MODELS).glob(f"{spec}.*")) if not spec.startswith(COLUMN) else []
    files.append(Path(root) / "stimuli.tsv")
    return max((p.stat().st_mtime for p in files if p.is_file()), default=0.0)
