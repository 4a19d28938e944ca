"""The run's config, parsed once into the typed settings the experiment loop reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from fmri_rdm.data.source import Subject, run_roi, run_subject
from fmri_rdm.errors import ConfigError


@dataclass(frozen=True)
class EvaluationSettings:
    """`evaluation.*`: folds, validation, baselines, statistics, ceilings."""

    k_folds: int
    test_size: float
    val_size: float
    folds: list[int] | None
    encoding_baseline: bool
    n_bootstrap: int
    n_permutations: int
    ci_level: float
    noise_ceiling: str
    calibration: str  # auto | train | cv | val | none (learners.calibration)
    statistics_device: str  # auto | cpu | cuda (stats.backend.statistics_device)
    encoding_model: DictConfig | None  # conf/model/encoding.yaml, for the encoding baseline
    # RDM comparison measures scored beside pearson/spearman (rsa.measures: tau_a, corr_cov, ...)
    measures: tuple[str, ...] = ()
    all_pairs_statistics: str = "auto"  # a fixed model's all-pairs intervals: auto|always|never

    def resamples_all_pairs(self, n_pairs: int) -> bool:
        """Whether a fixed model's all-pairs scores get their bootstrap interval and
        permutation p (`evaluation.all_pairs_statistics`; auto: up to ALL_PAIRS_AUTO_MAX)."""
        if not (self.n_bootstrap or self.n_permutations):
            return False
        chosen = self.all_pairs_statistics
        return chosen == "always" or (chosen == "auto" and n_pairs <= ALL_PAIRS_AUTO_MAX)

    @classmethod
    def from_config(cls, evaluation: DictConfig) -> EvaluationSettings:
        chosen = evaluation.get("folds")
        model = evaluation.get("encoding_model")
        return cls(
            k_folds=int(evaluation.k_folds),
            test_size=float(evaluation.test_size),
            val_size=float(evaluation.val_size),
            folds=None if chosen is None else [int(f) for f in chosen],
            encoding_baseline=bool(evaluation.encoding_baseline),
            n_bootstrap=int(evaluation.n_bootstrap),
            n_permutations=int(evaluation.n_permutations),
            ci_level=float(evaluation.ci_level),
            noise_ceiling=str(evaluation.noise_ceiling),
            calibration=str(evaluation.get("calibration", "auto")),
            statistics_device=str(evaluation.get("statistics_device", "auto")),
            encoding_model=None if model is None else OmegaConf.create(model),
            measures=_measures(evaluation.get("measures")),
            all_pairs_statistics=_all_pairs_choice(evaluation.get("all_pairs_statistics")),
        )


ALL_PAIRS_AUTO_MAX = 5_000_000  # pairs (about 3,160 images): all-pairs resampling in ~40 s


def _all_pairs_choice(value: Any) -> str:
    chosen = "auto" if value is None else str(value)
    if chosen not in ("auto", "always", "never"):
        raise ConfigError(
            f"evaluation.all_pairs_statistics={chosen!r}: choose auto, always or never"
        )
    return chosen


def _measures(names: Any) -> tuple[str, ...]:
    """`evaluation.measures`, checked (pearson and spearman are always scored)."""
    from fmri_rdm.rsa.measures import check_measure

    chosen = [check_measure(str(n)) for n in (names or [])]
    return tuple(n for n in dict.fromkeys(chosen) if n not in ("pearson", "spearman"))


@dataclass(frozen=True)
class RunSettings:
    """What the experiment loop needs of the config, read once: what is run (subject, ROI,
    metric, data source, learner class), how it is evaluated, where it goes. Below the pipeline
    only the learners' own `from_config` read the raw config."""

    output_dir: Path
    seed: int
    model_name: str
    distribution: str
    data_source: str
    accelerator: str
    optimized_metric: str  # dotted key, or "auto" (the task's headline score)
    ckpt_path: Path | None
    standardize: bool
    evaluation: EvaluationSettings
    subject: Subject  # data.subject (a folder name), else subject.id (Algonauts)
    roi: str  # data.roi, else roi.name
    metric: str  # metric.name: the distance of the measured RDM
    learner: Any  # the learner class `model.learner` names (models.registry)
    sort_by: str | None = None  # plots.sort_by: a metadata column of the stimuli

    @classmethod
    def from_config(cls, cfg: DictConfig) -> RunSettings:
        from fmri_rdm.models.registry import learner_class  # a network's module imports torch

        ckpt = cfg.get("ckpt_path")
        trainer: Any = cfg.get("trainer") or {}
        return cls(
            output_dir=Path(cfg.paths.output_dir),
            seed=int(cfg.seed),
            model_name=str(cfg.model.name),
            distribution=str(cfg.distribution.name),
            data_source=str(cfg.data.source),
            accelerator=str(trainer.get("accelerator", "cpu")),
            optimized_metric=str(cfg.get("optimized_metric", "auto")),
            ckpt_path=None if ckpt in (None, "") else Path(str(ckpt)).expanduser(),
            standardize=bool(cfg.data.standardize),
            evaluation=EvaluationSettings.from_config(cfg.evaluation),
            subject=run_subject(cfg),
            roi=run_roi(cfg),
            metric=str(cfg.metric.name),
            learner=learner_class(cfg.model),
            sort_by=(cfg.get("plots") or {}).get("sort_by") or None,
        )

    def encoding_model(self) -> DictConfig:
        """The encoding baseline's model config (`evaluation.encoding_model`)."""
        if self.evaluation.encoding_model is None:
            raise ConfigError(
                "evaluation.encoding_model is missing: it composes conf/model/encoding.yaml "
                "(restore conf/evaluation/default.yaml's defaults) or set "
                "evaluation.encoding_baseline=false"
            )
        return self.evaluation.encoding_model
