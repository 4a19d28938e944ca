"""The composed value of every config option, flattened to dotted keys, for the snapshot test.

`python -m tests.config_snapshot` rewrites tests/data/config_snapshot.yaml; it was first written
from the code before the schemas lost their defaults (issue 13), so `test_config` proves that every
option composes to the same values as before. Values are kept unresolved (`${...}` as text), so the
snapshot depends on neither the time nor the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, ListConfig

from fmri_rdm.config import register_schemas

CONF = Path(__file__).resolve().parents[1] / "conf"
SNAPSHOT = Path(__file__).resolve().parent / "data" / "config_snapshot.yaml"
# Every group a user selects with `group=option` (roi and subject included).
GROUPS = (
    "data",
    "subject",
    "roi",
    "metric",
    "distribution",
    "embeddings",
    "model",
    "training",
    "evaluation",
    "trainer",
    "logger",
    "paths",
    "experiment",
    "hparams_search",
)
ABSENT = "<absent>"


def options(group: str) -> list[str]:
    """The selectable options of a group (files starting with `_` are shared bases)."""
    return sorted(p.stem for p in (CONF / group).glob("*.yaml") if not p.stem.startswith("_"))


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: leaf value} of an unresolved config (`???` kept as the string '???')."""
    if isinstance(node, DictConfig):
        items = [(str(k), node._get_node(k)) for k in node.keys()]
    elif isinstance(node, ListConfig):
        items = [(str(i), node._get_node(i)) for i in range(len(node))]
    else:
        return {prefix: node}
    out: dict[str, Any] = {}
    if not items:
        out[prefix] = {} if isinstance(node, DictConfig) else []
    for key, child in items:
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(child, DictConfig | ListConfig) and not child._is_missing():
            if child._is_none():
                out[full] = None
            else:
                out.update(flatten(child, full))
        else:
            out[full] = child._value() if child is not None else None  # type: ignore[union-attr]
    return out


def composed(overrides: list[str]) -> dict[str, Any]:
    """Flattened config of `overrides`, with the sweep settings Hydra keeps under `hydra`."""
    cfg = compose("config", overrides=overrides, return_hydra_config=True)
    hydra_node = cfg.hydra
    flat = {k: v for k, v in flatten(cfg).items() if not k.startswith("hydra.")}
    flat["hydra.mode"] = str(hydra_node.mode)
    flat.update(flatten(hydra_node.sweeper, "hydra.sweeper"))
    return {
        k: (str(v) if not isinstance(v, bool | int | float | str | type(None)) else v)
        for k, v in flat.items()
    }


def difference(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The keys whose value differs from `base` (ABSENT for a key `other` lacks)."""
    diff = {k: v for k, v in other.items() if k not in base or base[k] != v}
    diff.update({k: ABSENT for k in base if k not in other})
    return dict(sorted(diff.items()))


# Deliberate layout changes since the snapshot was written: the network's constructor arguments
# of a pair model moved under `model.net` (lightning-hydra-template's layout), and the SVM's
# `_target_` (never used) went away. Keys are translated before comparing.
NETWORK_ARGS = (
    "_target_|tower|head_hidden|dropout|head|hidden_layers|first_hidden|in_channels|image_size|"
    "channels|embed_dim"
)
_MOVED = re.compile(rf"^(hydra\.sweeper\.params\.)?model\.({NETWORK_ARGS})(\.|$)")


def current_key(key: str, snapshot_config: dict[str, Any]) -> str | None:
    """Where a snapshot key lives today (None: retired)."""
    if snapshot_config.get("model.learner", "").endswith("SVMLearner") and key == "model._target_":
        return None
    if snapshot_config.get("model.learner", "").endswith("PairNetworkLearner") or key.startswith(
        "hydra.sweeper.params."
    ):
        return _MOVED.sub(lambda m: f"{m.group(1) or ''}model.net.{m.group(2)}{m.group(3)}", key)
    return key


def recorded_config(recorded: dict[str, Any], option: str) -> dict[str, Any]:
    """The whole flattened config the snapshot records for `option` ("<group>=<name>")."""
    full = dict(recorded["default"])
    for key, value in recorded[option].items():
        if value == ABSENT:
            full.pop(key, None)
        else:
            full[key] = value
    return full


def snapshot_mismatches(recorded: dict[str, Any], option: str, now: dict[str, Any]) -> dict:
    """{today's key: (recorded value, today's value)} for every recorded value that changed
    or vanished; keys added since the snapshot are tolerated."""
    old = recorded_config(recorded, option) if option != "default" else recorded["default"]
    wrong = {}
    for key, value in old.items():
        new_key = current_key(key, old)
        if new_key is not None and now.get(new_key, ABSENT) != value:
            wrong[new_key] = (value, now.get(new_key, ABSENT))
    return wrong


def snapshot() -> dict[str, Any]:
    """{"default": every key of the plain config, "<group>=<option>": what that option changes}."""
    base = composed([])
    out: dict[str, Any] = {"default": base}
    for group in GROUPS:
        for option in options(group):
            out[f"{group}={option}"] = difference(base, composed([f"{group}={option}"]))
    return out


def main() -> None:
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        data = snapshot()
    SNAPSHOT.write_text(yaml.safe_dump(data, sort_keys=False, width=100))
    print(f"{len(data)} entries -> {SNAPSHOT}")


if __name__ == "__main__":
    main()
