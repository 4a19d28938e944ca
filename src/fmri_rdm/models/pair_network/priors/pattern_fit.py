"""Fitting a pair network's prior on RDM-only data (`model.rdm_prior`, `models.pattern_prior`).

Without responses there is no encoding model to start from (`learners.encoding_prior_fit`);
the field's models of RDM-only data are classical RSA (the embedding RDM) and feature-reweighted
RSA. `rsa` maps the embedding RDM onto the targets by least squares on the fit pairs (nothing
else is fitted); `frrsa` fits `model=frrsa`'s published variant on the fit images only (its
own inner cross-validation chooses the ridge fraction) and takes its predictions as they are,
as `model=frrsa` does (`calibration_default = "none"`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import FoldData
from fmri_rdm.models.calibration import CALIBRATION_PAIRS, fit_affine
from fmri_rdm.models.pair_network.priors.pattern import ReweightedPrior
from fmri_rdm.models.pair_network.priors.ridge_rdm_fit import fit_only

log = logging.getLogger(__name__)

RDM_PRIORS = ("none", "rsa", "frrsa")

# model=frrsa's defaults (conf/model/frrsa.yaml; a test keeps the two equal)
FRRSA_SETTINGS: dict[str, Any] = {
    "variant": "fractional",
    "normalize": True,
    "inner_folds": 5,
    "inner_repeats": 1,
    "max_train_pairs": 1_000_000,
}


def check_rdm_prior(kind: str) -> str:
    if kind not in RDM_PRIORS:
        raise ConfigError(f"model.rdm_prior={kind!r}: choose one of {', '.join(RDM_PRIORS)}")
    return kind


def fit_rdm_prior(
    prior: ReweightedPrior,
    data: FoldData,
    kind: str,
    target_mean: float,
    target_std: float,
) -> dict[str, Any]:
    """Fit `prior` as `kind` (rsa | frrsa) on the fold's fit images and map it onto
    standardised targets (pred = (y - target_mean) / target_std). Returns the facts a fold
    records (the kind, the map, Pearson r of the prior on a sample of fit pairs)."""
    from fmri_rdm.models.frrsa.learner import FeatureReweightedRSA

    restricted = fit_only(data)
    facts: dict[str, Any] = {"prior": kind}
    if kind == "frrsa":
        learner = FeatureReweightedRSA(**FRRSA_SETTINGS)
        report = learner.fit(restricted)
        assert learner.weights is not None
        prior.set_frrsa(learner.weights, learner.intercept, learner.metric, learner.normalize)
        facts["prior_hyperparam"] = report.facts.get("frrsa_hyperparam")
    elif kind == "rsa":
        prior.set_rsa(data.metric)
    else:
        raise ConfigError(f"no RDM prior to fit for model.rdm_prior={kind!r}")
    rng = np.random.default_rng(data.seed)
    n = len(data.fit)
    sample = np.sort(rng.choice(n, size=min(n, CALIBRATION_PAIRS), replace=False))
    with torch.no_grad():
        rows = torch.from_numpy(np.ascontiguousarray(data.table))
        ii = torch.as_tensor(data.fit.i[sample], dtype=torch.int64)
        jj = torch.as_tensor(data.fit.j[sample], dtype=torch.int64)
        raw = prior.raw_distances(rows, ii, jj).double().numpy()
    targets = np.asarray(data.fit.y[sample], dtype=np.float64)
    # frrsa is fitted on the targets themselves; rsa distances need mapping onto them
    slope, intercept, clamped = (1.0, 0.0, False) if kind == "frrsa" else fit_affine(raw, targets)
    std = target_std or 1.0
    prior.set_map(slope / std, (intercept - target_mean) / std)
    r = float(np.corrcoef(raw, targets)[0, 1]) if len(targets) > 1 and raw.std() > 0 else np.nan
    log.info(
        "fold %d: %s prior fitted on %d fit images (r on fit pairs %.3f%s)",
        data.fold,
        kind,
        len(restricted.train_images),
        r,
        ", slope clamped" if clamped else "",
    )
    return facts | {"prior_slope": slope, "prior_intercept": intercept, "prior_fit_r": r}
