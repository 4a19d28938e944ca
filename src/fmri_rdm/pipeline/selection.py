"""Which folds a run trains, the folds themselves, and the fold a `ckpt_path` resumes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.pipeline.settings import EvaluationSettings, RunSettings
from fmri_rdm.rsa.splits import ImageSplit, image_disjoint_folds, image_disjoint_split


def selected_folds(evaluation: EvaluationSettings) -> list[int]:
    """The folds a run trains: `evaluation.folds`, or all of them."""
    n_folds = max(1, evaluation.k_folds)
    chosen = evaluation.folds
    selected = list(range(n_folds)) if chosen is None else list(chosen)
    unknown = [f for f in selected if not 0 <= f < n_folds]
    if unknown or not selected:
        what = f"folds {unknown} do not exist" if unknown else "no fold selected"
        raise ConfigError(
            f"evaluation.folds={selected}: {what} with evaluation.k_folds={evaluation.k_folds}; "
            f"choose among 0..{n_folds - 1} (or null for all)"
        )
    return selected


def make_folds(n_images: int, evaluation: EvaluationSettings, seed: int) -> list[ImageSplit]:
    """K image-disjoint folds, or one image-disjoint train/test split when k_folds == 1."""
    k = evaluation.k_folds
    if not 1 <= k <= max(1, n_images // 2):  # a test fold needs 2 images for one pair
        raise ConfigError(
            f"evaluation.k_folds={k} is impossible with {n_images} images: use 1 (one "
            f"train/test split with evaluation.test_size) or 2..{n_images // 2} folds"
        )
    if k == 1:
        return [image_disjoint_split(n_images, evaluation.test_size, seed=seed)]
    return image_disjoint_folds(n_images, k, seed=seed)


def resume_fold(
    settings: RunSettings, learner_cls: Any, selected: list[int]
) -> tuple[int, Path] | None:
    """(fold, checkpoint) that `ckpt_path` resumes: the fold in the file name
    (`fold<k>-last.ckpt`), or the only fold the run trains."""
    path = settings.ckpt_path
    if path is None:
        return None
    if not learner_cls.resumable:
        raise ConfigError(
            f"ckpt_path resumes neural training; model={settings.model_name} has no checkpoints"
        )
    if not path.is_file():
        raise DataError(
            f"checkpoint ckpt_path={path} not found: give a checkpoints/fold<k>-last.ckpt "
            "of the interrupted run"
        )
    named = re.match(r"fold(\d+)-", path.name)
    if named is None and len(selected) != 1:
        raise ConfigError(
            f"cannot tell which fold ckpt_path={path} belongs to: name it fold<k>-....ckpt "
            "or run that fold only with evaluation.folds=[k]"
        )
    fold = int(named.group(1)) if named else selected[0]
    if fold not in selected:
        raise ConfigError(
            f"ckpt_path={path} resumes fold {fold}, which this run does not train "
            f"(folds {selected}): fix evaluation.folds or evaluation.k_folds"
        )
    return fold, path
