"""What a finished run leaves in its directory: predictions.npz, metrics.json and plots/."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fmri_rdm.pipeline.folds import FoldResult
from fmri_rdm.pipeline.inputs import Inputs
from fmri_rdm.pipeline.task import Task
from fmri_rdm.reporting.results import RunMetrics
from fmri_rdm.runtime.artifacts import write_json, write_npz


def prediction_arrays(inputs: Inputs, results: list[FoldResult]) -> dict[str, np.ndarray]:
    """predictions.npz: the run's image indices, their stimulus ids (`stimulus_ids`, str; and
    NSD ids when the file names carry them), and per fold its test pairs, targets and
    predictions (`fold<k>_i`, `fold<k>_j`, `fold<k>_target`, `fold<k>_prediction`: calibrated,
    float64), and for a calibrated model the raw ones (`fold<k>_raw`), which the correlations
    are scored on."""
    arrays: dict[str, np.ndarray] = {"image_indices": inputs.image_indices}
    ids = nsd_ids_or_none(inputs.paths)
    if ids is not None:  # matches images across subjects (`compare --across subject`)
        arrays["nsd_ids"] = ids
    if len(inputs.stimulus_ids):  # what `compare --across subject` matches subjects by
        arrays["stimulus_ids"] = np.asarray(inputs.stimulus_ids).astype(str)
    for res in results:
        f = res.scores["fold"]
        arrays |= {f"fold{f}_i": res.i, f"fold{f}_j": res.j}
        arrays |= {f"fold{f}_target": res.target, f"fold{f}_prediction": res.prediction}
        if res.raw is not None:
            arrays[f"fold{f}_raw"] = res.raw
    return arrays


def nsd_ids_or_none(paths: list[Path]) -> np.ndarray | None:
    """(N,) NSD ids of the images, None when a file name has none (images of other sets)."""
    from fmri_rdm.errors import DataError
    from fmri_rdm.stats.ceiling import nsd_ids

    try:
        return nsd_ids(paths)
    except DataError:
        return None


def sort_labels(inputs: Inputs, sort_by: str | None) -> list[str] | None:
    """The metadata column `plots.sort_by` names, one value per run stimulus (None when not
    asked); ConfigError naming the columns there are."""
    if sort_by is None:
        return None
    if sort_by not in inputs.metadata:
        from fmri_rdm.errors import ConfigError

        have = ", ".join(inputs.metadata) or "none (add columns to stimuli.tsv)"
        raise ConfigError(f"plots.sort_by={sort_by!r} is no metadata column; columns: {have}")
    return list(inputs.metadata[sort_by])


def write_outputs(
    out: Path,
    inputs: Inputs,
    results: list[FoldResult],
    summary: RunMetrics,
    task: Task,
    sort_by: str | None = None,
) -> dict[str, Path]:
    """Write predictions.npz and metrics.json, then the plots (returned by name)."""
    from fmri_rdm.plots import save_run_plots

    metrics = summary.to_json()
    write_npz(out / "predictions.npz", prediction_arrays(inputs, results))
    write_json(out / "metrics.json", metrics)
    first = results[0]
    histories = [r.history for r in results if r.history]
    fold = int(metrics["folds"][0].get("fold", 0)) if metrics.get("folds") else 0
    n_folds = max(1, int(metrics.get("k_folds") or 1))
    return save_run_plots(
        out / "plots",
        rdm=inputs.rdm,
        n_images=inputs.n_images,
        metric=inputs.metric,
        paths=inputs.paths,
        metrics=metrics,
        histories=histories or None,
        color_labels=inputs.color_labels,
        colors=inputs.colors,
        score=task.headline,
        sort_labels=sort_labels(inputs, sort_by),
        rdm_title=(
            f"Measured RDM · subject {inputs.subject} · ROI {inputs.roi} "
            f"({'as supplied' if inputs.kind == 'rdm' else inputs.metric})"
        ),
        ids=[str(i) for i in inputs.stimulus_ids] if len(inputs.stimulus_ids) else None,
        supplied=inputs.kind == "rdm",
        scatter_fold=f"fold {fold + 1} of {n_folds} (test images unseen in training)",
        images=inputs.has_images,
        **task.scatter(first),
    )
