"""Checks that answer a user's data-path, ROI and settings mistakes in about a second.

`check_run_config(cfg)` runs before the experiment imports torch, Lightning or wandb and before
any logger starts (those take 5-20 s): a missing or wrong `data.root`, a subject without a
folder, an unknown ROI name. It reads directory entries only, never the data. Synthetic data
(`data=synthetic`) is generated on first use, so its folder is not required to exist.
The messages are the ones the loaders raise later for the same mistakes.
"""

from __future__ import annotations

from typing import Any

from fmri_rdm.data.source import run_roi, run_subject, source_class
from fmri_rdm.errors import ConfigError


def check_settings(cfg: Any) -> None:
    """The run's own settings, checked before the experiment module (and with it Lightning,
    5-10 s) is imported: evaluation modes, folds, and the model's keys against its learner's
    schema (a pair network's module imports torch, ~1-3 s, but not Lightning or a logger).

    The messages are the ones the experiment raises later for the same mistakes."""
    from fmri_rdm.models.calibration import calibration_mode
    from fmri_rdm.models.registry import learner_class
    from fmri_rdm.pipeline.selection import make_folds, selected_folds
    from fmri_rdm.pipeline.settings import RunSettings

    settings = RunSettings.from_config(cfg)
    evaluation = settings.evaluation
    calibration_mode(evaluation.calibration)
    selected_folds(evaluation)
    n_images = cfg.data.get("n_images")
    if isinstance(n_images, int) and n_images > 0:  # the images a run asks for (or fewer)
        make_folds(n_images, evaluation, settings.seed)
    elif evaluation.k_folds < 1:
        raise ConfigError(
            f"evaluation.k_folds={evaluation.k_folds}: use 1 (one train/test split with "
            "evaluation.test_size) or 2 or more image-disjoint folds"
        )
    learner_class(cfg.model).from_config(cfg)


def check_run_config(cfg: Any) -> None:
    """Raise DataError / ConfigError for the mistakes above; return None when none is found.

    `cfg`: the composed run config (needs `data`, `subject`, `roi`).
    """
    subject, roi = run_subject(cfg), run_roi(cfg)
    cls = source_class(cfg.data)
    if str(cfg.data.source) == "synthetic":
        from fmri_rdm.data.rois import resolve_roi

        resolve_roi(roi)  # UnknownRoiError lists the valid names
    else:  # no data is read: directory entries only (the data source's `check`)
        source = cls.from_config(cfg, create=False)
        source.check(subject, roi)
        if str((cfg.get("evaluation") or {}).get("noise_ceiling")) == "inter_subject":
            _check_other_subjects(source, subject, roi)
    evaluation = cfg.get("evaluation") or {}
    if evaluation.get("transfer_subjects") is not None:  # its syntax, before any data is read
        from fmri_rdm.pipeline.transfer import requested_subjects

        requested_subjects(evaluation.get("transfer_subjects"), subject)


def _check_other_subjects(source: Any, subject: Any, roi: str) -> None:
    """The inter-subject ceiling reads every other subject with the ROI: their files are
    checked before the run as its own (`fmri-rdm data ROOT --check` does all of them); those
    without the ROI are left out of the ceiling with a note when it is built."""
    from fmri_rdm.stats.ceiling import with_roi

    others, _ = with_roi(source, [s for s in source.subjects() if s != subject], roi)
    for other in others:
        source.check(other, roi)


__all__ = ["check_run_config", "check_settings"]
