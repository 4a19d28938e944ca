"""Typed schemas of the config groups, registered in Hydra's ConfigStore.

Each YAML option in `conf/<group>/` starts from its schema
(`defaults: [/schema/<group>/<name>@_here_, _self_]`), so a misspelt key
(`model.dropuot=0.1`) or a value of the wrong type (`model.dropout=high`) is an error naming
the key before anything runs. Call `register_schemas()` before composing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class SyntheticGeneration:
    n_images: int = 600
    n_test_images: int = 50
    image_size: int = 128
    seed: int = 0
    # other subjects generated beside the run's (for evaluation.noise_ceiling=inter_subject)
    subjects: list[int] | None = None
    # training images all subjects share (null: all of them, the earlier data)
    n_shared: int | None = None


@dataclass
class DataSchema:
    source: str = MISSING
    root: str | None = None
    n_images: int | None = None
    random_subset: bool = False
    standardize: bool = True


@dataclass
class SyntheticDataSchema(DataSchema):
    generate: SyntheticGeneration = field(default_factory=SyntheticGeneration)


@dataclass
class SubjectSchema:
    id: int = MISSING


@dataclass
class RoiSchema:
    name: str = MISSING


@dataclass
class MetricSchema:
    name: str = MISSING


@dataclass
class DistributionSchema:
    name: str = MISSING
    n_per_image: int = 50
    mid_band: float = 0.1
    mid_quantiles: list[float] = field(default_factory=lambda: [0.45, 0.55])
    colors: list[str] = field(default_factory=lambda: ["red", "blue"])
    threshold: float = 0.7
    color_image_size: int = 128


@dataclass
class EvaluationSchema:
    k_folds: int = 5
    test_size: float = 0.2
    val_size: float = 0.1
    folds: list[int] | None = None
    encoding_baseline: bool = True
    n_bootstrap: int = 1000
    n_permutations: int = 1000
    ci_level: float = 0.95
    noise_ceiling: str = "auto"


@dataclass
class TrainingSchema:
    loss: str = "mse"
    alpha: float = 0.5
    batch_size: Any = "auto"
    steps_per_epoch: int = 50
    max_auto_batch_size: int = 4096
    early_stopping_patience: int | None = None
    optimizer: Any = MISSING
    scheduler: Any = None


@dataclass
class MLPSchema:
    name: str = "mlp"
    _target_: str = "fmri_rdm.models.mlp.PairMLP"
    learner: str = "fmri_rdm.learners.pair_network.PairNetworkLearner"
    input: str = "embeddings"
    hidden_layers: int = 2
    first_hidden: int = 512
    dropout: float = 0.0
    head: str = "linear"


@dataclass
class SiameseSchema:
    name: str = "siamese"
    _target_: str = "fmri_rdm.models.siamese.SiameseNet"
    learner: str = "fmri_rdm.learners.pair_network.PairNetworkLearner"
    input: str = "embeddings"
    tower: list[int] = field(default_factory=lambda: [512, 256])
    head_hidden: int = 128
    dropout: float = 0.5
    head: str = "symmetric"


@dataclass
class SiameseCNNSchema:
    name: str = "siamese_cnn"
    _target_: str = "fmri_rdm.models.siamese_cnn.SiameseCNN"
    learner: str = "fmri_rdm.learners.pair_network.PairNetworkLearner"
    input: str = "pixels"
    in_channels: int = 1
    image_size: int = 128
    channels: list[int] = field(default_factory=lambda: [32, 64])
    embed_dim: int = 128
    dropout: float = 0.25
    head: str = "symmetric"


@dataclass
class SVMSchema:
    name: str = "svm"
    _target_: str = "fmri_rdm.models.svm.SVMPairClassifier"
    learner: str = "fmri_rdm.learners.svm.SVMLearner"
    input: str = "embeddings"
    kernel: str = "poly"
    degree: int = 2
    C: float = 1.0
    gamma: Any = "scale"
    features: str = "concat"
    max_train_pairs: int = 20000
    save_path: str | None = None
    load_path: str | None = None


@dataclass
class EncodingSchema:
    name: str = "encoding"
    learner: str = "fmri_rdm.learners.encoding.EncodingLearner"
    input: str = "embeddings"
    log10_alpha_min: float = -2.0
    log10_alpha_max: float = 8.0
    n_alphas: int = 21
    cv: int = 5
    backend: str = "auto"
    n_targets_batch: int = 8192


@dataclass
class FrrsaSchema:
    name: str = "frrsa"
    learner: str = "fmri_rdm.learners.frrsa.FeatureReweightedRSA"
    input: str = "embeddings"
    max_train_pairs: int = 1_000_000


@dataclass
class RsaSchema:
    name: str = "rsa"
    learner: str = "fmri_rdm.learners.rsa.RSALearner"
    input: str = "embeddings"


SCHEMAS: dict[tuple[str, str], type] = {
    ("data", "data"): DataSchema,
    ("data", "synthetic"): SyntheticDataSchema,
    ("subject", "subject"): SubjectSchema,
    ("roi", "roi"): RoiSchema,
    ("metric", "metric"): MetricSchema,
    ("distribution", "distribution"): DistributionSchema,
    ("evaluation", "evaluation"): EvaluationSchema,
    ("training", "training"): TrainingSchema,
    ("model", "mlp"): MLPSchema,
    ("model", "siamese"): SiameseSchema,
    ("model", "siamese_cnn"): SiameseCNNSchema,
    ("model", "svm"): SVMSchema,
    ("model", "encoding"): EncodingSchema,
    ("model", "frrsa"): FrrsaSchema,
    ("model", "rsa"): RsaSchema,
}


def register_schemas() -> None:
    """Make the schemas available to `defaults:` lists (idempotent)."""
    store = ConfigStore.instance()
    for (group, name), schema in SCHEMAS.items():
        store.store(group=f"schema/{group}", name=name, node=schema)
