"""A run's inputs: responses, brain RDM, the model's input table and the pair set.

Everything a fold needs is computed once here; the folds only index into it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from fmri_rdm.data.images import dominant_colors, load_images
from fmri_rdm.data.measured import distance_settings, measured_halves, measured_rdm
from fmri_rdm.data.root import data_root as data_root  # re-exported: callers import it here
from fmri_rdm.data.source import (
    DataSource,
    Stimuli,
    Subject,
    SubjectData,
    run_roi,
    run_subject,
    select_rows,
    source_of,
)
from fmri_rdm.errors import ConfigError
from fmri_rdm.pipeline.settings import RunSettings
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa.pairs import COLOR_NAMES, DEFAULT_COLORS, select_pairs

log = logging.getLogger(__name__)


@dataclass
class Inputs:
    """What every fold of a run reads.

    table: (N, D) float32 embeddings, or (N, C, H, W) uint8 images for the CNN.
    responses: (N, V) float32 measured responses (voxels, neurons, ...), None for RDM data.
    sessions: (S, N(N-1)/2) float64 per-session RDMs of RDM data; for trial data the RDMs
    of the two halves of the partitions with the run's method (the split-half ceiling); None
    for other responses.
    noise / per_partition: the trial metrics' noise estimate (metric.noise, .per_partition);
    trials: facts about trial-level data (n_trials, n_partitions, partition column) or None.
    rdm / rdm_noise_free / baseline_rdm: condensed (N(N-1)/2,) float32; for RDM data, rdm is
    the mean over sessions.
    i, j: (P,) int pair indices (i < j); y: (P,) float32 RDM values of those pairs.
    stimulus_ids: (N,) str ids of the run's stimuli (what matches subjects).
    """

    root: Path
    subject: Subject
    roi: str
    metric: str
    image_indices: np.ndarray
    paths: list[Path]
    responses: np.ndarray | None
    rdm: np.ndarray
    rdm_noise_free: np.ndarray | None
    table: np.ndarray
    baseline_rdm: np.ndarray
    i: np.ndarray
    j: np.ndarray
    y: np.ndarray
    embedder_info: dict[str, Any]
    color_labels: np.ndarray | None = None
    colors: tuple[str, ...] = DEFAULT_COLORS
    seconds: dict[str, float] = field(default_factory=dict)
    stimulus_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    sessions: np.ndarray | None = None
    metadata: dict[str, list[str]] = field(default_factory=dict)
    source: DataSource | None = None
    data_file: Path | None = None
    time: Any = None  # pipeline.time_inputs.TimeInputs of time-resolved data, else None
    has_images: bool = True  # False: stimuli without image files (paths are names only)
    noise: str = "identity"
    per_partition: bool = False
    trials: dict[str, Any] | None = None

    @property
    def n_images(self) -> int:
        return len(self.image_indices)

    @property
    def n_voxels(self) -> int | None:
        return None if self.responses is None else int(self.responses.shape[1])

    @property
    def kind(self) -> str:
        """`responses` or `rdm` (RDM-only data: no encoding baseline, no read-out)."""
        return "rdm" if self.responses is None else "responses"


def load_run_data(
    cfg: DictConfig, source: DataSource, subject: Subject, roi: str
) -> tuple[np.ndarray, Stimuli, SubjectData]:
    """(the run's rows among the subject's stimuli, those stimuli, their data): all stimuli,
    the first `data.n_images`, or a seeded subset; stimuli the loader cannot use (NaN/inf
    responses) are left out with a warning naming them."""
    stimuli = source.stimuli(subject)
    rows = select_rows(
        len(stimuli),
        cfg.data.n_images,
        random_subset=bool(cfg.data.random_subset),
        seed=int(cfg.seed),
    )
    times = getattr(source, "times", None)
    if times is not None and times(subject) is not None:  # time-resolved: the run's mean
        from fmri_rdm.data.timed import averaged, load_timed

        timed = load_timed(source, subject, roi, rows=rows)  # type: ignore[arg-type]
        data = averaged(timed, bool(cfg.data.standardize))
    else:
        data = source.load(subject, roi, rows=rows, standardize=bool(cfg.data.standardize))
    rows = rows[data.kept]  # the image list, paths and embeddings follow the kept rows
    return rows, stimuli.take(rows), data


def model_table(cfg: DictConfig, paths: list[Path]) -> tuple[np.ndarray, dict[str, Any]]:
    """(table, description) of the backend the model reads (`embeddings.embedder_for`):
    float32 (N, D) embeddings (cached), or uint8 (N, C, H, W) pixels for the Siamese CNN."""
    from fmri_rdm.embeddings import build_embeddings, embedder_for

    embedder = embedder_for(cfg)
    info = dict(embedder.describe())  # the embedder itself warns loudly about random weights
    return build_embeddings(embedder, paths, Path(cfg.paths.cache_dir)), info


STIMULUS_INPUT = "stimuli"  # model.input of models that read stimulus identities, not images


def stimulus_table(source: DataSource, ids: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """(N, 1) float32 position of each stimulus id among all the source's stimuli (the table of
    `model.input: stimuli` models: candidate RDMs are indexed by it), and its description."""
    everything = getattr(source, "all_stimuli", None)
    if everything is None:
        raise ConfigError(
            f"model.input={STIMULUS_INPUT} (candidate RDM models) needs data=folder, not "
            f"{source.name}"
        )
    position = {str(v): k for k, v in enumerate(everything().ids)}
    table = np.asarray([position[str(i)] for i in ids], dtype=np.float32)[:, None]
    return table, {"backend": STIMULUS_INPUT, "dim": 1}


def _baseline_rdm(table: np.ndarray, metric: str) -> np.ndarray:
    """Zero-training baseline: the RDM of the raw model inputs (embeddings or pixels)."""
    from fmri_rdm.embeddings import embedding_rdm

    return embedding_rdm(table.reshape(len(table), -1).astype(np.float32), metric)


def _color_labels(cfg: DictConfig, paths: list[Path]) -> np.ndarray:
    # the original student project's rule classified 128-px images; at 64 px some labels flip
    # at the threshold
    images = load_images(paths, size=int(cfg.distribution.color_image_size))
    threshold = float(cfg.distribution.threshold)
    labels = dominant_colors(images, threshold=threshold)
    wanted = [str(c) for c in cfg.distribution.colors]
    counts = {c: int(np.sum(labels == COLOR_NAMES.index(c))) for c in wanted if c in COLOR_NAMES}
    if counts and min(counts.values()) < 2:  # unknown colour names are select_pairs' to report
        found = ", ".join(f"{c}={n}" for c, n in counts.items())
        raise ConfigError(
            f"distribution=colors needs at least 2 images dominated by each of "
            f"{' and '.join(wanted)} (>= {threshold:.0%} of the pixels) but found {found} among "
            f"{len(paths)} images: use more images (data.n_images), lower "
            "distribution.threshold or choose other distribution.colors"
        )
    return labels


def _run_pairs(
    cfg: DictConfig, rdm: np.ndarray, paths: list[Path], metric: str
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(colour labels or None, i, j): the pairs `distribution` chooses."""
    dist = cfg.distribution
    labels = _color_labels(cfg, paths) if dist.name == "colors" else None
    i, j = select_pairs(
        str(dist.name),
        rdm,
        len(paths),
        metric=metric,
        labels=labels,
        n_per_image=int(dist.n_per_image),
        colors=tuple(dist.colors),  # select_pairs checks there are two
        mid_band=float(dist.mid_band),
        mid_quantiles=tuple(dist.mid_quantiles),
        seed=int(cfg.seed),
    )
    return labels, i, j


