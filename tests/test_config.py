"""The config tree: every option composes to its recorded values and builds its objects, and
typos are errors that name the problem."""

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf, open_dict

import fmri_rdm as fr
from fmri_rdm.config import SCHEMAS, register_schemas
from fmri_rdm.data.rois import all_roi_names
from tests.config_snapshot import CONF, GROUPS, SNAPSHOT, composed, options, snapshot_mismatches


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return yaml.safe_load(SNAPSHOT.read_text())


def test_the_default_config_composes_to_its_snapshot(snapshot):
    assert snapshot_mismatches(snapshot, "default", composed([])) == {}


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_composes_to_its_snapshot(group, snapshot):
    """Every recorded option (the original student project's presets and holdout among the
    experiments) still composes to every value it had when the snapshot was written (keys that
    moved are translated: `model.net`); options and keys added since are tolerated."""
    names = options(group)
    assert names, group
    recorded = {key.partition("=")[2] for key in snapshot if key.startswith(f"{group}=")}
    assert recorded <= set(names), "an option was removed: keep it or rerun the snapshot"
    for option in sorted(recorded):
        now = composed([f"{group}={option}"])
        assert snapshot_mismatches(snapshot, f"{group}={option}", now) == {}, option


def test_a_changed_value_is_caught(snapshot):
    now = composed(["model.net.dropout=0.3"])
    assert snapshot_mismatches(snapshot, "default", now) == {"model.net.dropout": (0.5, 0.3)}


def test_no_value_is_left_missing():
    """Schemas hold types only, so a key an option forgets would compose to ??? (MISSING)."""
    for group in GROUPS:
        for option in options(group):
            flat = composed([f"{group}={option}"])
            missing = {key for key, value in flat.items() if value == "???"}
            if group == "embeddings" and option == "file":
                assert missing == {"embeddings.path"}  # the user's file: mandatory by design
            else:
                assert not missing, (group, option, missing)


def test_schemas_hold_no_defaults():
    from fmri_rdm.models.base import ModelConfig
    from fmri_rdm.models.candidates.learner import FixedRDMConfig, WeightedRDMConfig
    from fmri_rdm.models.encoding.learner import EncodingConfig
    from fmri_rdm.models.frrsa.learner import FrrsaConfig
    from fmri_rdm.models.pair_network.learner import PairNetworkConfig
    from fmri_rdm.models.svm.learner import SVMConfig

    learners = [ModelConfig, EncodingConfig, FrrsaConfig, PairNetworkConfig, SVMConfig]
    learners += [FixedRDMConfig, WeightedRDMConfig]
    for schema in [*SCHEMAS.values(), *learners]:
        node = OmegaConf.structured(schema)
        leaves = [k for k in node if not OmegaConf.is_missing(node, k)]
        assert not leaves, (schema.__name__, leaves)


@pytest.mark.parametrize("option", options("model"))
def test_every_model_resolves_its_learner_and_network(option, tmp_path):
    from fmri_rdm.data.synthetic_folder import generate_folder
    from fmri_rdm.models import learner_class

    extra = []
    if option in ("rdm", "weighted"):  # candidate RDMs: read from a data folder's models/
        root = generate_folder(tmp_path / "ds", kind="rdm", n_subjects=1, n_images=6,
                               candidates=True, images=False)  # fmt: skip
        chosen = "model.rdm=truth" if option == "rdm" else "model.rdms=[truth,column:category]"
        extra = ["data=folder", f"data.root={root}", chosen]
    cfg = compose("config", overrides=[f"model={option}", *extra])
    cls = learner_class(cfg.model)
    assert hasattr(cls, "from_config") and hasattr(cls, "saved_folds")
    assert cls.from_config(cfg) is not None  # the model keys pass the learner's schema
    if "net" in cfg.model:  # a torch network the learner builds
        assert isinstance(get_class(cfg.model.net._target_), type)


