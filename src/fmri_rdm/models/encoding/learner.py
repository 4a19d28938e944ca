"""Voxelwise ridge encoding model as a learner (a direct eigendecomposition solve, or himalaya).

Embeddings -> every voxel's response, with one ridge penalty per voxel chosen by
cross-validation on the fold's training images only; a pair's predicted dissimilarity is the
run's metric (1 − Pearson r, or Euclidean distance) between the two images' predicted
responses, i.e. the RDM of the predicted responses. It needs no pairs to fit, so it scales
with images × voxels, not with pairs.

`model.solver`: `eigh` (models/encoding/ridge_eigh.py: one eigendecomposition per CV split, every
alpha from it; the same estimator as himalaya's RidgeCV), `himalaya`, or `auto`: himalaya on
a GPU (backend torch_cuda, issue 25's path), eigh on the CPU. `model.backend` picks himalaya's
backend; eigh runs on numpy, or on torch's CUDA device with backend=torch_cuda.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from fmri_rdm.models.registry import model_settings
from fmri_rdm.rsa.rdm import check_metric, pair_distances
from fmri_rdm.runtime.artifacts import write_npz
from fmri_rdm.runtime.once import warn_once

log = logging.getLogger(__name__)

BACKENDS = ("auto", "numpy", "torch", "torch_cuda")
SOLVERS = ("auto", "eigh", "himalaya")
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-2, 8, 21))


def himalaya_backend(requested: str, accelerator: str | None = None) -> str:
    """`auto`: torch_cuda when the run trains on a GPU that is present, else torch on the CPU
    (chosen for speed over himalaya's numpy backend; no bench in bench/ measures that ratio yet)."""
    if requested not in BACKENDS:
        raise ConfigError(f"model.backend={requested!r}: choose one of {', '.join(BACKENDS)}")
    if requested != "auto":
        return requested
    if accelerator in ("gpu", "cuda"):
        import torch

        if torch.cuda.is_available():
            return "torch_cuda"
    return "torch"


@dataclass
class EncodingConfig(ModelConfig):
    log10_alpha_min: float = MISSING
    log10_alpha_max: float = MISSING
    n_alphas: int = MISSING
    cv: int = MISSING
    backend: str = MISSING
    n_targets_batch: int = MISSING
    solver: str = MISSING


class EncodingLearner:
    """Ridge from standardised embeddings (N, D) to responses (N, V), alpha per voxel."""

    task: ClassVar[TaskName] = "regression"
    resumable: ClassVar[bool] = False
    uses_validation: ClassVar[bool] = False
    fits_nothing: ClassVar[bool] = False
    config_schema: ClassVar[type] = EncodingConfig
    # its distances live on another scale; calibrated on out-of-sample training pairs, since
    # in-sample ones overshoot (holdout test R²: -0.015 from training pairs, see calibration.py)
    calibration_default: ClassVar[str] = "cv"
    needs_responses: ClassVar[bool] = True  # refused on RDM-only data (run.data_kind)
    FILE = "encoding_fold{fold}.npz"

    def __init__(
        self,
        metric: str = "correlation",
        alphas: Sequence[float] | np.ndarray = DEFAULT_ALPHAS,
        cv: int = 5,
        backend: str = "torch",
        n_targets_batch: int = 8192,
        config_key: str = "model",
        solver: str = "auto",
    ) -> None:
        self.metric = check_metric(metric)
        # where its settings live: `model` for model=encoding, `evaluation.encoding_model`
        # for the encoding baseline of every other regression model (named in its warnings)
        self.config_key = config_key
        self.alphas = np.asarray(alphas, dtype=np.float64)
        if self.alphas.size == 0 or np.any(self.alphas <= 0):
            raise ConfigError(f"model.alphas must be positive, got {list(self.alphas)}")
        if cv < 2:
            raise ConfigError(f"model.cv must be >= 2 folds, got {cv}")
        self.cv, self.backend, self.n_targets_batch = int(cv), backend, int(n_targets_batch)
        if solver not in SOLVERS:
            raise ConfigError(f"model.solver={solver!r}: choose one of {', '.join(SOLVERS)}")
        # auto: himalaya where it runs on the GPU (as before), the direct solve on the CPU
        self.solver = solver if solver != "auto" else (
            "himalaya" if backend == "torch_cuda" else "eigh"
        )  # fmt: skip
        self.state: dict[str, np.ndarray] = {}

    @classmethod
    def from_config(cls, cfg: DictConfig) -> EncodingLearner:
        accelerator = str(cfg.trainer.get("accelerator", "cpu"))
        return cls.from_model_config(cfg.model, str(cfg.metric.name), accelerator)

    @classmethod
    def from_model_config(
        cls, model: DictConfig, metric: str, accelerator: str = "cpu", config_key: str = "model"
    ) -> EncodingLearner:
        """From a `model=encoding` config node (the run's model, or the encoding baseline's
        `evaluation.encoding_model`); `config_key` is where that node lives in the run config."""
        m = model_settings(cls, model)
        alphas = np.logspace(m.log10_alpha_min, m.log10_alpha_max, m.n_alphas)
        return cls(
            metric=metric,
            alphas=alphas,
            cv=m.cv,
            backend=himalaya_backend(m.backend, accelerator),
            n_targets_batch=m.n_targets_batch,
            config_key=config_key,
            solver=m.solver,
        )

    def settings(self) -> tuple[str, tuple[float, ...], int]:
        """What determines the fitted model besides the data (the backend only changes speed)."""
        return self.metric, tuple(float(a) for a in self.alphas), self.cv

    def fit(self, data: FoldData) -> FitReport:
        from sklearn.model_selection import KFold

        images = data.train_images
        if len(images) < 2 * self.cv:
            raise ConfigError(
                f"the encoding model's {self.cv}-fold alpha search needs at least {2 * self.cv} "
                f"training images, the fold has {len(images)}: use more images or model.cv"
            )
        x = np.asarray(data.table[images], dtype=np.float32).reshape(len(images), -1)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        cv = KFold(self.cv, shuffle=True, random_state=data.seed)
        solve = self._solve_eigh if self.solver == "eigh" else self._solve_himalaya
        # the responses' rows of the training images are read a voxel batch at a time (eigh)
        # or copied once (himalaya), never the whole array twice
        coef, intercept, alphas, cv_scores = solve((x - mean) / scale, data.responses, images, cv)
        self.state = {
            "coef": np.asarray(coef, dtype=np.float32),
            "intercept": np.asarray(intercept, dtype=np.float32),
            "mean": mean,
            "scale": scale,
            "best_alphas": alphas.astype(np.float32),
            "cv_scores": np.asarray(cv_scores, dtype=np.float32),
        }
        self._warn_grid_edges(alphas)
        facts = {
            "alpha_median": float(np.median(alphas)),
            "cv_r2_median": float(np.median(self.state["cv_scores"])),
            "n_voxels": int(data.responses.shape[1]),
            "ridge_solver": self.solver,
        }
        return FitReport(facts=facts)

    def _solve_eigh(
        self, x: np.ndarray, responses: np.ndarray, rows: np.ndarray, cv: Any
    ) -> tuple[np.ndarray, ...]:
        from fmri_rdm.models.encoding.ridge_eigh import ridge_cv_eigh

        device = "cuda" if self.backend == "torch_cuda" else None
        r = ridge_cv_eigh(
            x,
            responses,
            self.alphas,
            list(cv.split(x)),
            device=device,
            n_targets_batch=self.n_targets_batch,
            rows=rows,
        )
        return r.coef, r.intercept, r.best_alphas, r.cv_scores

    def _solve_himalaya(
        self, x: np.ndarray, responses: np.ndarray, rows: np.ndarray, cv: Any
    ) -> tuple[np.ndarray, ...]:
        from himalaya.backend import set_backend
        from himalaya.ridge import RidgeCV
        from himalaya.scoring import r2_score

        backend = set_backend(self.backend, on_error="raise")
        model = RidgeCV(
            alphas=self.alphas,
            fit_intercept=True,
            cv=cv,
            # R² per voxel (himalaya's default score is the negative squared error)
            solver_params={
                "n_targets_batch": self.n_targets_batch,
                "score_func": r2_score,
                "warn": False,
            },
        )
        model.fit(x, np.asarray(responses[rows], dtype=np.float32))
        return (
            backend.to_numpy(model.coef_),
            backend.to_numpy(model.intercept_),
            np.asarray(backend.to_numpy(model.best_alphas_), dtype=np.float64),
            backend.to_numpy(model.cv_scores_),
        )

    def _warn_grid_edges(self, alphas: np.ndarray) -> None:
        """Once per run and grid edge: the advice is the same in every fold."""
        what = "encoding model" if self.config_key == "model" else "encoding baseline"
        for edge, name, bound in (
            (self.alphas.min(), "smallest", "log10_alpha_min"),
            (self.alphas.max(), "largest", "log10_alpha_max"),
        ):
            share = float(np.mean(np.isclose(alphas, edge)))
            if share > 0.1:
                warn_once(
                    log,
                    ("encoding alpha grid", self.config_key, name),
                    "%s: %.0f%% of units chose the %s alpha (%g): widen the grid with "
                    "%s.%s (shown once per run)",
                    what,
                    100 * share,
                    name,
                    edge,
                    self.config_key,
                    bound,
                )

    def predict_responses(self, table: np.ndarray) -> np.ndarray:
        """(N, ...) model inputs -> (N, V) float32 predicted voxel responses."""
        if not self.state:
            raise ConfigError("the encoding model is not fitted: call fit() or load() first")
        s = self.state
        x = np.asarray(table, dtype=np.float32).reshape(len(table), -1)
        return ((x - s["mean"]) / s["scale"]) @ s["coef"] + s["intercept"]

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        # only the images the pairs touch are predicted: (U, V), not (N, V)
        used = np.unique(np.concatenate([np.asarray(i), np.asarray(j)]))
        responses = self.predict_responses(np.asarray(table)[used])
        pi, pj = np.searchsorted(used, i), np.searchsorted(used, j)
        return pair_distances(responses, pi, pj, self.metric)

    def save(self, run_dir: Path, fold: int) -> Path:
        path = Path(run_dir) / self.FILE.format(fold=fold)
        meta: dict[str, Any] = {"metric": np.asarray(self.metric)}
        write_npz(path, {**self.state, **meta})
        return path

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> EncodingLearner:
        path = saved_file(run_dir, cls.FILE, fold)
        with np.load(path) as saved:
            learner = cls(metric=str(saved["metric"]))
            learner.state = {k: saved[k] for k in saved.files if k != "metric"}
        return learner

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        return saved_fold_numbers(run_dir, cls.FILE)
