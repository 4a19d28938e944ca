"""Checks that answer a user's data-path and ROI mistakes in about a second.

`check_run_config(cfg)` runs before the experiment imports torch, Lightning or wandb and before
any logger starts (those take 5-20 s): a missing or wrong `data.root`, a subject without a
folder, an unknown ROI name. It reads directory entries only, never the data. Synthetic data
(`data=synthetic`) is generated on first use, so its folder is not required to exist.
The messages are the ones the loaders raise later for the same mistakes.
"""

from __future__ import annotations

from typing import Any

from fmri_rdm.data.algonauts import subject_dir
from fmri_rdm.data.rois import resolve_roi


def check_run_config(cfg: Any) -> None:
    """Raise DataError / ConfigError for the mistakes above; return None when none is found.

    `cfg`: the composed run config (needs `data`, `subject`, `roi`).
    """
    resolve_roi(str(cfg.roi.name))  # UnknownRoiError lists the valid names
    evaluation = cfg.get("evaluation") or {}
    if evaluation.get("transfer_subjects") is not None:  # its syntax, before any data is read
        from fmri_rdm.run.transfer import requested_subjects

        requested_subjects(evaluation.get("transfer_subjects"), int(cfg.subject.id))
    if str(cfg.data.source) == "synthetic":
        return
    from fmri_rdm.data.root import data_root  # no data is read: it only checks that a root is set

    subject_dir(data_root(cfg), int(cfg.subject.id))


__all__ = ["check_run_config"]
