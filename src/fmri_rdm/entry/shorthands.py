"""Network settings given the short way: `model.dropout=0.5` means `model.net.dropout=0.5`.

The network's constructor arguments live under `model.net` (conf/model/*.yaml); users and
older scripts write them directly under `model` (`python train.py -m model.hidden_layers=0,1`).
Such an override is rewritten before Hydra reads the command line; the run logs each rewrite
(`REWRITTEN`) once logging is set up, so errors stay one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

REWRITTEN: list[tuple[str, str]] = []  # (as given, as read) in this process
_MODEL_KEY = re.compile(r"^(?P<prefix>[+~]{0,2})model\.(?P<key>[A-Za-z_]\w*)(?P<rest>([.=].*)?)$")


def network_keys(model_dir: Path) -> tuple[set[str], set[str]]:
    """(keys under `net:`, keys beside it) over every model option in `conf/model/`."""
    net, run_level = set(), set()
    for path in sorted(Path(model_dir).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue  # Hydra reports a broken option file itself when it is used
        if isinstance(data.get("net"), dict):
            net |= {str(k) for k in data["net"] if k != "_target_"}
        run_level |= {str(k) for k in data}
    return net, run_level


def expand_network_shorthands(argv: Sequence[str], model_dir: Path) -> list[str]:
    """argv with `model.<network argument>...` overrides rewritten to `model.net.<...>`."""
    net, run_level = network_keys(model_dir)
    out = []
    for arg in argv:
        found = _MODEL_KEY.match(arg)
        key = found.group("key") if found else None
        if found and key in net and key not in run_level:
            new = f"{found.group('prefix')}model.net.{key}{found.group('rest')}"
            REWRITTEN.append((arg, new))
            out.append(new)
        else:
            out.append(arg)
    return out
