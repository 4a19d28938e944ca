"""Fitting a pair network's encoding prior (`model.encoding_prior`, `models.encoding_prior`).

The ridge encoding model is fitted on the fold's fit images only (never the validation images
that choose the network's best epoch), with the settings of the run's encoding baseline
(`evaluation.encoding_model`). Its distances are mapped onto the targets by the same affine
least-squares fit as the encoding baseline's calibration, on fit pairs predicted out of sample
(`learners.calibration.cross_fitted`): in-sample ridge predictions are too good and a map
fitted there overshoots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import FoldData
from fmri_rdm.models.calibration import CALIBRATION_PAIRS, cross_fitted, fit_affine
from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.models.pair_network.priors.ridge_rdm import EncodingPrior
from fmri_rdm.rsa.splits import PairSplit

log = logging.getLogger(__name__)

EncoderFactory = Callable[[], EncodingLearner]


def has_responses(data: FoldData) -> bool:
    """Whether the fold carries per-stimulus responses (not RDM-only data)."""
    return data.responses.ndim == 2 and data.responses.shape[1] > 0


def fit_only(data: FoldData) -> FoldData:
    """The fold restricted to its fit images and pairs (what the prior may learn from)."""
    fit_images = np.asarray(data.fit_images)
    return replace(
        data,
        train_images=fit_images,
        val_images=fit_images[:0],
        train=data.fit,
        val=PairSplit.empty(data.fit),
    )


def fit_encoding_prior(
    prior: EncodingPrior,
    data: FoldData,
    encoder: EncoderFactory,
    target_mean: float,
    target_std: float,
) -> dict[str, Any]:
    """Fit `prior` on the fold's fit images: the ridge map, then the affine map of its
    distances onto standardised targets (pred = (y - target_mean) / target_std). Returns the
    facts a fold records (slope, intercept, out-of-sample r of the prior on fit pairs)."""
    if not has_responses(data):
        raise ConfigError(
            "model.encoding_prior=true needs per-stimulus responses: set "
            "model.encoding_prior=false for RDM-only data"
        )
    restricted = fit_only(data)
    model = encoder()
    model.fit(restricted)
    state = model.state
    prior.set_ridge(state["coef"], state["intercept"], state["mean"], state["scale"])
    rng = np.random.default_rng(data.seed)
    n = len(data.fit)
    sample = np.sort(rng.choice(n, size=min(n, CALIBRATION_PAIRS), replace=False))
    predictions, targets = cross_fitted(restricted, encoder, sample)
    slope, intercept, clamped = fit_affine(predictions, targets)
    std = target_std or 1.0
    prior.set_map(slope / std, (intercept - target_mean) / std)
    r = float(np.corrcoef(predictions, targets)[0, 1]) if len(targets) > 1 else float("nan")
    log.info(
        "fold %d: encoding prior fitted on %d fit images (out-of-sample r on fit pairs %.3f%s)",
        data.fold,
        len(restricted.train_images),
        r,
        ", slope clamped" if clamped else "",
    )
    return {"prior_slope": slope, "prior_intercept": intercept, "prior_oos_r": r}
