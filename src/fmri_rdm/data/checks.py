"""The checks of a whole dataset folder (`fmri-rdm data ROOT --check`): every subject's stimuli
and every (subject, ROI) file through the data source's own checks, so the lines are the
messages a run would stop with, plus notes on what a run handles but a user should know
(subjects lacking a ROI are left out of that ROI's inter-subject ceiling).

A run checks its own subject and ROI the same way before it starts (`pipeline.preflight` /
`run.preflight`: `DataSource.check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fmri_rdm.data.source import DataSource, Subject, subject_key
from fmri_rdm.errors import DataError, one_line


@dataclass
class FolderReport:
    """problems: one line each, a run on that data would stop; notes: one line each, runs
    go on (e.g. a subject left out of a ceiling); bad: (subject, roi) pairs with a problem
    (roi None: the subject's stimuli)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bad: set[tuple[str, str | None]] = field(default_factory=set)


def _check_roi(source: DataSource, subject: Subject, roi: str, read: bool) -> None:
    source.check(subject, roi)
    if read and source.name == "folder":  # values too: NaN rows, constant units, negative
        source.load(subject, roi, rows=None, standardize=False)


def check_source(source: DataSource, *, read: bool = False) -> FolderReport:
    """Every subject's stimuli and ROI files, and the ROIs some subjects lack.

    read: also load each responses file (NaN/inf rows, units without variance); RDM files
    are read by the checks in any case (a folder's RDMs are small).
    """
    report = FolderReport()
    everything = getattr(source, "all_stimuli", None)
    try:
        if everything is not None:
            everything()  # ROOT's stimuli: one line rather than one per subject
    except DataError as err:
        report.problems.append(one_line(err))
        report.bad.add(("*", None))
        return report
    rois_of: dict[str, list[str]] = {}
    for s in source.subjects():
        key = subject_key(s)
        try:
            source.stimuli(s)
            rois_of[key] = source.rois(s)
        except DataError as err:
            report.problems.append(f"{key}: {one_line(err)}")
            report.bad.add((key, None))
            continue
        for roi in rois_of[key]:
            try:
                _check_roi(source, s, roi, read)
            except DataError as err:
                report.problems.append(f"{key}/{roi}: {one_line(err)}")
                report.bad.add((key, roi))
    every = sorted({r for rois in rois_of.values() for r in rois})
    for roi in every:
        lacking = [s for s, rois in rois_of.items() if roi not in rois]
        if lacking and len(lacking) < len(rois_of):
            has = sorted({r for s in lacking for r in rois_of[s]})
            report.notes.append(
                f"ROI {roi}: {len(lacking)} subject(s) lack it ({', '.join(lacking)}; they have "
                f"{', '.join(has) or 'none'}): runs of {roi} leave them out of the "
                "inter-subject ceiling"
            )
    return report


__all__ = ["FolderReport", "check_source"]
