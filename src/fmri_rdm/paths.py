"""Where the packaged configs live: `conf/` at the repository's top level (the single source of
truth), shipped in the wheel as `fmri_rdm/conf` (setup.py maps one onto the other)."""

from __future__ import annotations

from pathlib import Path

from fmri_rdm.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def conf_dir() -> Path:
    """The config folder holding `config.yaml`: the installed wheel's copy (`fmri_rdm/conf`),
    else the clone's top-level `conf/` (a source checkout or an editable install)."""
    for candidate in (_PACKAGE / "conf", _PACKAGE.parents[1] / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise ConfigError(
        f"the configs are missing: neither {_PACKAGE / 'conf'} nor {_PACKAGE.parents[1] / 'conf'}"
        " holds config.yaml (reinstall fmri-rdm)"
    )
