"""Candidate RDMs as models: a fixed hypothesis RDM (`model=rdm`), and a non-negative weighted
combination of several (`model=weighted`).

Both read the table of root-stimulus positions (`model.input: stimuli`, see `stimulus_table`),
so they run on folders without images. `FixedRDMLearner` fits nothing: its prediction for a
pair is the candidate's dissimilarity. `WeightedRDMLearner` fits y ~ b0 + sum_k w_k x_k with
w_k >= 0 on the fold's fit pairs (`rsa.weighting`) and saves b0 and w per fold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from omegaconf import MISSING, DictConfig

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.base import (
    FitReport,
    FoldData,
    ModelConfig,
    TaskName,
    saved_file,
    saved_fold_numbers,
)
from fmri_rdm.models.candidates.loading import COLUMN, Candidate, cached_candidate, stamp_of
from fmri_rdm.models.registry import model_settings
from fmri_rdm.rsa.partition import MAX_CANDIDATES, partition_variance
from fmri_rdm.rsa.weighting import nonnegative_least_squares, pair_gram
from fmri_rdm.runtime.artifacts import write_json

WEIGHTS_FILE = "weighted_fold{fold}.json"


@dataclass
class FixedRDMConfig(ModelConfig):
    rdm: str | None = MISSING  # ROOT/models/<rdm>.rdm.npy / .rdm.hdf5
    column: str | None = MISSING  # a stimuli.tsv column: its categorical RDM


@dataclass
class WeightedRDMConfig(ModelConfig):
    rdms: list[str] = MISSING  # names, column:<col>, embedding


def _root(cfg: DictConfig) -> Path:
    if str(cfg.data.get("source")) != "folder" or not cfg.data.get("root"):
        raise ConfigError(
            f"model={cfg.model.get('name')} reads candidate RDMs of a data folder: use "
            "data=folder data.root=/path/to/dataset (docs/testing_model_rdms.md)"
        )
    return Path(str(cfg.data.root)).expanduser()


def candidate(cfg: DictConfig, spec: str) -> Candidate:
    """The candidate `spec` (`<name>` or `column:<col>`) of the run's data folder."""
    root = _root(cfg)
    return cached_candidate(str(root), str(spec), stamp_of(root, str(spec)))


