"""What a run does differently on RDM-only data (a data source that gives RDMs, not responses).

Models that need only pair targets run unchanged. What needs per-stimulus responses is never a
crash: `model=encoding` is refused with one line (ConfigError), `model.response_weight` is
switched off and the encoding baseline skipped, each with one log line and a record in
metrics.json (`data.skipped`).
"""

from __future__ import annotations

import logging
from typing import Any

from omegaconf import DictConfig, open_dict

from fmri_rdm.data.source import DataSource
from fmri_rdm.errors import ConfigError
from fmri_rdm.pipeline.settings import RunSettings

log = logging.getLogger(__name__)


def check_images(cfg: DictConfig, source: DataSource) -> None:
    """ConfigError when the model reads images (embeddings or pixels) but the data folder has
    none (stimuli.tsv without a `file` column)."""
    everything = getattr(source, "all_stimuli", None)
    if cfg.model.get("input") == "stimuli" or everything is None or everything().has_images:
        return
    raise ConfigError(
        f"model={cfg.model.get('name')} reads images, but {source.root} has none (its "
        "stimuli.tsv has no `file` column): choose an RDM model (model=rdm, model=weighted)"
    )


def _stimulus_input(cfg: DictConfig) -> dict[str, str]:
    """Models of stimulus identities (candidate RDMs) have no embeddings for the encoding
    baseline: it is switched off (cfg.evaluation changed in place)."""
    reads = str(cfg.model.get("input"))
    if not reads.startswith("stimuli") or not bool(cfg.evaluation.get("encoding_baseline")):
        return {}
    with open_dict(cfg.evaluation):
        cfg.evaluation.encoding_baseline = False
    return {"encoding_baseline": "the model reads candidate RDMs, not embeddings alone"}


def adapt_to_data(cfg: DictConfig, settings: RunSettings, source: DataSource) -> dict[str, Any]:
    """Check the model against the run's data kind and switch off what RDM data cannot feed;
    returns metrics.json's `data` section ({kind, skipped}); changes `cfg.model` and
    `cfg.evaluation` in place (the learner's `from_config` and a re-parse read them)."""
    cls, subject, roi = settings.learner, settings.subject, settings.roi
    check_images(cfg, source)
    kind = source.kind(subject, roi)
    record: dict[str, Any] = {"kind": kind}
    skipped_input = _stimulus_input(cfg)
    if skipped_input:
        record["skipped"] = skipped_input
    if kind != "rdm":
        return record
    name = str(cfg.model.get("name"))
    if getattr(cls, "needs_responses", False):
        raise ConfigError(
            f"model={name} needs per-stimulus responses, but subject {subject} ROI {roi} holds "
            f"RDMs ({source.root}): choose rsa, frrsa, mlp, siamese, siamese_cnn or svm"
        )
    skipped: dict[str, str] = dict(skipped_input)
    if float(cfg.model.get("response_weight") or 0.0) > 0:
        log.warning(
            "model.response_weight=%s is off: RDM data has no responses to read out",
            cfg.model.response_weight,
        )
        with open_dict(cfg.model):
            cfg.model.response_weight = 0.0
        skipped["response_weight"] = "RDM data has no responses to read out"
    if bool(cfg.model.get("encoding_prior")):
        log.warning("model.encoding_prior is off: RDM data has no responses to fit it on")
        with open_dict(cfg.model):
            cfg.model.encoding_prior = False
        skipped["encoding_prior"] = "RDM data has no responses to fit it on"
    if bool(cfg.evaluation.get("encoding_baseline")) and not skipped_input:
        log.warning("encoding baseline skipped: RDM data has no responses to fit it on")
        skipped["encoding_baseline"] = "RDM data has no responses to fit it on"
    record["skipped"] = skipped
    return record


def data_facts(inputs: Any, record: dict[str, Any]) -> dict[str, Any]:
    """metrics.json's `data` section: the data kind, what was skipped for it, the file the
    run read, the number of sessions (RDM data) and the metadata columns of the stimuli."""
    facts = dict(record)
    facts["file"] = str(inputs.data_file) if inputs.data_file is not None else None
    if inputs.sessions is not None:
        facts["n_sessions"] = len(inputs.sessions)
    trials = getattr(inputs, "trials", None)
    if trials is not None:  # trial-level data: the sessions are the two partition halves
        facts["trials"] = dict(trials)
    facts["distance"] = {
        "metric": inputs.metric,
        "noise": getattr(inputs, "noise", "identity"),
        "per_partition": bool(getattr(inputs, "per_partition", False)),
    }
    facts["metadata"] = sorted(inputs.metadata)
    return facts
