"""`python -m fmri_rdm.data ROOT`: what a dataset folder holds, before any run.

Lists per subject its ROIs with their kind (responses: units; RDM: sessions; time-resolved
data: the number of times, their range and step), its number of stimuli, and the stimuli all
subjects share. ROOT in the folder format (`data=folder`, docs/datasets.md), or an Algonauts
2023 folder (subjNN/training_split/...). A folder mistake is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

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


def listing(root: Path) -> list[str]:
    """The lines `main` prints."""
    source = open_source(root)
    subjects = source.subjects()
    if not subjects:
        raise DataError(f"{root} has no subject folders: add ROOT/<subject>/<roi>.npy files")
    lines = [f"{root}: {len(subjects)} subject(s)"]
    shared: np.ndarray | None = None
    for s in subjects:
        ids = source.stimuli(s).ids
        shared = ids if shared is None else np.intersect1d(shared, ids)
        lines.append(f"  {subject_key(s)}: {len(ids)} stimuli")
        for roi in source.rois(s):
            lines.append(f"    {roi}: {describe_roi(source, s, roi)}")
    lines.append(f"stimuli shared by all subjects: {0 if shared is None else shared.size}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmri_rdm.data",
        description="List a dataset folder's subjects, ROIs (responses or RDMs, sessions), "
        "stimuli per subject and stimuli shared by all subjects.",
    )
    parser.add_argument("root", type=Path, help="the dataset folder (data.root)")
    args = parser.parse_args(argv)
    try:
        lines = listing(args.root)
    except (FmriRdmError, OSError, ValueError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
