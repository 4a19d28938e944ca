"""The experiment presets of the original student project under their old `seed_*` names: each
old name pulls in its `student_*` preset and composes to the same config (only the task name,
hence the output folder, stays the old one)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from tests.helpers import ROOT, compose_config

RENAMED = {
    "seed_svm_extremes": "student_svm_extremes",
    "seed_svm_colors": "student_svm_colors",
    "seed_siamese_kfold": "student_siamese_kfold",
}


@pytest.mark.parametrize(("old", "new"), RENAMED.items())
def test_old_preset_name_composes_to_the_new_preset(old: str, new: str) -> None:
    old_cfg = OmegaConf.to_container(compose_config([f"experiment={old}"]))
    new_cfg = OmegaConf.to_container(compose_config([f"experiment={new}"]))
    default = OmegaConf.to_container(compose_config([]))
    assert isinstance(old_cfg, dict) and isinstance(new_cfg, dict) and isinstance(default, dict)
    assert (old_cfg.pop("task_name"), new_cfg.pop("task_name")) == (old, new)
    assert old_cfg == new_cfg
    assert new_cfg != {k: v for k, v in default.items() if k != "task_name"}  # not a no-op


def test_no_other_preset_still_says_seed() -> None:
    names = {p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml")}
    assert {n for n in names if n.startswith("seed_")} == set(RENAMED)
    assert set(RENAMED.values()) <= names
