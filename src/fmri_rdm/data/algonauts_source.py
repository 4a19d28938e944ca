"""The Algonauts 2023 layout (real, and the synthetic set in the same layout) as a data source.

Subjects are numbers (folder `subjNN`), ROIs the names of `data.rois`, the stimuli a subject's
sorted training images, and the stimulus id the NSD id in their file names
(`train-0001_nsd-00013.png` -> "13"), which is what matches images across subjects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.data import algonauts
from fmri_rdm.data.source import DataKind, Stimuli, Subject, SubjectData
from fmri_rdm.errors import DataError

_NSD = re.compile(r"nsd-(\d+)")


def nsd_ids(paths: Sequence[Path | str]) -> np.ndarray:
    """(N,) int64 NSD ids from Algonauts image names; DataError when a name lacks one."""
    ids = []
    for p in paths:
        m = _NSD.search(Path(p).name)
        if m is None:
            raise DataError(f"image {p} has no NSD id (nsd-XXXXX) in its name")
        ids.append(int(m.group(1)))
    return np.asarray(ids, dtype=np.int64)


def subjects_with_fmri(root: Path) -> list[int]:
    """Subject ids under `root` whose folder holds training fMRI, ascending."""
    found = []
    for d in sorted(Path(root).glob("subj[0-9][0-9]")):
        if (d / algonauts.TRAIN_FMRI_DIR / "lh_training_fmri.npy").is_file():
            found.append(int(d.name[4:]))
    return found


class AlgonautsSource:
    """`data=algonauts` and `data=synthetic` (module docstring)."""

    def __init__(self, root: Path, name: str = "algonauts") -> None:
        self.root = Path(root)
        self.name = name

    @classmethod
    def from_config(cls, cfg: Any, *, create: bool = True) -> AlgonautsSource:
        from fmri_rdm.data.root import data_root

        return cls(data_root(cfg, create=create), str(cfg.data.source))

    def subjects(self) -> list[Subject]:
        return list(subjects_with_fmri(self.root))

    def rois(self, subject: Subject) -> list[str]:
        found = algonauts.available_rois(self.root, int(subject))
        return [n for names in found.values() for n in names]

    def kind(self, subject: Subject, roi: str) -> DataKind:
        return "responses"

    def stimuli(self, subject: Subject) -> Stimuli:
        paths = algonauts.image_paths(self.root, int(subject), "train")
        return Stimuli(paths, nsd_ids(paths).astype(str))

    def load(
        self, subject: Subject, roi: str, *, rows: np.ndarray | None, standardize: bool
    ) -> SubjectData:
        s = int(subject)
        measured, kept = algonauts.load_responses_kept(
            self.root, s, roi, standardize=standardize, images=rows
        )
        noise_free = None
        if self.name == "synthetic":
            from fmri_rdm.data.synthetic import has_noise_free, load_noise_free_responses

            if has_noise_free(self.root, s):
                chosen = np.arange(len(kept)) if rows is None else np.asarray(rows)
                noise_free = load_noise_free_responses(
                    self.root, s, roi, standardize=standardize, images=chosen[kept]
                )
        fmri = algonauts.subject_dir(self.root, s) / algonauts.TRAIN_FMRI_DIR
        return SubjectData(kept, responses=measured, noise_free=noise_free, file=fmri)

    def check(self, subject: Subject, roi: str) -> None:
        from fmri_rdm.data.rois import resolve_roi

        resolve_roi(roi)  # UnknownRoiError lists the valid names
        if self.name != "synthetic":  # synthetic data is generated on first use
            algonauts.subject_dir(self.root, int(subject))
