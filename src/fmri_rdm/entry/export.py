"""A run's RDMs as rsatoolbox `RDMs` files, to continue the analysis there.

    python -m fmri_rdm.export RUN [--format rsatoolbox] [--out DIR]

writes into DIR (default RUN/export/), as hdf5 (`rsatoolbox.rdm.RDMs.save`):

    measured_rdm.hdf5    one RDM: the run's measured RDM over all N images of the run
    sessions_rdms.hdf5   RDM data with sessions: one RDM per session (rdm descriptor
                         `session`), over the same images; the measured RDM is their mean
    fold{k}_rdms.hdf5    two RDMs over fold k's test images: the model's predictions
                         (kind=predicted) and the measured RDM of the same pairs (kind=measured)

`python -m fmri_rdm.export SWEEP_DIR --across subject` writes one file per study instead: the
measured RDMs of every subject of each ROI in the sweep (`entry.export_study`).

Exactness: the measured RDM is recomputed from the run's data with the config the run recorded
(`run_config.yaml`: data root (a synthetic set regenerates identically from its seed), subject,
ROI, image selection, standardisation, metric), by the calls `run.inputs.prepare_inputs` makes;
it must give the run's image list (`predictions.npz` image_indices) and every fold's recorded
test targets (float32, to 1e-6; labels for a classifier), else DataError: the data changed
since the run. Predictions are `predictions.npz`'s float32 values (a classifier's decision
values, > 0 = dissimilar); pairs among a fold's test images that the run did not predict (a
`distribution` other than `all`) are NaN.

Descriptors. pattern: image (file name), stimulus_id, nsd_id (Algonauts data only), index
(row in the run's image list), fold (the fold whose test set holds the image; -1 for none),
and the stimuli's metadata columns (folder data: stimuli.tsv's other columns, e.g. category;
a column named like one of those is written as `meta_<name>`). rdm: subject, roi, model,
metric, fold (-1: the whole run), kind (and session in sessions_rdms.hdf5). descriptors: task,
data_source, run. dissimilarity_measure: the run's metric (correlation = 1 - Pearson r, or
euclidean), or `as supplied` for RDM data. Read back with
`rsatoolbox.rdm.load_rdm(str(path))` (a str: it tells the format by the suffix).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError, one_line

log = logging.getLogger(__name__)

FORMATS = ("rsatoolbox",)
MEASURED_FILE = "measured_rdm.hdf5"
SESSIONS_FILE = "sessions_rdms.hdf5"
FOLD_FILE = "fold{fold}_rdms.hdf5"
_TOLERANCE = 1e-6


def load_run(run_dir: Path) -> tuple[Any, dict[str, np.ndarray], dict[str, Any]]:
    """(resolved config, predictions.npz arrays, metrics.json) of a finished run; DataError
    with one line when the directory is no run, the run failed, or a file is missing."""
    from omegaconf import OmegaConf

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory {run_dir} does not exist")
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"{run_dir} holds no readable metrics.json ({one_line(err)})") from err
    if metrics.get("status") == "failed":
        error = one_line(metrics.get("error") or "unknown error")
        raise DataError(f"run {run_dir} failed ({error}): it has no RDMs to export")
    for name in ("run_config.yaml", "predictions.npz"):
        if not (run_dir / name).is_file():
            raise DataError(f"{run_dir} is not a finished run: {name} is missing")
    with np.load(run_dir / "predictions.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return OmegaConf.load(run_dir / "run_config.yaml"), arrays, metrics


def recompute_run_rdm(cfg: Any, image_indices: np.ndarray) -> tuple[Any, np.ndarray, Any]:
    """(the run's stimuli (N,), condensed float32 RDM of them, the run's `SubjectData`: its
    kind, and the RDM data's sessions (S, N(N-1)/2)), recomputed from its data through the
    run's data source (`pipeline.inputs.load_run_data`)."""
    from fmri_rdm.data.measured import measured_rdm
    from fmri_rdm.data.source import run_roi, run_subject, source_of
    from fmri_rdm.pipeline.inputs import load_run_data

    source = source_of(cfg)
    images, stimuli, data = load_run_data(cfg, source, run_subject(cfg), run_roi(cfg))
    if not np.array_equal(images, image_indices):
        raise DataError(
            f"the images under {source.root} are not those the run used ({len(images)} selected "
            f"now, {len(image_indices)} then): the data changed since the run"
        )
    return stimuli, measured_rdm(data, str(cfg.metric.name)), data


def _fold_numbers(arrays: dict[str, np.ndarray]) -> list[int]:
    keys = [k for k in arrays if k.startswith("fold") and k.endswith("_prediction")]
    return sorted(int(k[len("fold") : -len("_prediction")]) for k in keys)


def _check_targets(rdm: np.ndarray, n: int, arrays: dict, fold: int, cfg: Any, task: str) -> None:
    """DataError unless the recomputed RDM gives the fold's recorded test targets."""
    from fmri_rdm.rsa import rdm as rdm_lib

    i, j, target = arrays[f"fold{fold}_i"], arrays[f"fold{fold}_j"], arrays[f"fold{fold}_target"]
    values = rdm_lib.rdm_values(rdm, i, j, n)
    if task == "classification":
        values = rdm_lib.binarize_rdm(rdm, str(cfg.metric.name))[rdm_lib.condensed_index(i, j, n)]
    if not np.allclose(values, target, rtol=0, atol=_TOLERANCE, equal_nan=True):
        raise DataError(
            f"the RDM recomputed from the run's data differs from fold {fold}'s recorded "
            "targets: the data changed since the run"
        )


def fold_splits(n: int, evaluation: Any, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) images of each fold: the run's own rule (`run.selection.make_folds`)."""
    from fmri_rdm.pipeline.selection import make_folds

    return list(make_folds(n, evaluation, seed))  # reads k_folds and test_size only


def _test_images(cfg: Any, n: int, folds: list[int], arrays: dict) -> dict[int, np.ndarray]:
    """Each exported fold's test images (the run's own fold rule), checked against its pairs."""
    splits = fold_splits(n, cfg.evaluation, int(cfg.seed))
    out = {}
    for f in folds:
        test = np.sort(splits[f][1])
        used = np.union1d(arrays[f"fold{f}_i"], arrays[f"fold{f}_j"])
        if not np.isin(used, test).all():
            raise DataError(f"fold {f}'s recorded pairs are not among its test images")
        out[f] = test
    return out


def _rdms(values: np.ndarray, stimuli: Any, index: np.ndarray, fold_of: np.ndarray,
          rdm_desc: dict[str, list], facts: dict[str, Any]) -> Any:  # fmt: skip
    """rsatoolbox RDMs of `values` (K, M(M-1)/2) over the images `index` (M,) of the run."""
    from rsatoolbox.rdm import RDMs

    from fmri_rdm.stats.ceiling import nsd_ids

    names = [Path(stimuli.paths[k]).name for k in index]
    patterns: dict[str, list[Any]] = {
        "image": names,
        "stimulus_id": [str(stimuli.ids[k]) for k in index],
    }
    if facts["data_source"] in ("algonauts", "synthetic"):  # NSD file names carry the NSD id
        patterns["nsd_id"] = nsd_ids(names).tolist()
    patterns |= {"index": [int(k) for k in index], "fold": [int(f) for f in fold_of[index]]}
    for column, column_values in stimuli.metadata.items():  # folder data: stimuli.tsv's
        key = f"meta_{column}" if column in patterns else str(column)
        patterns[key] = [column_values[k] for k in index]
    return RDMs(
        np.asarray(values, dtype=np.float64),
        dissimilarity_measure=facts["measure"],
        descriptors={k: facts[k] for k in ("task", "data_source", "run")},
        rdm_descriptors={
            **{k: [facts[k]] * len(values) for k in ("subject", "roi", "model", "metric")},
            **rdm_desc,
        },
        pattern_descriptors=patterns,
    )


def _save(rdms: Any, path: Path) -> Path:
    """Write hdf5 next to `path` first, then rename: a reader never sees half a file."""
    part = path.with_name(path.name + ".part")
    rdms.save(str(part), file_type="hdf5", overwrite=True)
    os.replace(part, path)
    return path


def export_rsatoolbox(run_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """Write the run's measured RDM and each fold's predicted / measured test RDMs (module
    docstring); returns the files written."""
    from fmri_rdm.data.source import run_roi, run_subject
    from fmri_rdm.rsa import rdm as rdm_lib

    run_dir = Path(run_dir)
    cfg, arrays, metrics = load_run(run_dir)
    task = str(metrics.get("task") or "regression")
    paths, rdm, data = recompute_run_rdm(cfg, arrays["image_indices"])  # the run's Stimuli
    sessions = data.sessions
    n, folds = len(paths), _fold_numbers(arrays)
    for f in folds:
        _check_targets(rdm, n, arrays, f, cfg, task)
    tests = _test_images(cfg, n, folds, arrays)
    fold_of = np.full(n, -1, dtype=np.int64)
    for f, test in tests.items():
        fold_of[test] = f
    facts = {
        "task": task,
        "data_source": str(cfg.data.source),
        "run": str(run_dir),
        "subject": run_subject(cfg),
        "roi": run_roi(cfg),
        "model": str(cfg.model.name),
        "metric": str(cfg.metric.name),
        # RDM data: the values are the data's own dissimilarities, of a metric the run does
        # not know (the run's metric only scores them)
        "measure": "as supplied" if data.kind == "rdm" else str(cfg.metric.name),
    }
    out = Path(out_dir) if out_dir is not None else run_dir / "export"
    out.mkdir(parents=True, exist_ok=True)
    whole = _rdms(
        rdm[None], paths, np.arange(n), fold_of, {"fold": [-1], "kind": ["measured"]}, facts
    )
    written = [_save(whole, out / MEASURED_FILE)]
    if sessions is not None and len(sessions) > 1:  # RDM data: each session, not only the mean
        k = len(sessions)
        every: dict[str, list[Any]] = {
            "fold": [-1] * k, "kind": ["measured"] * k, "session": list(range(k))
        }  # fmt: skip
        each = _rdms(sessions, paths, np.arange(n), fold_of, every, facts)
        written.append(_save(each, out / SESSIONS_FILE))
    for f, test in tests.items():
        m = test.size
        pos = np.full(n, -1, dtype=np.int64)
        pos[test] = np.arange(m)
        i, j = arrays[f"fold{f}_i"], arrays[f"fold{f}_j"]
        predicted = np.full(m * (m - 1) // 2, np.nan)
        predicted[rdm_lib.condensed_index(pos[i], pos[j], m)] = arrays[f"fold{f}_prediction"]
        a, b = np.triu_indices(m, 1)
        measured = rdm_lib.rdm_values(rdm, test[a], test[b], n)
        desc: dict[str, list[Any]] = {"fold": [f, f], "kind": ["predicted", "measured"]}
        rdms = _rdms(np.stack([predicted, measured]), paths, test, fold_of, desc, facts)
        written.append(_save(rdms, out / FOLD_FILE.format(fold=f)))
    return written
