"""`data=folder`: any stimulus set with responses or RDMs, in the folder contract below.

    ROOT/stimuli/          the images (hidden and non-image files skipped)
    ROOT/stimuli.tsv       optional: `file` (relative to stimuli/), optional `stimulus_id`
                           (default: the file name without extension), other columns = metadata;
                           without it every image, sorted by name. With `stimulus_id` and no
                           `file` column (and no stimuli/), the stimuli are conditions without
                           images: RDM models run, image models are refused
    ROOT/<subject>/        one folder per subject (any name but `stimuli`)
      <roi>.npy            responses (n, units), row k = the subject's k-th stimulus
      <roi>.rdm.npy        dissimilarities (n, n), (n(n-1)/2,) condensed in scipy order, or a
                           session stack (s, n, n) / (s, n(n-1)/2)
      <roi>.rdm.hdf5       an rsatoolbox RDMs file (pattern descriptor `stimulus_id` or `file`)
      <roi>.trials.npy     trial-level responses (n_trials, units) with <roi>.trials.tsv
                           (`stimulus_id` and `run`, `session` or `repeat` per trial):
                           averaged per stimulus for the models, the trials kept for the
                           cross-validated distances (data/trials.py)
      stimuli.tsv          optional: the subject's stimuli (`stimulus_id` or `file`) in the
                           order of its arrays; default all of ROOT's stimuli in ROOT's order
      times.tsv            optional: time-resolved data (data/timed.py): responses (n, units,
                           times), RDM stacks (times, n, n); ROOT/times.tsv applies to all
    ROOT/models/           candidate model RDMs, not a subject (`model=rdm`,
                           models/candidates/loading.py)

Every mistake is a DataError naming the file and the fix (the entry points print one line).
"""

from __future__ import annotations

import csv
import logging
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.data import rdm_files
from fmri_rdm.data import trials as trials_file
from fmri_rdm.data.algonauts import zscore_columns
from fmri_rdm.data.files import load_npy
from fmri_rdm.data.images import image_files
from fmri_rdm.data.source import DataKind, Stimuli, Subject, SubjectData
from fmri_rdm.errors import ConfigError, DataError

log = logging.getLogger(__name__)

STIMULI = "stimuli"
MODELS = "models"  # ROOT/models/<name>.rdm.npy: candidate RDMs, not a subject
TSV = "stimuli.tsv"
SUFFIXES = {".rdm.hdf5": "rdm", ".rdm.npy": "rdm", ".trials.npy": "trials", ".npy": "responses"}


def _read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a tab-separated table as saved by a spreadsheet too: a UTF-8 byte-order
    mark, CRLF line ends and blank lines (trailing ones included) are accepted."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter="\t")
        rows = [
            {str(k).strip(): (v or "").strip() for k, v in r.items() if k}
            for r in reader
            if any((v or "").strip() for v in r.values() if isinstance(v, str))
        ]
        header = [str(k).strip() for k in reader.fieldnames or []]
    if not rows:
        raise DataError(f"{path}: no rows (a header line, then one line per stimulus)")
    if len(header) == 1 and ("," in header[0] or ";" in header[0]):
        raise DataError(
            f"{path}: one column {header[0]!r}: separate the columns with tabs, not commas "
            "(save as tab-separated text)"
        )
    return rows