def test_every_embedder_builds_without_downloading(tmp_path):
    from fmri_rdm.embeddings import Embedder, instantiate_embedder

    np.save(tmp_path / "emb.npy", np.ones((3, 4), np.float32))
    for option in options("embeddings"):
        extra = [f"embeddings.path={tmp_path / 'emb.npy'}"] if option == "file" else []
        if option in ("clip", "thingsvision"):
            extra = ["embeddings.pretrained=null"]
        cfg = compose("config", overrides=[f"embeddings={option}", *extra])
        embedder = instantiate_embedder(cfg.embeddings)
        assert isinstance(embedder, Embedder)
        assert embedder.describe()["backend"] == option


@pytest.mark.parametrize("option", options("trainer"))
def test_every_trainer_builds_on_cpu(option, tmp_path):
    from pytorch_lightning import Trainer

    cfg = compose("config", overrides=[f"trainer={option}"])
    with open_dict(cfg):  # the GPU and DDP settings, checked on the one device every host has
        cfg.trainer.accelerator = "cpu"
        cfg.trainer.devices = 1
        cfg.trainer.pop("strategy", None)
    trainer = instantiate(cfg.trainer, default_root_dir=str(tmp_path), logger=False)
    assert isinstance(trainer, Trainer) and trainer.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("option", [o for o in options("logger") if o != "wandb"])
def test_every_lightning_logger_builds(option, tmp_path):
    from pytorch_lightning.loggers import Logger

    from fmri_rdm.reporting.loggers import RunLoggers

    cfg = compose("config", overrides=[f"logger={option}", f"paths.output_dir={tmp_path}"])
    for node in cfg.logger.values():
        assert issubclass(get_class(node._target_), Logger)
    if option == "tensorboard":
        pytest.importorskip("tensorboard", reason="the tensorboard package is not installed")
    loggers = RunLoggers(cfg).for_fold(0)
    assert len(loggers) == (0 if option == "none" else 1)
    assert all(isinstance(lg, Logger) for lg in loggers)


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
        ("model.net.dropuot=0.1", ConfigCompositionException, "dropuot"),
        ("evaluation.k_folds=five", ConfigCompositionException, "k_folds"),
        ("roi=V9", MissingConfigException, "V1v"),
    ],
)
def test_typos_are_errors_naming_the_problem(override, error, fragment):
    with pytest.raises(error) as info:
        compose("config", overrides=[override])
    assert fragment in str(info.value) + str(info.value.__cause__)


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("model.net.dropout=high", "model.net.dropout"),
        ("model.net.tower=[a]", "model.net.tower"),
        ("model.net._target_=fmri_rdm.models.nowhere.Net", "cannot be imported"),
    ],
)
def test_network_settings_are_checked_against_the_constructor(override, fragment):
    from fmri_rdm.errors import ConfigError
    from fmri_rdm.models import learner_class

    cfg = compose("config", overrides=[override])
    with pytest.raises(ConfigError, match=fragment):
        learner_class(cfg.model).from_config(cfg)


def test_the_encoding_baseline_is_the_encoding_models_config():
    model = compose("config", overrides=["model=encoding"]).model
    baseline = compose("config", overrides=["evaluation.encoding_model.n_alphas=5"])
    assert baseline.evaluation.encoding_model.n_alphas == 5
    assert OmegaConf.to_container(compose("config").evaluation.encoding_model) == (
        OmegaConf.to_container(model)
    )


@pytest.mark.parametrize(
    ("override", "key"), [("roi=hIT", "data.roi=<roi>"), ("subject=sub-BE", "data.subject=")]
)
def test_algonauts_groups_on_folder_data_point_to_the_data_keys(override, key):
    with pytest.raises(fr.ConfigError) as err:
        fr.config("data=folder", override)
    message = str(err.value)
    assert message.startswith(f"{override}: ") and key in message
    assert "`fmri-rdm data ROOT` lists them" in message
