"""Predict dissimilarities for new images with a trained run (no fMRI needed).

    python predict.py run=outputs/train/<date>/<time> images=<folder of images>
    python predict.py run=<run dir> pairs=a.png,b.png

The run's own config rebuilds the embedder (same backend, weights and layer) and the network;
the prediction is the mean over the run's folds' best checkpoints (an ensemble), or one fold
with `fold=K`. A regression run's predictions are calibrated onto the measured RDM's scale with
each fold's saved map (`calibration_fold<k>.json`; runs without them predict uncalibrated).
Writes `<out>/predicted_rdm.npy` (condensed, scipy pdist order), the image list and a heatmap;
`out` defaults to `<run>/predictions/<folder name>`.

The arguments are `key=value` like train.py's, checked against a typed schema (`PredictArgs`):
a misspelt key or a non-integer fold is one line `error: ...` with a suggestion and exit status
2, through the same wrapper as train.py (`entry.wrapper`). Values are taken verbatim (no Hydra
override grammar), so `pairs=a.png,b.png` and paths with spaces or brackets work.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import MISSING, DictConfig, OmegaConf

from fmri_rdm.data.images import image_files
from fmri_rdm.entry.wrapper import exit_status
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.pipeline.inputs import model_table
from fmri_rdm.rsa.pairs import all_pairs

log = logging.getLogger(__name__)


def load_run_config(run_dir: Path) -> DictConfig:
    """The resolved config a run was trained with (`<run>/run_config.yaml`)."""
    path = Path(run_dir) / "run_config.yaml"
    if not path.is_file():
        raise DataError(f"{run_dir} is not a run directory: {path} is missing")
    cfg = OmegaConf.load(path)
    assert isinstance(cfg, DictConfig)
    return cfg


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder in sorted order (the RDM's row order)."""
    if not Path(folder).is_dir():
        raise DataError(f"image folder {folder} does not exist")
    paths = image_files(folder)  # stray files (.DS_Store, Thumbs.db, README.txt) skipped
    if len(paths) < 2:
        raise DataError(f"{folder} holds {len(paths)} image(s); at least 2 are needed")
    return paths


def predict_pairs(
    run_dir: Path, paths: Sequence[Path], i: np.ndarray, j: np.ndarray, fold: int | None = None
) -> np.ndarray:
    """Predicted dissimilarity of pairs (i, j) of `paths` (a classifier's decision value, > 0 =
    dissimilar), averaged over the run's folds unless `fold` is given."""
    from fmri_rdm.models.calibration import load_learner, saved_folds

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    folds = saved_folds(run_dir, cfg) if fold is None else [fold]
    if not folds:
        raise DataError(f"no trained model of {cfg.model.name} in {run_dir}")
    # built exactly as in training (same embedder, weights, layer, or pixel size)
    table, _ = model_table(cfg, list(paths))
    predictions = [load_learner(run_dir, f, cfg).predict(table, i, j) for f in folds]
    return np.mean(predictions, axis=0).astype(np.float32)


def predict_rdm(run_dir: Path, paths: Sequence[Path], fold: int | None = None) -> np.ndarray:
    """Condensed predicted RDM (N(N-1)/2,) of the images, in scipy pdist order."""
    i, j = all_pairs(len(paths))
    return predict_pairs(run_dir, paths, i, j, fold)


@dataclass
class PredictArgs:
    """predict.py's arguments (`key=value`); each default is here only."""

    run: str = MISSING  # the run directory
    images: str | None = None  # a folder: predict the RDM of its images
    pairs: str | None = None  # a.png,b.png: predict one pair's dissimilarity
    fold: int | None = None  # one fold's model instead of the mean over folds
    out: str | None = None  # where the RDM goes (default <run>/predictions/<folder name>)


USAGE = "give run=<run dir> and exactly one of images=<folder> or pairs=a.png,b.png"
PAIR_LABELS = {
    "correlation": "correlation distance (1 - Pearson r)",
    "euclidean": "Euclidean distance",
}


