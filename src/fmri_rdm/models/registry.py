"""Learners are found through the model config: `model.learner` names the class, and the class
declares the schema its `model` keys must follow (`config_schema`). No list of models lives
anywhere else: a new model is a learner class plus a YAML file naming it.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import Learner
from fmri_rdm.models.legacy import LEARNER_OF_MODEL, resolve_path, upgrade_model_config
from fmri_rdm.runtime.imports import import_dotted as import_path


def import_dotted(dotted: str, what: str) -> Any:
    """The object `<module>.<name>` names, through the table of moved paths (older runs)."""
    return import_path(resolve_path(str(dotted)), what, named=str(dotted))


def learner_class(model_cfg: DictConfig) -> Any:
    """The learner class named by `model.learner` (e.g. `...models.rsa.learner.RSALearner`)."""
    dotted = model_cfg.get("learner") or LEARNER_OF_MODEL.get(str(model_cfg.get("name")))
    if not dotted:
        raise ConfigError(
            f"model {model_cfg.get('name')!r} names no learner: add "
            "learner: <module>.<LearnerClass> to its config"
        )
    return import_dotted(str(dotted), "model.learner")


def checked_config(schema: type, node: Any, where: str) -> Any:
    """`node` merged into the dataclass `schema`: the typed settings, or a ConfigError that
    names the misspelt key or the value of the wrong type."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), node)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or getattr(err, "key", None)
        message = " ".join(str(err).splitlines()[0].split())
        named = f"{where}.{key}" if key else where
        raise ConfigError(f"{named}: {message} (schema {schema.__name__})") from err


def model_settings(cls: Any, model_cfg: DictConfig) -> Any:
    """The run's `model` config checked against the learner's `config_schema`."""
    return checked_config(cls.config_schema, upgrade_model_config(model_cfg), "model")


def build_learner(cfg: DictConfig) -> Learner:
    """A fresh learner for the run's model config."""
    learner: Learner = learner_class(cfg.model).from_config(cfg)
    return learner
