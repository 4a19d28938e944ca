"""`python -m fmri_rdm.data ROOT`: what a dataset folder holds, before any run.

Lists per subject its ROIs with their kind (responses: units; RDM: sessions; time-resolved
data: the number of times, their range and step), its number of stimuli, and the stimuli all
subjects share, then the checks' notes and problems
(`data.checks`: one line each; exit code 2 when there is a problem, i.e. a run would stop).
`--check` prints only the notes and problems, and reads every responses file too. ROOT in the
folder format (`data=folder`, docs/datasets.md), or an Algonauts 2023 folder
(subjNN/training_split/...). A folder mistake is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from fmri_rdm.data.checks import FolderReport, check_source
from fmri_rdm.data.source import DataSource, Subject, subject_key
from fmri_rdm.errors import DataError, FmriRdmError, one_line


def open_source(root: Path) -> DataSource:
    """The data source of a folder: Algonauts when it has subjNN/training_split, else the
    folder format."""
    if any(Path(root).glob("subj[0-9][0-9]/training_split")):
        from fmri_rdm.data.algonauts_source import AlgonautsSource

        return AlgonautsSource(Path(root))
    from fmri_rdm.data.folder import FolderSource

    return FolderSource(root)


def describe_roi(source: DataSource, subject: Subject, roi: str) -> str:
    """`responses, 33 units` / `RDM, 4 sessions` from the file's header (no data read)."""
    from fmri_rdm.data.folder import FolderSource

    if not isinstance(source, FolderSource):
        return "responses"
    path = source._roi_file(subject, roi)
    times = source.times(subject)
    if times is not None:
        from fmri_rdm.data.timed import describe_times

        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        if path.name.endswith(".rdm.npy"):
            return f"RDM per time, {describe_times(times)}"
        return f"responses, {shape[1] if len(shape) == 3 else '?'} units, {describe_times(times)}"
    if path.name.endswith(".rdm.hdf5"):
        from rsatoolbox.rdm import load_rdm

        return f"RDM, {load_rdm(str(path), file_type='hdf5').n_rdm} session(s)"
    shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
    if path.name.endswith(".rdm.npy"):
        sessions = shape[0] if len(shape) == 3 or (len(shape) == 2 and shape[0] != shape[1]) else 1
        return f"RDM, {sessions} session(s)"
    return f"responses, {shape[1] if len(shape) == 2 else '?'} units"


def _describe(source: DataSource, subject: Subject, roi: str, bad: bool) -> str:
    """describe_roi, or the file's kind and raw shape where the checks found a problem (its
    header alone would mislead: a transposed array is not `1200 units`)."""
    if not bad:
        return describe_roi(source, subject, roi)
    path = source._roi_file(subject, roi)  # type: ignore[attr-defined]
    kind = "RDM" if ".rdm." in path.name else "responses"
    try:
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
    except (OSError, ValueError):
        return f"{kind} file, unreadable: PROBLEM"
    return f"{kind} file of shape {shape}: PROBLEM"


def listing(root: Path) -> list[str]:
    """The lines `main` prints (the checks' notes and problems last)."""
    return checked_listing(root)[0]


def checked_listing(root: Path, *, read: bool = False) -> tuple[list[str], FolderReport]:
    """The lines `main` prints and the checks' report (its problems and notes are the last
    lines); read: also read every responses file (`--check`)."""
    source = open_source(root)
    subjects = source.subjects()
    if not subjects:
        raise DataError(f"{root} has no subject folders: add ROOT/<subject>/<roi>.npy files")
    report = check_source(source, read=read)
    lines = [f"{root}: {len(subjects)} subject(s)"]
    if ("*", None) in report.bad:
        return [*lines, *(f"problem: {p}" for p in report.problems)], report
    shared: np.ndarray | None = None
    for s in subjects:
        key = subject_key(s)
        if (key, None) in report.bad:
            lines.append(f"  {key}: PROBLEM")
            continue
        ids = source.stimuli(s).ids
        shared = ids if shared is None else np.intersect1d(shared, ids)
        lines.append(f"  {key}: {len(ids)} stimuli")
        for roi in source.rois(s):
            lines.append(f"    {roi}: {_describe(source, s, roi, (key, roi) in report.bad)}")
    lines.append(f"stimuli shared by all subjects: {0 if shared is None else shared.size}")
    lines += [f"note: {n}" for n in report.notes]
    lines += [f"problem: {p}" for p in report.problems]
    return lines, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmri_rdm.data",
        description="List a dataset folder's subjects, ROIs (responses or RDMs, sessions), "
        "stimuli per subject and stimuli shared by all subjects.",
    )
    parser.add_argument("root", type=Path, help="the dataset folder (data.root)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="also read every responses file (NaN rows, units without variance); print only "
        "the problems and notes",
    )
    args = parser.parse_args(argv)
    try:
        lines, report = checked_listing(args.root, read=args.check)
    except (FmriRdmError, OSError, ValueError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    if args.check:
        lines = [f"note: {n}" for n in report.notes]
        lines += [f"problem: {p}" for p in report.problems]
        if not report.problems:
            lines.append(f"{args.root}: no problem found")
    print("\n".join(lines))
    if report.problems:
        print(
            f"{len(report.problems)} problem(s): a run on that data would stop; fix the files "
            "(docs/datasets.md)",
            file=sys.stderr,
        )
        return 2
    return 0
