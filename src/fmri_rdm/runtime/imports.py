"""Objects named by dotted paths in configs (`data._target_`, `model.learner`, `model.net`)."""

from __future__ import annotations

import importlib
from typing import Any

from fmri_rdm.errors import ConfigError


def import_dotted(dotted: str, what: str, *, named: str | None = None) -> Any:
    """The object `<module>.<name>` that `dotted` names, or a ConfigError naming the setting
    `what` and the value the user wrote (`named`, when `dotted` is a moved path's new home)."""
    module_name, _, name = str(dotted).rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"{what}={named or dotted!r} cannot be imported ({err})") from err
