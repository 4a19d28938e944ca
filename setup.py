"""Packaging beyond pyproject.toml: the top-level `conf/` (the single source of the configs, which
`python train.py` reads in a clone) ships inside the wheel as the data package `fmri_rdm.conf`,
found at run time by `fmri_rdm.paths.conf_dir`. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "fmri_rdm.conf"],
    package_dir={"": "src", "fmri_rdm.conf": "conf"},
    package_data={"fmri_rdm": ["py.typed"], "fmri_rdm.conf": ["*.yaml", "**/*.yaml"]},
)
