"""`model.net` checked like every other config: a schema from the network's constructor."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from dataclasses import field, make_dataclass
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.legacy import resolve_path
from fmri_rdm.models.registry import checked_config, import_dotted


def _schema_type(hint: Any) -> Any:
    """A constructor's type hint as OmegaConf can check it (sequences become lists)."""
    origin = typing.get_origin(hint)
    if origin in (Sequence, list, tuple, typing.Sequence) or hint in (Sequence, list, tuple):
        args = typing.get_args(hint)
        return list[args[0]] if args else list[Any]  # type: ignore[valid-type]
    return hint


def network_schema(net_class: Any) -> type:
    """A dataclass of the network constructor's arguments (types from its hints), so that
    `model.net` is checked like every other config: a misspelt argument or a value of the
    wrong type is an error naming the key. `in_dim` comes from the data, not the config."""
    hints = typing.get_type_hints(net_class.__init__)
    fields: list[Any] = [("_target_", str, MISSING)]
    for name, param in inspect.signature(net_class.__init__).parameters.items():
        # in_dim, output_scale and metric come from the data, not the config
        if name in ("self", "in_dim", "output_scale", "metric") or param.kind is param.VAR_KEYWORD:
            continue
        default = MISSING if param.default is param.empty else param.default
        if isinstance(default, list | tuple):
            default = field(default_factory=lambda d=default: list(d))  # type: ignore[misc]
        fields.append((name, _schema_type(hints.get(name, Any)), default))
    return make_dataclass(f"{net_class.__name__}Config", fields)


def network_config(net: DictConfig) -> dict[str, Any]:
    """`model.net` checked against its network's constructor: `_target_` + arguments."""
    if not isinstance(net, DictConfig) or "_target_" not in net:
        raise ConfigError("model.net must name the network: model.net._target_=<module>.<Class>")
    target = resolve_path(str(net._target_))
    net_class = import_dotted(target, "model.net._target_")
    schema = network_schema(net_class)
    present = OmegaConf.create({k: v for k, v in net.items() if k != "_target_"})
    checked = checked_config(schema, OmegaConf.merge({"_target_": target}, present), "model.net")
    values = {str(k): getattr(checked, str(k)) for k in present}
    return {"_target_": target, **values}
