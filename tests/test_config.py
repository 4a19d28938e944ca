"""The config tree composes for every option, and typos are errors that name the problem."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException

from fmri_rdm.config import register_schemas
from fmri_rdm.data.rois import all_roi_names

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ("data", "subject", "roi", "metric", "distribution", "embeddings", "model", "trainer")


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_composes(group):
    for option in options(group):
        cfg = compose("config", overrides=[f"{group}={option}"])
        assert cfg[group] is not None


def test_roi_group_lists_every_accepted_roi():
    assert options("roi") == sorted(all_roi_names())
    cfg = compose("config", overrides=["roi=FFA-1"])
    assert cfg.roi.name == "FFA-1"


def test_defaults_are_the_real_setting():
    cfg = compose("config")
    assert cfg.data.source == "algonauts"
    assert cfg.embeddings.model_name == "ViT-B-32"
    assert cfg.embeddings.pretrained == "openai"
    assert cfg.evaluation.k_folds == 5


def test_demo_preset_is_synthetic_with_random_weights():
    cfg = compose("config", overrides=["experiment=demo"])
    assert cfg.data.source == "synthetic"
    assert cfg.embeddings.pretrained is None


@pytest.mark.parametrize(
    ("override", "error", "fragment"),
    [
        ("model=siamse", MissingConfigException, "siamese"),
        ("model.dropuot=0.1", ConfigCompositionException, "dropuot"),
        ("model.dropout=high", ConfigCompositionException, "dropout"),
        ("evaluation.k_folds=five", ConfigCompositionException, "k_folds"),
        ("roi=V9", MissingConfigException, "V1v"),
    ],
)
def test_typos_are_errors_naming_the_problem(override, error, fragment):
    with pytest.raises(error) as info:
        compose("config", overrides=[override])
    assert fragment in str(info.value) + str(info.value.__cause__)
