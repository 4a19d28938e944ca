"""`fmri_rdm.measured_rdm`: a subject's measured RDM of one ROI as a labelled table."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def measured_rdm(
    root: str | os.PathLike[str],
    subject: str,
    roi: str,
    metric: str = "crossnobis",
    noise: str = "shrinkage_diag",
    *,
    per_partition: bool = False,
    standardize: bool = True,
) -> pd.DataFrame:
    """The measured RDM of (subject, roi) of a folder dataset (docs/crossnobis.md), computed
    as a run computes its targets (`data.measured.measured_rdm`).

    metric: correlation or euclidean (of the averaged responses, z-scored per unit when
    `standardize`), or mahalanobis, crossnobis, poisson_cv (from the `<roi>.trials.npy`
    trials, rsatoolbox's values: rsa/distances.py). noise: identity, diag, shrinkage_diag or
    shrinkage_eye, the noise precision of mahalanobis / crossnobis, estimated from the trial
    residuals pooled over partitions or one per partition.
    Returns a square (M, M) float64 DataFrame, index and columns the kept stimulus ids (stimuli
    without usable trials are left out with a warning), zero diagonal.
    """
    import pandas as pd
    from scipy.spatial.distance import squareform

    from fmri_rdm.data.folder import FolderSource
    from fmri_rdm.data.measured import measured_rdm as compute
    from fmri_rdm.errors import DataError
    from fmri_rdm.rsa.noise import check_noise
    from fmri_rdm.rsa.rdm import check_metric

    check_metric(metric)
    check_noise(noise)
    source = FolderSource(os.fspath(root))
    stimuli = source.stimuli(subject)
    data = source.load(subject, roi, rows=None, standardize=standardize)
    if data.responses is None:
        raise DataError(
            f"{root}/{subject}: ROI {roi!r} is stored as an RDM, not responses or trials: "
            "read the file itself"
        )
    rdm = compute(data, metric, noise, per_partition=per_partition, dtype=np.float64)
    ids = stimuli.ids[data.kept]
    square = squareform(rdm, checks=False)
    return pd.DataFrame(square, index=pd.Index(ids, name="stimulus_id"), columns=ids)
