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

from fmri_rdm.data import algonauts
from fmri_rdm.data.images import COLOR_NAMES, DEFAULT_COLORS, dominant_colors, load_images
from fmri_rdm.data.root import data_root
from fmri_rdm.errors import ConfigError
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa.pairs import select_pairs

log = logging.getLogger(__name__)


@dataclass
class Inputs:
    """What every fold of a run reads.

    table: (N, D) float32 embeddings, or (N, C, H, W) uint8 images for the CNN.
    responses: (N, V) float32 measured voxel responses (ROI-masked, both hemispheres).
    rdm / rdm_noise_free / baseline_rdm: condensed (N(N-1)/2,) float32.
    i, j: (P,) int pair indices (i < j); y: (P,) float32 RDM values of those pairs.
    """

    root: Path
    subject: int
    roi: str
    metric: str
    image_indices: np.ndarray
    paths: list[Path]
    responses: np.ndarray
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

    @property
    def n_images(self) -> int:
        return len(self.image_indices)

    @property
    def n_voxels(self) -> int:
        return int(self.responses.shape[1])


def _responses(cfg: DictConfig, root: Path, subject: int, images: np.ndarray) -> tuple:
    """(images kept, measured and (synthetic only) noise-free responses of them): images with
    NaN/inf responses are left out by the loader (with a warning naming them)."""
    roi = str(cfg.roi.name)
    standardize = bool(cfg.data.standardize)
    measured, kept = algonauts.load_responses_kept(
        root, subject, roi, standardize=standardize, images=images
    )
    images = images[kept]  # the image list, paths and embeddings follow the kept rows
    noise_free = None
    if cfg.data.source == "synthetic":
        from fmri_rdm.data.synthetic import has_noise_free, load_noise_free_responses

        if has_noise_free(root, subject):
            noise_free = load_noise_free_responses(
                root, subject, roi, standardize=standardize, images=images
            )
    return images, measured, noise_free


def model_table(cfg: DictConfig, paths: list[Path]) -> tuple[np.ndarray, dict[str, Any]]:
    """(table, description) of the backend the model reads (`embeddings.embedder_for`):
    float32 (N, D) embeddings (cached), or uint8 (N, C, H, W) pixels for the Siamese CNN."""
    from fmri_rdm.embeddings import build_embeddings, embedder_for

    embedder = embedder_for(cfg)
    info = dict(embedder.describe())  # the embedder itself warns loudly about random weights
    return build_embeddings(embedder, paths, Path(cfg.paths.cache_dir)), info


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


def run_images(cfg: DictConfig, root: Path, subject: int) -> tuple[np.ndarray, list[Path]]:
    """(the run's image indices, every training image path): all training images, the first
    `data.n_images`, or a seeded subset."""
    all_paths = algonauts.image_paths(root, subject, "train")
    images = algonauts.select_images(
        len(all_paths),
        cfg.data.n_images,
        random_subset=bool(cfg.data.random_subset),
        seed=int(cfg.seed),
    )
    return images, all_paths


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


def prepare_inputs(cfg: DictConfig) -> Inputs:
    """Load, compute and select everything a run needs (timed per stage)."""
    metric = str(cfg.metric.name)
    if metric not in rdm_lib.METRICS:
        raise ConfigError(f"metric.name={metric!r} is not one of {', '.join(rdm_lib.METRICS)}")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    root = data_root(cfg)
    subject = int(cfg.subject.id)
    images, all_paths = run_images(cfg, root, subject)
    images, measured, noise_free = _responses(cfg, root, subject, images)
    paths = [all_paths[k] for k in images]  # the images the loader kept
    seconds["data"] = time.perf_counter() - start

    start = time.perf_counter()
    rdm = rdm_lib.compute_rdm(measured, metric)
    rdm_true = rdm_lib.compute_rdm(noise_free, metric) if noise_free is not None else None
    seconds["rdm"] = time.perf_counter() - start

    start = time.perf_counter()
    table, info = model_table(cfg, paths)
    baseline = _baseline_rdm(table, metric)
    seconds["embeddings"] = time.perf_counter() - start

    start = time.perf_counter()
    labels, i, j = _run_pairs(cfg, rdm, paths, metric)
    y = rdm_lib.rdm_values(rdm, i, j, len(paths))
    seconds["pairs"] = time.perf_counter() - start
    log.info(
        "subject %d, ROI %s: %d images, %d voxels, %d pairs (%s)",
        subject,
        cfg.roi.name,
        len(paths),
        measured.shape[1],
        len(i),
        cfg.distribution.name,
    )
    return Inputs(
        root=root,
        subject=subject,
        roi=str(cfg.roi.name),
        metric=metric,
        image_indices=images,
        paths=paths,
        responses=measured,
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
    )
