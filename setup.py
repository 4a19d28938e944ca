"""Packaging beyond pyproject.toml: the top-level `conf/` (the single source of the configs, which
`python train.py` reads in a clone) ships inside the wheel as the data package `fmri_rdm.conf`,
each config group a sub-package of YAML files, found at run time by `fmri_rdm.paths.conf_dir`.
Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
CONF = ["fmri_rdm.conf"] + [
    "fmri_rdm.conf." + ".".join(d.relative_to(HERE / "conf").parts)
    for d in sorted((HERE / "conf").rglob("*"))
    if d.is_dir() and not d.name.startswith((".", "__"))
]

setup(
    packages=[*find_packages("src"), *CONF],
    package_dir={"": "src", "fmri_rdm.conf": "conf"},
    package_data={"fmri_rdm": ["py.typed"], **{name: ["*.yaml"] for name in CONF}},
)