def _unique(ids: list[str], path: Path) -> None:
    seen: set[str] = set()
    twice = [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
    if twice:
        raise DataError(
            f"{path}: duplicated stimulus ids {sorted(set(twice))[:5]}: give each stimulus "
            "its own stimulus_id"
        )


def _unique_names(ids: list[str], files: list[str], path: Path) -> None:
    """Ids taken from file names must not repeat across folders (two sessions that both name
    their images image0001...: different images under one name)."""
    first: dict[str, str] = {}
    for sid, name in zip(ids, files, strict=True):
        if sid in first and first[sid] != name:
            raise DataError(
                f"{path}: the file name {sid!r} is reused ({first[sid]}, {name}): different "
                "images under one name (e.g. two sessions); add a `stimulus_id` column with "
                "unique ids (e.g. <folder>_<name>)"
            )
        first.setdefault(sid, name)


def _imageless(rows: list[dict[str, str]], root: Path, table: Path) -> Stimuli:
    """Stimuli named by `stimulus_id` without image files (RDM models only)."""
    ids = [r.get("stimulus_id", "") for r in rows]
    if any(not i for i in ids):
        raise DataError(f"{table}: a row has no stimulus_id; name every stimulus")
    _unique(ids, table)
    meta = [k for k in rows[0] if k != "stimulus_id"]
    paths = [root / STIMULI / i for i in ids]
    return Stimuli(paths, np.asarray(ids), {k: [r.get(k, "") for r in rows] for k in meta}, False)


@cache
def _root_stimuli(root: Path) -> Stimuli:
    folder = root / STIMULI
    table = root / TSV
    if table.is_file():
        rows = _read_tsv(table)
        if "file" not in rows[0] and "stimulus_id" in rows[0]:
            return _imageless(rows, root, table)
    if not folder.is_dir():
        raise DataError(
            f"{folder} not found: data=folder needs the images in ROOT/stimuli/ "
            "(see docs/datasets.md); check data.root"
        )
    if not table.is_file():
        paths = image_files(folder)
        if not paths:
            raise DataError(f"{folder} holds no images (.png, .jpg, ...): put the stimuli there")
        return Stimuli(paths, np.asarray([p.stem for p in paths]))
    rows = _read_tsv(table)
    if "file" not in rows[0]:
        raise DataError(
            f"{table}: no `file` column: name each image relative to stimuli/ (or, for "
            "conditions without images, give a `stimulus_id` column and no `file` column)"
        )
    paths = [folder / r["file"] for r in rows]
    missing = [str(p.relative_to(root)) for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{table}: {len(missing)} image file(s) missing, e.g. {missing[0]}: put them in "
            "stimuli/ or remove their lines"
        )
    ids = [r.get("stimulus_id") or Path(r["file"]).stem for r in rows]
    if "stimulus_id" not in rows[0]:
        _unique_names(ids, [r["file"] for r in rows], table)
    _unique(ids, table)
    meta = [k for k in rows[0] if k not in ("file", "stimulus_id")]
    return Stimuli(paths, np.asarray(ids), {k: [r.get(k, "") for r in rows] for k in meta})


class FolderSource:
    """The folder contract (module docstring)."""

    name = "folder"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataError(f"data.root={str(root)!r} is not a folder: give the dataset folder")

    @classmethod
    def from_config(cls, cfg: Any, *, create: bool = True) -> FolderSource:
        root = cfg.data.get("root")
        if root in (None, ""):
            raise ConfigError("data=folder needs data.root=/path/to/dataset (docs/datasets.md)")
        return cls(str(root))

    def all_stimuli(self) -> Stimuli:
        """Every stimulus of ROOT (stimuli.tsv order, or sorted by name)."""
        return _root_stimuli(self.root)

    def subjects(self) -> list[Subject]:
        return [
            d.name
            for d in sorted(self.root.iterdir())
            if d.is_dir() and d.name not in (STIMULI, MODELS) and not d.name.startswith((".", "_"))
        ]

    def _subject_dir(self, subject: Subject) -> Path:
        path = self.root / str(subject)
        if str(subject) == STIMULI or not path.is_dir():
            raise DataError(
                f"unknown subject {subject!r} (data.subject): {self.root} has "
                f"{', '.join(map(str, self.subjects())) or 'no subject folders'}"
            )
        return path

    def _roi_files(self, subject: Subject) -> dict[str, Path]:
        folder = self._subject_dir(subject)
        found: dict[str, Path] = {}
        for p in sorted(folder.iterdir()):
            for suffix in SUFFIXES:  # longest first: x.rdm.npy is an RDM, not responses
                if p.is_file() and p.name.endswith(suffix) and not p.name.startswith("."):
                    roi = p.name[: -len(suffix)]
                    if roi in found:
                        raise DataError(
                            f"{folder}: ROI {roi!r} has two files ({found[roi].name}, {p.name}): "
                            "keep one"
                        )
                    found[roi] = p
                    break
        if not found:
            raise DataError(
                f"{folder} holds no ROI files: add <roi>.npy (responses) or <roi>.rdm.npy / "
                "<roi>.rdm.hdf5 (dissimilarities)"
            )
        return found

    def rois(self, subject: Subject) -> list[str]:
        return list(self._roi_files(subject))

    def _roi_file(self, subject: Subject, roi: str) -> Path:
        files = self._roi_files(subject)
        if roi not in files:
            raise DataError(
                f"unknown ROI {roi!r} (data.roi) for subject {subject}: it has {', '.join(files)}"
            )
        return files[roi]

    def kind(self, subject: Subject, roi: str) -> DataKind:
        name = self._roi_file(subject, roi).name
        return "rdm" if ".rdm." in name else "responses"

    def stimuli(self, subject: Subject) -> Stimuli:
        everything = self.all_stimuli()
        table = self._subject_dir(subject) / TSV
        if not table.is_file():
            return everything
        rows = _read_tsv(table)
        if "stimulus_id" in rows[0]:
            column, known = "stimulus_id", list(everything.ids)
        elif "file" in rows[0]:
            column, known = (
                "file",
                [str(p.relative_to(self.root / STIMULI)) for p in everything.paths],
            )
        else:
            raise DataError(f"{table}: needs a `stimulus_id` or `file` column")
        wanted = [r[column] for r in rows]
        _unique(wanted, table)
        position = {v: k for k, v in enumerate(known)}
        unknown = [w for w in wanted if w not in position]
        if unknown:
            raise DataError(
                f"{table}: unknown {column} {unknown[:3]} ({len(unknown)} in all): each must "
                f"be a stimulus of {self.root / (TSV if (self.root / TSV).is_file() else STIMULI)}"
            )
        return everything.take(np.asarray([position[w] for w in wanted]))

    def times(self, subject: Subject) -> np.ndarray | None:
        """(T,) ms of a time-resolved subject (its times.tsv, else ROOT's), None otherwise."""
        from fmri_rdm.data.timed import read_times, times_file

        found = times_file(self.root, self._subject_dir(subject))
        return None if found is None else read_times(found)

    def load(
        self, subject: Subject, roi: str, *, rows: np.ndarray | None, standardize: bool
    ) -> SubjectData:
        path = self._roi_file(subject, roi)
        if self.times(subject) is not None:
            raise DataError(
                f"{path} is time-resolved (times.tsv): read it with data.timed.load_timed and "
                "score it per window (docs/time.md)"
            )
        stimuli = self.stimuli(subject)
        n = len(stimuli)
        chosen = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
        if path.name.endswith(".rdm.hdf5"):
            files = [str(p.relative_to(self.root / STIMULI)) for p in stimuli.paths]
            sessions = rdm_files.read_rsatoolbox(path, stimuli.ids, files)
        elif path.name.endswith(trials_file.NPY):
            kept, means, trials = trials_file.load_trials(path, stimuli.ids, chosen)
            responses = zscore_columns(means) if standardize else means
            return SubjectData(kept, responses=responses, file=path, trials=trials)
        elif path.name.endswith(".rdm.npy"):
            sessions = rdm_files.condensed_sessions(load_npy(path), n, path)
        else:
            return _responses(path, load_npy(path), stimuli, chosen, standardize)
        sessions = rdm_files.check_values(sessions, path)
        if rows is not None:
            sessions = rdm_files.sub_rdm(sessions, n, chosen)
        return SubjectData(np.arange(chosen.size), sessions=sessions, file=path)

    def check(self, subject: Subject, roi: str) -> None:
        """Subject, ROI, stimuli (ids, image files) and the data file's shape and values: every
        folder mistake answered before a logger starts (the files are read once here)."""
        path = self._roi_file(subject, roi)
        stimuli = self.stimuli(subject)
        if self.times(subject) is not None:
            from fmri_rdm.data.timed import load_timed

            load_timed(self, subject, roi)
            return
        if path.name.endswith(".npy") and not path.name.endswith((".rdm.npy", trials_file.NPY)):
            try:
                shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
            except (OSError, ValueError):
                shape = ()
            if len(shape) != 2 or shape[0] != len(stimuli):
                self.load(subject, roi, rows=None, standardize=False)  # raises the message
            return
        self.load(subject, roi, rows=None, standardize=False)


def _responses(
    path: Path, x: np.ndarray, stimuli: Stimuli, rows: np.ndarray, standardize: bool
) -> SubjectData:
    """Responses of the chosen rows: NaN rows left out as for Algonauts, units without variance
    dropped with a warning, z-scored per unit when `standardize`."""
    from fmri_rdm.data.nonfinite import finite_parts

    n = len(stimuli)
    if x.ndim == 2 and x.shape[1] == n and x.shape[0] != n:
        raise DataError(
            f"{path}: responses of shape {x.shape} look transposed (units x stimuli): the "
            f"subject has {n} stimuli; save x.T, shape ({n}, {x.shape[0]}), row k = stimulus k"
        )
    if x.ndim != 2 or x.shape[0] != n:
        raise DataError(
            f"{path}: responses of shape {x.shape}, but the subject has {n} stimuli: save "
            f"({n}, units) with row k = the k-th stimulus, or list its stimuli in stimuli.tsv"
        )
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{path}: responses must be numbers (dtype {x.dtype})")
    picked = np.asarray(x[rows], dtype=np.float32)
    kept, units = finite_parts(picked, [stimuli.paths[k] for k in rows], path.stem, path.parent)
    picked = picked[np.ix_(kept, units)]
    varying = picked.std(axis=0) > 0
    if not varying.all():
        log.warning(
            "%s: %d of %d units have no variance over the subject's stimuli; dropped",
            path,
            int((~varying).sum()),
            varying.size,
        )
        picked = picked[:, varying]
    if picked.shape[1] == 0:
        raise DataError(f"{path}: no unit varies over the stimuli: check the file")
    return SubjectData(kept, responses=zscore_columns(picked) if standardize else picked, file=path)
