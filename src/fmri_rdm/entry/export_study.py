"""`python -m fmri_rdm.export SWEEP_DIR --across subject`: one rsatoolbox file per study.

A study is the runs of one dataset (data root) and ROI in SWEEP_DIR (searched recursively for
finished runs): their subjects' measured RDMs, recomputed as `entry.export` does, in one
rsatoolbox `RDMs` over the stimuli every subject saw (matched by stimulus id, sorted by it),
written as `study_<roi>.hdf5` (`study_<roi>_<k>.hdf5` when several data roots share a ROI).

Rows: per subject its measured RDM (rdm descriptors subject, roi, session = -1, kind =
measured), then, for RDM data with sessions, one row per session (session = 0, 1, ...). Runs of
several models of one subject share its measured RDM: it is written once. Pattern descriptors:
stimulus_id, image (the first subject's file name) and the stimuli's metadata columns.
descriptors: data_source, root, sweep; dissimilarity_measure: the run's metric, or `as
supplied` for RDM data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError


@dataclass
class _Subject:
    name: Any
    ids: np.ndarray  # (N,) str stimulus ids of its run's images
    stimuli: Any
    rdms: np.ndarray  # (1 + S, N(N-1)/2): the measured RDM, then its sessions (S >= 2)
    measure: str


def finished_runs(sweep: Path) -> list[Path]:
    """Run directories under `sweep` with metrics.json and predictions.npz (failed runs and
    unfinished ones left out), sorted."""
    return sorted(
        p.parent
        for p in Path(sweep).rglob("metrics.json")
        if (p.parent / "predictions.npz").is_file() and (p.parent / "run_config.yaml").is_file()
    )


def _subject(run: Path) -> tuple[tuple[str, str, str], _Subject]:
    from fmri_rdm.data.source import run_roi, run_subject
    from fmri_rdm.entry.export import load_run, recompute_run_rdm

    cfg, arrays, _ = load_run(run)
    stimuli, rdm, data = recompute_run_rdm(cfg, arrays["image_indices"])
    rows = [np.asarray(rdm, dtype=np.float64)[None]]
    if data.sessions is not None and len(data.sessions) > 1:
        rows.append(np.asarray(data.sessions, dtype=np.float64))
    measure = "as supplied" if data.kind == "rdm" else str(cfg.metric.name)
    study = (str(cfg.data.get("root") or cfg.data.source), run_roi(cfg), str(cfg.data.source))
    ids = np.asarray(stimuli.ids).astype(str)
    return study, _Subject(run_subject(cfg), ids, stimuli, np.concatenate(rows), measure)


def _study_rdms(subjects: list[_Subject], roi: str, facts: dict[str, str]) -> Any:
    """One RDMs over the stimuli all `subjects` saw, sorted by stimulus id."""
    from rsatoolbox.rdm import RDMs

    from fmri_rdm.data.rdm_files import sub_rdm

    shared = subjects[0].ids
    for s in subjects[1:]:
        shared = np.intersect1d(shared, s.ids)
    shared = np.sort(shared)
    if shared.size < 3:
        names = ", ".join(str(s.name) for s in subjects)
        raise DataError(
            f"ROI {roi}: subjects {names} share {shared.size} stimuli: a study file needs 3 or more"
        )
    values, subject, session = [], [], []
    for s in subjects:
        order = np.argsort(s.ids)
        rows = order[np.searchsorted(s.ids[order], shared)]
        values.append(sub_rdm(s.rdms, len(s.ids), rows))
        subject += [str(s.name)] * len(s.rdms)
        session += [-1, *range(len(s.rdms) - 1)]
    first = subjects[0]
    order = np.argsort(first.ids)
    rows = order[np.searchsorted(first.ids[order], shared)]
    patterns: dict[str, list[Any]] = {
        "stimulus_id": [str(i) for i in shared],
        "image": [Path(first.stimuli.paths[k]).name for k in rows],
    }
    for column, column_values in first.stimuli.metadata.items():
        key = f"meta_{column}" if column in patterns else str(column)
        patterns[key] = [column_values[k] for k in rows]
    n = len(subject)
    return RDMs(
        np.concatenate(values),
        dissimilarity_measure=first.measure,
        descriptors=facts,
        rdm_descriptors={
            "subject": subject,
            "roi": [roi] * n,
            "session": session,
            "kind": ["measured"] * n,
        },
        pattern_descriptors=patterns,
    )


def export_study(sweep: Path, out_dir: Path | None = None) -> list[Path]:
    """One file per (data root, ROI) of the finished runs under `sweep` (module docstring);
    returns the files written. DataError when `sweep` holds no finished run."""
    from fmri_rdm.entry.export import _save

    sweep = Path(sweep)
    runs = finished_runs(sweep)
    if not runs:
        raise DataError(f"{sweep} holds no finished run (metrics.json with predictions.npz)")
    studies: dict[tuple[str, str, str], dict[str, _Subject]] = {}
    for run in runs:
        study, subject = _subject(run)
        studies.setdefault(study, {}).setdefault(str(subject.name), subject)
    out = Path(out_dir) if out_dir is not None else sweep / "export"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    per_roi: dict[str, int] = {}
    for (root, roi, source), subjects in studies.items():
        facts = {"data_source": source, "root": root, "sweep": str(sweep)}
        rdms = _study_rdms(list(subjects.values()), roi, facts)
        k = per_roi.get(roi, 0)
        per_roi[roi] = k + 1
        name = f"study_{roi}.hdf5" if k == 0 else f"study_{roi}_{k}.hdf5"
        written.append(_save(rdms, out / name))
    return written


__all__ = ["export_study", "finished_runs"]