def positions(table: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root-stimulus positions (P,) of the pairs' two stimuli from an (N, 1) position table."""
    column = np.rint(np.asarray(table).reshape(len(table), -1)[:, 0]).astype(np.int64)
    return column[np.asarray(i)], column[np.asarray(j)]


class FixedRDMLearner:
    """One candidate RDM, nothing fitted: `model.rdm=<name>` or `model.column=<col>`."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = True  # a fixed model: the same prediction in every fold
    config_schema: ClassVar[type] = FixedRDMConfig

    def __init__(self, rdm: Candidate) -> None:
        self.rdm = rdm

    @classmethod
    def spec(cls, settings: FixedRDMConfig) -> str:
        if bool(settings.rdm) == bool(settings.column):
            raise ConfigError(
                "model=rdm needs one of model.rdm=<name> (ROOT/models/<name>.rdm.npy) or "
                "model.column=<stimuli.tsv column>"
            )
        return str(settings.rdm) if settings.rdm else f"{COLUMN}{settings.column}"

    @classmethod
    def from_config(cls, cfg: DictConfig) -> FixedRDMLearner:
        return cls(candidate(cfg, cls.spec(model_settings(cls, cfg.model))))

    def fit(self, data: FoldData) -> FitReport:
        return FitReport({"candidate": self.rdm.name})

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.rdm.values(*positions(table, i, j))

    def save(self, run_dir: Path, fold: int) -> None:
        return None  # nothing was fitted

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> FixedRDMLearner:
        return cls.from_config(cfg)

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return [0]  # every fold is the same model


EMBEDDING = "embedding"  # the candidate of model.rdms that is the embedding RDM
WITH_EMBEDDINGS = "stimuli+embeddings"  # model.input: position column, then the embedding


@dataclass(frozen=True)
class EmbeddingCandidate:
    """The embedding RDM as a candidate: the metric's dissimilarity of the two stimuli's
    embeddings, read from columns 1: of a `stimuli+embeddings` table."""

    metric: str
    name: str = EMBEDDING

    def pairs(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        from fmri_rdm.rsa.rdm import pair_distances

        return pair_distances(np.asarray(table[:, 1:], dtype=np.float32), i, j, self.metric)


def _pairs(found: Candidate | EmbeddingCandidate, table: np.ndarray, i: Any, j: Any) -> np.ndarray:
    """(P,) values of one candidate for pairs (i, j) of the run's table."""
    if isinstance(found, EmbeddingCandidate):
        return found.pairs(table, i, j)
    return found.values(*positions(table, i, j))


class WeightedRDMLearner:
    """y ~ b0 + sum_k w_k x_k, w_k >= 0, over candidates `model.rdms`, fitted on fit pairs."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False  # fits the candidates' weights per fold
    calibration_default: ClassVar[str] = "none"  # least squares on the targets already
    config_schema: ClassVar[type] = WeightedRDMConfig

    def __init__(self, candidates: list[Candidate | EmbeddingCandidate]) -> None:
        self.candidates = candidates
        self.intercept = 0.0
        self.weights = np.zeros(len(candidates))

    @classmethod
    def from_config(cls, cfg: DictConfig) -> WeightedRDMLearner:
        settings = model_settings(cls, cfg.model)
        specs = [str(s) for s in settings.rdms]
        if len(specs) < 2 or len(set(specs)) != len(specs):
            raise ConfigError(
                f"model=weighted needs 2 or more distinct candidates in model.rdms, got {specs}"
            )
        if EMBEDDING in specs and cfg.model.get("input") != WITH_EMBEDDINGS:
            raise ConfigError(
                f"model.rdms names {EMBEDDING!r}: add model.input={WITH_EMBEDDINGS} (the run then "
                "also reads the images' embeddings)"
            )
        metric = str((cfg.get("metric") or {}).get("name", "correlation"))
        return cls(
            [EmbeddingCandidate(metric) if s == EMBEDDING else candidate(cfg, s) for s in specs]
        )

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.candidates]

    def _columns(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
        return [_pairs(c, table, i, j) for c in self.candidates]

    def fit(self, data: FoldData) -> FitReport:
        columns = self._columns(data.table, data.fit.i, data.fit.j)
        self.intercept, self.weights = nonnegative_least_squares(pair_gram(columns, data.fit.y))
        fit_scores = _fit_correlations(self.names, columns, data.fit.y, self.combine(columns))
        return FitReport(
            {
                "weights": dict(zip(self.names, map(float, self.weights), strict=True)),
                "intercept": self.intercept,
                "fit_pearson": fit_scores,
            }
        )

    def combine(self, columns: list[np.ndarray]) -> np.ndarray:
        """(P,) float64 b0 + sum_k w_k x_k of the candidates' (P,) columns."""
        out = np.full(columns[0].shape, self.intercept, dtype=np.float64)
        for w, x in zip(self.weights, columns, strict=True):
            out += w * x
        return out

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.combine(self._columns(table, i, j)).astype(np.float32)

    def save(self, run_dir: Path, fold: int) -> Path:
        path = Path(run_dir) / WEIGHTS_FILE.format(fold=fold)
        state = {"candidates": self.names, "weights": self.weights.tolist()}
        write_json(path, state | {"intercept": self.intercept})
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> WeightedRDMLearner:
        learner = cls.from_config(cfg)
        state = json.loads(saved_file(run_dir, WEIGHTS_FILE, fold).read_text())
        learner.weights = np.asarray(state["weights"], dtype=np.float64)
        learner.intercept = float(state["intercept"])
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, WEIGHTS_FILE)

    @classmethod
    def run_facts(cls, cfg: DictConfig, inputs: Any, folds: list[Any]) -> dict[str, Any]:
        """metrics.json's `variance_partition`: the unique and shared variance of the run's
        brain RDM that 2-4 candidates explain, cross-validated over the run's image-disjoint
        folds (`rsa.partition`); {} for more candidates."""
        learner = cls.from_config(cfg)
        if len(learner.candidates) > MAX_CANDIDATES:
            return {}
        named = {c.name: _pairs(c, inputs.table, inputs.i, inputs.j) for c in learner.candidates}
        found = partition_variance(named, inputs.y, inputs.i, inputs.j, folds, inputs.n_images)
        return {"variance_partition": found}


def _fit_correlations(
    names: list[str], columns: list[np.ndarray], y: np.ndarray, combined: np.ndarray
) -> dict[str, Any]:
    """Pearson r on the fit pairs of the combination ("combined") and of each candidate alone."""
    from fmri_rdm.rsa.measures import pearson

    alone = {name: pearson(x, y) for name, x in zip(names, columns, strict=True)}
    return {"combined": pearson(combined, y), **alone}
