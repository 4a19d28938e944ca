"""The learner protocol: what the experiment loop knows of a model.

A learner is fitted on the training images (and their pairs) of one fold, predicts a
dissimilarity for any pair of images of a table, and saves/loads itself in a run directory.
The experiment never asks which model it runs; everything model-specific lives behind this
protocol, and a new model is a new learner plus a `conf/model/<name>.yaml` whose `learner`
key names its class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
from omegaconf import MISSING, DictConfig

from fmri_rdm.errors import DataError
from fmri_rdm.rsa.splits import PairSplit

TaskName = Literal["regression", "classification"]


@dataclass
class ModelConfig:
    """What every model config names; a learner's `config_schema` extends it (types only:
    the values live in conf/model/<name>.yaml)."""

    name: str = MISSING
    learner: str = MISSING  # the learner class, <module>.<Class> (registry.learner_class)
    input: str = MISSING  # embeddings | pixels (embeddings.embedder_for)


@dataclass
class FoldData:
    """What a learner may read when it is fitted on one fold.

    table: (N, ...) model inputs of every image of the run (embeddings (N, D) or pixels).
    train_images: (T,) indices of the fold's training images (validation images included).
    fit_images / val_images: an image-disjoint split of train_images for learners that hold
        out a validation set (val_images is empty when evaluation.val_size = 0 or the learner
        uses no validation: then fit_images = train_images).
    fit, val: the pairs among fit_images / val_images and their targets (RDM values for a
        regression learner, bool "dissimilar" labels for a classifier); val may be empty.
    train: the pairs among all train_images (fit and val pairs and those that straddle them).
    responses: (N, V) float32 voxel responses of every image; a learner reads only the rows of
        its training images (the encoding model).
    """

    fold: int
    seed: int
    metric: str
    table: np.ndarray
    train_images: np.ndarray
    fit_images: np.ndarray
    val_images: np.ndarray
    fit: PairSplit
    val: PairSplit
    train: PairSplit
    responses: np.ndarray
    output_dir: Path
    logger: Any = None
    resume_from: Path | None = None


@dataclass
class FitReport:
    """What a fit tells the run: extra per-fold facts (epochs, alphas, ...) and curves."""

    facts: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float | None]] = field(default_factory=dict)


@runtime_checkable
class Learner(Protocol):
    """A model of pair dissimilarities, as the experiment loop sees it."""

    task: ClassVar[TaskName]
    # dataclass of the `model` keys (learners.registry.model_settings checks a run's config)
    config_schema: ClassVar[type]

    resumable: ClassVar[bool]  # whether `ckpt_path=` can resume an interrupted fit
    # whether it fits on fit_* and selects on val_* (else it gets all training images as fit_*)
    uses_validation: ClassVar[bool]
    # whether it fits nothing (a fixed model: the same prediction of a pair in every fold, e.g.
    # classical RSA or a hypothesis RDM): the run then also scores it on ALL pairs (metrics.json
    # `all_pairs`) and the group level knows its 2-factor interval is not conditional on fits.
    # Read with `fits_nothing(...)`, which takes a learner without the attribute as fitted.
    fits_nothing: ClassVar[bool]

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Learner:
        """A fresh, unfitted learner for this run's config (one per fold)."""
        ...

    def fit(self, data: FoldData) -> FitReport:
        """Fit on the fold's training images/pairs."""
        ...

    def predict(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(P,) float32 predicted dissimilarity of pairs (i, j) of `table`'s images (for a
        classifier: a decision value, > 0 = dissimilar)."""
        ...

    def save(self, run_dir: Path, fold: int) -> Path | None:
        """Write the fitted learner into the run directory; returns the file (None: nothing
        was fitted)."""
        ...

    @classmethod
    def load(cls, run_dir: Path, fold: int, cfg: DictConfig) -> Learner:
        """The fitted learner of `fold` that `save` wrote into `run_dir`."""
        ...

    @classmethod
    def saved_folds(cls, run_dir: Path) -> list[int]:
        """Folds whose fitted learner `run_dir` holds."""
        ...


def fits_nothing(learner: Any) -> bool:
    """Whether a learner (or learner class) is fixed: its `fits_nothing` class attribute
    (False when it has none)."""
    return bool(getattr(learner, "fits_nothing", False))


def saved_fold_numbers(run_dir: Path, pattern: str) -> list[int]:
    """Fold numbers of the files `pattern` (with a `{fold}` field) matches in `run_dir`."""
    regex = re.compile(re.escape(Path(pattern).name).replace(r"\{fold\}", r"(\d+)") + "$")
    found = Path(run_dir).glob(pattern.format(fold="*"))
    return sorted(int(m.group(1)) for p in found if (m := regex.match(p.name)))


def saved_file(run_dir: Path, pattern: str, fold: int) -> Path:
    """The file `pattern` names for `fold` in `run_dir`; DataError when it is missing."""
    path = Path(run_dir) / pattern.format(fold=fold)
    if not path.is_file():
        raise DataError(f"no fitted model for fold {fold} in {run_dir}: {path.name} is missing")
    return path
