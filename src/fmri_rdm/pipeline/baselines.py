"""What a fold's scores are reported beside: the encoding model fitted on the same training
images, and (synthetic data) the noise-free RDM as a ceiling."""

from __future__ import annotations

import numpy as np

from fmri_rdm.models.base import FoldData, Learner
from fmri_rdm.pipeline.inputs import Inputs
from fmri_rdm.pipeline.settings import RunSettings
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa import scores as ev


def encoding_baseline(
    settings: RunSettings,
    data: FoldData,
    i: np.ndarray,
    j: np.ndarray,
    learner: Learner,
    prediction: np.ndarray,
) -> np.ndarray:
    """The voxelwise ridge encoding model's predictions of the test pairs (i, j), fitted on the
    same training images with `evaluation.encoding_model` (conf/model/encoding.yaml). When the
    run's learner is that very model (same settings), its `prediction` is reused rather than
    fitted twice (minutes per fold at full scale)."""
    from fmri_rdm.models.encoding.learner import EncodingLearner

    model = EncodingLearner.from_model_config(
        settings.encoding_model(),
        data.metric,
        settings.accelerator,
        config_key="evaluation.encoding_model",
    )
    inner = getattr(learner, "inner", learner)  # a calibrated learner: only r and rho are used
    if isinstance(inner, EncodingLearner) and inner.settings() == model.settings():
        return prediction
    model.fit(data)
    return model.predict(data.table, i, j)


def noise_free_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> dict:
    """The measured RDM scored against the noise-free one on the same pairs (synthetic data)."""
    if inputs.rdm_noise_free is None:
        return {}
    truth = rdm_lib.rdm_values(inputs.rdm_noise_free, i, j, inputs.n_images)
    scores = ev.regression_scores(y, truth)
    # noise shrinks measured distances towards 1, so only the rank/linear agreement is a ceiling
    return {"pearson": scores["pearson"], "spearman": scores["spearman"]}


def session_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray) -> dict:
    """Leave-one-session-out bounds on the test pairs (RDM data with >= 2 sessions;
    `stats.sessions`): {sessions_lower, sessions_upper} for the mean of the sessions (the run's
    target) and {sessions_single_lower, sessions_single_upper} for one session, empty otherwise."""
    if inputs.sessions is None or len(inputs.sessions) < 2:
        return {}
    from fmri_rdm.stats.sessions import session_bounds

    bounds = session_bounds(inputs.sessions, rdm_lib.condensed_index(i, j, inputs.n_images))
    names = ("sessions_lower", "sessions_upper", "sessions_single_lower", "sessions_single_upper")
    return {k: bounds[k] for k in names}


def noise_free_label_ceiling(inputs: Inputs, i: np.ndarray, j: np.ndarray, y: np.ndarray) -> dict:
    """The noise-free RDM's labels scored against the measured ones (synthetic data)."""
    if inputs.rdm_noise_free is None:
        return {}
    truth_binary = rdm_lib.binarize_rdm(inputs.rdm_noise_free, inputs.metric)
    truth = truth_binary[rdm_lib.condensed_index(i, j, inputs.n_images)]
    return ev.classification_scores(y, truth, truth.astype(float))
