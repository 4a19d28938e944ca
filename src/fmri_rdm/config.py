"""Typed schemas of the config groups, registered in Hydra's ConfigStore: types only.

Each YAML option in `conf/<group>/` starts from its schema
(`defaults: [/schema/<group>/<name>@_here_, ...]`), so a misspelt key (`training.lr=0.1`) or
a value of the wrong type (`evaluation.k_folds=high`) is an error naming the key before anything
runs. Models are the exception: each learner declares the schema of its `model` keys
(`config_schema`, checked by `learners.registry.model_settings` when the run starts), so that a
new model needs no entry here. The schemas hold no values: every field is MISSING, and the
YAML files under conf/ are the one place a default lives (what users read and edit, as in
lightning-hydra-template); a key a YAML option forgets composes to `???` and is an error when
read (tests/test_config.py composes every option against a snapshot). Call `register_schemas()`
before composing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class SyntheticGeneration:
    n_images: int = MISSING
    n_test_images: int = MISSING
    image_size: int = MISSING
    seed: int = MISSING
    # other subjects generated beside the run's (for evaluation.noise_ceiling=inter_subject)
    subjects: list[int] | None = MISSING
    # training images all subjects share (null: all of them, the earlier data)
    n_shared: int | None = MISSING


@dataclass
class DataSchema:
    _target_: str = MISSING  # the data source class (fmri_rdm.data.source)
    source: str = MISSING
    root: str | None = MISSING
    n_images: int | None = MISSING
    random_subset: bool = MISSING
    standardize: bool = MISSING


@dataclass
class SyntheticDataSchema(DataSchema):
    generate: SyntheticGeneration = MISSING


@dataclass
class FolderDataSchema(DataSchema):
    subject: str | None = MISSING  # the run's subject: a folder under data.root
    roi: str | None = MISSING  # the run's ROI: <roi>.npy / <roi>.rdm.npy / <roi>.rdm.hdf5


@dataclass
class SubjectSchema:
    id: int = MISSING


@dataclass
class RoiSchema:
    name: str = MISSING


@dataclass
class MetricSchema:
    name: str = MISSING
    # the noise precision of mahalanobis / crossnobis (rsa.noise.NOISE), estimated from the
    # trial residuals pooled over partitions or one per partition; unused by the others
    noise: str = MISSING
    per_partition: bool = MISSING


@dataclass
class DistributionSchema:
    name: str = MISSING
    n_per_image: int = MISSING
    mid_band: float = MISSING
    mid_quantiles: list[float] = MISSING
    colors: list[str] = MISSING
    threshold: float = MISSING
    color_image_size: int = MISSING


@dataclass
class TimeSchema:
    window_ms: float | None = MISSING
    step_ms: float | None = MISSING
    generalize: bool = MISSING
    fit_at_ms: float | None = MISSING
    n_bootstrap: int = MISSING
    rdm_at_ms: list[float] | None = MISSING


@dataclass
class EvaluationSchema:
    k_folds: int = MISSING
    test_size: float = MISSING
    val_size: float = MISSING
    folds: list[int] | None = MISSING
    encoding_baseline: bool = MISSING
    n_bootstrap: int = MISSING
    n_permutations: int = MISSING
    ci_level: float = MISSING
    all_pairs_statistics: str = MISSING  # auto | always | never (pipeline.settings)
    noise_ceiling: str = MISSING
    # the encoding baseline's settings: conf/model/encoding.yaml, composed here by Hydra
    encoding_model: Any = MISSING
    transfer_subjects: Any = MISSING  # null / [] (off), [2, 3] or "all" (run.transfer)
    calibration: str = MISSING
    statistics_device: str = MISSING
    time: TimeSchema = MISSING  # time-resolved data (pipeline/time_course.py)
    measures: list[str] = MISSING  # rsa.measures scored beside pearson/spearman


@dataclass
class TrainingSchema:
    loss: str = MISSING
    alpha: float = MISSING
    batch_size: Any = MISSING
    steps_per_epoch: int = MISSING
    max_auto_batch_size: int = MISSING
    early_stopping_patience: int | None = MISSING
    optimizer: Any = MISSING
    scheduler: Any = MISSING


SCHEMAS: dict[tuple[str, str], type] = {
    ("data", "data"): DataSchema,
    ("data", "synthetic"): SyntheticDataSchema,
    ("data", "folder"): FolderDataSchema,
    ("subject", "subject"): SubjectSchema,
    ("roi", "roi"): RoiSchema,
    ("metric", "metric"): MetricSchema,
    ("distribution", "distribution"): DistributionSchema,
    ("evaluation", "evaluation"): EvaluationSchema,
    ("training", "training"): TrainingSchema,
}


def register_schemas() -> None:
    """Make the schemas available to `defaults:` lists (idempotent)."""
    store = ConfigStore.instance()
    for (group, name), schema in SCHEMAS.items():
        store.store(group=f"schema/{group}", name=name, node=schema)
