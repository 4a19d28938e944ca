"""Checks that answer a user's data-path and ROI mistakes in about a second.

`check_run_config(cfg)` runs before the experiment imports torch, Lightning or wandb and before
any logger starts (those take 5-20 s): a missing or wrong `data.root`, a subject without a
folder, an unknown ROI name. It reads directory entries only, never the data. Synthetic data
(`data=synthetic`) is generated on first use, so its folder is not required to exist.
The messages are the ones the loaders raise later for the same mistakes.
"""

from __future__ import annotations

from typing import Any

from fmri_rdm.data.source import run_roi, run_subject, source_class


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
        cls.from_config(cfg, create=False).check(subject, roi)
    evaluation = cfg.get("evaluation") or {}
    if evaluation.get("transfer_subjects") is not None:  # its syntax, before any data is read
        from fmri_rdm.run.transfer import requested_subjects

        requested_subjects(evaluation.get("transfer_subjects"), subject)


__all__ = ["check_run_config"]
