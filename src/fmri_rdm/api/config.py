"""`config()`: the packaged configs composed with Hydra's compose API, as `train.py` composes them.

The same shorthands (`model.dropout` is `model.net.dropout`, `entry.shorthands`), the same
typed schemas (`fmri_rdm.config`) and the same one-line messages with a "did you mean"
(`entry.wrapper.user_error`), raised as `ConfigError` instead of exit status 2. The run
directory is chosen by Hydra's own rule for `train.py` (`hydra.run.dir`:
`./outputs/<task_name>/<date>/<time>`) unless `output_dir=` or `paths.output_dir=...` says
otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from fmri_rdm.errors import ConfigError

# run directory -> (the overrides given, the config as composed): `run()` records them in
# `<run>/.hydra/overrides.yaml`, where `compare` reads what tells runs apart
_COMPOSED: dict[str, tuple[list[str], dict[str, Any]]] = {}


def _as_overrides(overrides: tuple[str, ...], experiment: str | None) -> list[str]:
    from fmri_rdm.entry.shorthands import expand_network_shorthands
    from fmri_rdm.paths import conf_dir

    for item in overrides:
        if not isinstance(item, str):
            raise ConfigError(f"overrides are strings like 'model=rsa', not {item!r}")
    given = ([f"experiment={experiment}"] if experiment else []) + list(overrides)
    return expand_network_shorthands(given, conf_dir() / "model")


def _compose(overrides: list[str]) -> DictConfig:
    """Hydra's compose over the packaged configs (with the `hydra` node, for its run dir)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from fmri_rdm.config import register_schemas
    from fmri_rdm.entry.wrapper import user_error
    from fmri_rdm.paths import conf_dir

    register_schemas()
    GlobalHydra.instance().clear()  # a notebook composes many times
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return compose("config", overrides=overrides, return_hydra_config=True)
    except Exception as err:
        found = user_error(err)
        if found is None:
            raise
        raise ConfigError(found[1]) from err


def config(
    *overrides: str, experiment: str | None = None, output_dir: str | os.PathLike[str] | None = None
) -> DictConfig:
    """Compose a run's configuration from the packaged configs and Hydra overrides.

    Args:
        *overrides: Hydra overrides as on `fmri-rdm train`'s command line, e.g.
            ``"model=encoding"``, ``"trainer.max_epochs=3"``; ``model.<network argument>``
            is short for ``model.net.<network argument>``.
        experiment: a preset of `conf/experiment/` (``"demo"``: synthetic data, random
            weights), the same as the override ``"experiment=demo"``.
        output_dir: the run directory; default ``./outputs/<task_name>/<date>/<time>`` of
            the current folder (or ``paths.output_dir=...`` among the overrides).

    Returns:
        The composed config (an OmegaConf ``DictConfig``), free to change before `run`.

    Raises:
        ConfigError: an unknown option or key, or a value of the wrong type; the message
            names it and suggests the closest valid one.

    Example:
        >>> import fmri_rdm as fr
        >>> cfg = fr.config("model=rsa", "logger=none", experiment="demo")
        >>> cfg.model.name
        'rsa'
    """
    given = _as_overrides(overrides, experiment)
    cfg = _compose(given)
    hydra_node = cfg.hydra
    with open_dict(cfg):
        del cfg["hydra"]
    chosen = output_dir
    if chosen is None and not _given(given, "paths.output_dir"):
        chosen = str(hydra_node.run.dir)  # train.py's own rule, resolved now
    if chosen is not None:
        cfg.paths.output_dir = str(Path(chosen).absolute())
    out = str(cfg.paths.output_dir)
    _COMPOSED[out] = (given, _leaves(OmegaConf.to_container(cfg, resolve=False)))
    return cfg


def _given(overrides: list[str], key: str) -> bool:
    return any(item.lstrip("+~").partition("=")[0] == key for item in overrides)


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted.key: value} of every leaf (lists are leaves)."""
    if not isinstance(node, Mapping):
        return {prefix[:-1]: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out |= _leaves(value, f"{prefix}{key}.")
    return out


def recorded_overrides(cfg: DictConfig) -> list[str]:
    """The overrides `config()` was given for this run directory, plus `key=value` for each
    value changed in `cfg` since (what `compare` shows); [] for a config composed elsewhere."""
    out = str(cfg.paths.output_dir)
    if out not in _COMPOSED:
        return []
    given, composed = _COMPOSED[out]
    now = _leaves(OmegaConf.to_container(cfg, resolve=False))
    changed = {
        k: v
        for k, v in now.items()
        if k != "paths.output_dir" and (k not in composed or composed[k] != v)
    }
    kept = [o for o in given if o.lstrip("+~").partition("=")[0] not in changed]
    return kept + [f"{k}={_hydra_value(v)}" for k, v in changed.items()]


def _hydra_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