def _finite_run_pairs(
    cfg: DictConfig, rdm: np.ndarray, paths: list[Path], metric: str
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """`_run_pairs` and their targets (P,); pairs NaN in every session (RDM data; rdm_files
    warned) are chosen from as median pairs, then left out."""
    finite = np.isfinite(rdm)
    chooser = rdm if finite.all() else np.where(finite, rdm, np.nanmedian(rdm))
    labels, i, j = _run_pairs(cfg, chooser, paths, metric)
    y = rdm_lib.rdm_values(rdm, i, j, len(paths))
    if not finite.all():
        kept = np.isfinite(y)
        i, j, y = i[kept], j[kept], y[kept]
    return labels, i, j, y


def prepare_inputs(
    cfg: DictConfig, source: DataSource | None = None, settings: RunSettings | None = None
) -> Inputs:
    """Load, compute and select everything a run needs (timed per stage); `source`: the run's
    data source and `settings` its parsed settings, when the caller has them (a script may
    pass the config alone)."""
    metric, noise, per_partition = distance_settings(cfg.metric)
    if metric not in rdm_lib.MEASURED_METRICS:
        raise ConfigError(
            f"metric.name={metric!r} is not one of {', '.join(rdm_lib.MEASURED_METRICS)}"
        )
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    source = source if source is not None else source_of(cfg)
    # a script's config alone may lack Hydra's run directory: then only subject and ROI are read
    subject, roi = (
        (settings.subject, settings.roi) if settings else (run_subject(cfg), run_roi(cfg))
    )
    images, stimuli, data = load_run_data(cfg, source, subject, roi)
    paths = stimuli.paths
    seconds["data"] = time.perf_counter() - start

    start = time.perf_counter()
    rdm = measured_rdm(data, metric, noise, per_partition=per_partition)
    sessions = _session_rdms(cfg, data, metric, noise, per_partition)
    noise_free = data.noise_free
    rdm_true = rdm_lib.compute_rdm(noise_free, metric) if noise_free is not None else None
    seconds["rdm"] = time.perf_counter() - start

    start = time.perf_counter()
    table, info, baseline = _input_table(cfg, source, stimuli, metric, rdm)
    seconds["embeddings"] = time.perf_counter() - start

    start = time.perf_counter()
    labels, i, j, y = _finite_run_pairs(cfg, rdm, paths, metric)
    seconds["pairs"] = time.perf_counter() - start
    timed = _timed_inputs(cfg, data, metric, seconds)
    _log_inputs(data, subject, roi, len(paths), len(i), str(cfg.distribution.name))
    return Inputs(
        root=source.root,
        subject=subject,
        roi=roi,
        metric=metric,
        image_indices=images,
        paths=paths,
        responses=data.responses,
        rdm=rdm,
        rdm_noise_free=rdm_true,
        table=table,
        baseline_rdm=baseline,
        i=i,
        j=j,
        y=y,
        embedder_info=info,
        color_labels=labels,
        colors=tuple(str(c) for c in cfg.distribution.colors),
        seconds=seconds,
        stimulus_ids=stimuli.ids,
        sessions=sessions,
        metadata=stimuli.metadata,
        source=source,
        data_file=data.file,
        time=timed,
        has_images=stimuli.has_images,
        noise=noise,
        per_partition=per_partition,
        trials=_trials_facts(data),
    )


def _trials_facts(data: SubjectData) -> dict[str, Any] | None:
    """metrics.json's facts about trial-level data (None for other data)."""
    t = data.trials
    if t is None:
        return None
    return {
        "n_trials": int(t.x.shape[0]),
        "n_partitions": int(np.unique(t.partition).size),
        "partition": t.column,
    }


def _log_inputs(data: SubjectData, subject: Any, roi: str, n: int, pairs: int, dist: str) -> None:
    facts = _trials_facts(data)
    trials = (
        ""
        if facts is None
        else (f" from {facts['n_trials']} trials in {facts['n_partitions']} {facts['partition']}s")
    )
    what = (
        f"{data.responses.shape[1]} units{trials}"
        if data.responses is not None
        else f"RDMs of {len(data.sessions) if data.sessions is not None else 0} session(s)"
    )
    log.info("subject %s, ROI %s: %d images, %s, %d pairs (%s)", subject, roi, n, what, pairs, dist)


def _timed_inputs(cfg: DictConfig, data: SubjectData, metric: str, seconds: dict) -> Any:
    """The per-window RDMs of time-resolved data (`evaluation.time`), None without a time axis;
    timed in `seconds["time_rdms"]`."""
    if data.timed is None:
        return None
    from fmri_rdm.pipeline.time_inputs import time_inputs

    start = time.perf_counter()
    window = cfg.evaluation.get("time") or {}
    timed = time_inputs(data.timed, window, metric, bool(cfg.data.standardize))
    seconds["time_rdms"] = time.perf_counter() - start
    return timed


def _input_table(
    cfg: DictConfig, source: DataSource, stimuli: Any, metric: str, rdm: np.ndarray
) -> tuple[np.ndarray, dict[str, Any], np.ndarray]:
    """(the model's input table, its description, the zero-training baseline RDM): stimulus
    positions (candidate RDMs: no embeddings, a zero baseline), positions beside embeddings,
    or embeddings / pixels (`model.input`)."""
    reads = cfg.model.get("input")
    if reads == STIMULUS_INPUT:  # no embeddings: no zero-training baseline
        table, info = stimulus_table(source, stimuli.ids)
        return table, info, np.zeros_like(rdm, dtype=np.float32)
    embedded, info = model_table(cfg, stimuli.paths)
    baseline = _baseline_rdm(embedded, metric)
    if reads == f"{STIMULUS_INPUT}+embeddings":  # positions, then embeddings
        positions = stimulus_table(source, stimuli.ids)[0]
        return np.hstack([positions, embedded.astype(np.float32)]), info, baseline
    return embedded, info, baseline


def _session_rdms(
    cfg: DictConfig, data: SubjectData, metric: str, noise: str, per_partition: bool
) -> np.ndarray | None:
    """The RDMs the within-subject ceiling compares: the sessions of RDM data, or for trial data
    the measured RDMs of two halves of the partitions (same method), else None."""
    if data.sessions is not None or data.trials is None:
        return data.sessions
    standardize = bool(cfg.data.standardize)
    return measured_halves(
        data, metric, noise, per_partition=per_partition, standardize=standardize
    )