def parse_args(argv: Sequence[str]) -> PredictArgs:
    """`key=value` items -> typed arguments (a misspelt key or a bad type raises OmegaConf's
    error, which the entry point reports with a suggestion)."""
    values: dict[str, str] = {}
    for item in argv:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"unexpected argument {item!r}: {USAGE} (optional fold=K, out=...)")
        values[key] = value
    merged = OmegaConf.merge(OmegaConf.structured(PredictArgs), values)
    if OmegaConf.is_missing(merged, "run") or (merged.images is None) == (merged.pairs is None):
        raise ConfigError(USAGE)
    args = OmegaConf.to_object(merged)
    assert isinstance(args, PredictArgs)
    return args


def _predict_pair(args: PredictArgs) -> None:
    a, sep, b = str(args.pairs).partition(",")
    if not sep:
        raise ConfigError("pairs= takes two image paths separated by a comma")
    pair_paths = [Path(a), Path(b)]
    for p in pair_paths:
        if not p.is_file():
            raise DataError(f"image {p} does not exist")
    zero = np.zeros(1, np.int64)
    value = predict_pairs(Path(args.run), pair_paths, zero, zero + 1, args.fold)[0]
    metric = str(load_run_config(Path(args.run)).metric.name)
    what = PAIR_LABELS.get(metric, f"{metric} dissimilarity")
    which = (
        f"fold {args.fold}'s model"
        if args.fold is not None
        else "mean over the run's folds' models"
    )
    print(
        f"predicted {what} of {pair_paths[0].name} and {pair_paths[1].name}: {value:.4f} ({which})"
    )


def _predict_folder(args: PredictArgs) -> None:
    run_dir, folder = Path(args.run), Path(str(args.images))
    paths = list_images(folder)
    rdm = predict_rdm(run_dir, paths, args.fold)
    out = Path(args.out or run_dir / "predictions" / folder.name)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "predicted_rdm.npy", rdm)
    (out / "images.txt").write_text("\n".join(str(p) for p in paths) + "\n")
    _heatmap(rdm, list(paths), load_run_config(run_dir), out / "predicted_rdm.png", args.fold)
    print(f"predicted RDM of {len(paths)} images -> {out / 'predicted_rdm.npy'}")


HELP = """usage: python predict.py run=<run dir> images=<folder> [fold=K] [out=<folder>]
       python predict.py run=<run dir> pairs=a.png,b.png [fold=K]

Predict dissimilarities of new images with a trained run (no fMRI needed).

  run=DIR        the run directory (outputs/<task>/<date>/<time>, or a sweep job)
  images=FOLDER  predict the RDM of the folder's images: writes predicted_rdm.npy (condensed,
                 scipy pdist order), images.txt and predicted_rdm.png
  pairs=A,B      print the predicted dissimilarity of one pair of images
  fold=K         use fold K's model only (default: the mean over the run's folds' models)
  out=FOLDER     where images= writes (default <run>/predictions/<folder name>)"""


def main(argv: Sequence[str] | None = None) -> int:
    """predict.py: 0, or 2 after one line `error: ...` for a user error."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    given = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help", "help") for a in given):
        print(HELP)
        return 0
    parsed: list[PredictArgs] = []
    status = exit_status(lambda: parsed.append(parse_args(given)))
    if status:
        return status
    args = parsed[0]
    predict = _predict_pair if args.pairs is not None else _predict_folder
    # past the arguments, an OmegaConf error reading the run's config is a bug (traceback)
    return exit_status(lambda: predict(args), running=True)


def _heatmap(
    rdm: np.ndarray, paths: list[Path], cfg: DictConfig, path: Path, fold: int | None
) -> None:
    """predicted_rdm.png: colours span the off-diagonal values, few images named on the axes."""
    from fmri_rdm.plots import rdm_heatmap, save_figure

    metric, n = str(cfg.metric.name), len(paths)
    which = "mean over the run's folds" if fold is None else f"fold {fold}"
    title = f"Predicted RDM ({cfg.model.name}, {n} images, {which})"
    names = [p.name for p in paths]
    save_figure(rdm_heatmap(rdm, n, metric, title=title, names=names), path)
