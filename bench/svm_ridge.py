"""The SVM and the ridge encoding model against their exact / reference solvers (issue 29).

    python -m bench.svm_ridge svm --experiment demo --folds 0,1     # the demo's folds
    python -m bench.svm_ridge svm --experiment holdout --folds 0,1
    python -m bench.svm_ridge svm --experiment student_svm_extremes --folds 0,1 data=synthetic
    python -m bench.svm_ridge ridge --voxels 500,2000               # encoding fit vs voxels
    python -m bench.svm_ridge svm --quick ; python -m bench.svm_ridge ridge --quick

SVM: fit + predict time, test accuracy and ROC-AUC against the number of training pairs for the
exact SVC (scikit-learn, the original student project's solver) and the project's default
(Nyström features + a linear SVM), on the pairs of a run's folds (the run's own inputs: the
embedding cache is used when warm; trailing `key=value` words override the config). Exact and
new run back to back in one process, so their ratio holds on a shared machine.

Ridge: the encoding model's fit (EncodingLearner) against a direct float32 solve (an
eigendecomposition of the Gram matrix once per CV split, then every alpha) and scikit-learn's
RidgeCV (efficient leave-one-out, alpha per voxel), on random embeddings and responses with a
hidden linear map. Prints markdown tables; `bench.run --only svm_ridge` gives the bench rows.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.table import Row, Sizes, ratio_of


@dataclass
class PairFold:
    """One fold's embedding table and train / test pairs with their bool labels."""

    name: str
    table: np.ndarray
    train: tuple[np.ndarray, np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray, np.ndarray]


def run_folds(experiment: str, folds: list[int], overrides: list[str]) -> list[PairFold]:
    """The classification pairs of a run's folds, built as train.py builds them."""
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    from fmri_rdm.config import register_schemas
    from fmri_rdm.rsa.splits import split_pairs
    from fmri_rdm.run.inputs import prepare_inputs
    from fmri_rdm.run.selection import make_folds
    from fmri_rdm.run.settings import RunSettings
    from fmri_rdm.run.task import ClassificationTask

    register_schemas()
    conf = Path(__file__).resolve().parents[1] / "conf"
    extra = [f"experiment={experiment}", "model=svm", "paths.output_dir=outputs/bench_svm"]
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        cfg = compose("config", overrides=[*extra, *overrides])
    inputs = prepare_inputs(cfg)
    settings = RunSettings.from_config(cfg)
    y = ClassificationTask().targets(inputs)
    splits = make_folds(inputs.n_images, settings.evaluation, settings.seed)
    table = inputs.table.reshape(inputs.n_images, -1)
    out = []
    for f in folds:
        train, test = split_pairs(inputs.i, inputs.j, *splits[f], inputs.n_images)
        parts = [(inputs.i[m], inputs.j[m], y[m]) for m in (train, test)]
        out.append(PairFold(f"{experiment} fold {f}", table, parts[0], parts[1]))
    return out


def toy_fold(n_images: int = 80, dim: int = 16, seed: int = 0) -> PairFold:
    """A small random fold: labels from a hidden quadratic function of the pair, plus noise."""
    from fmri_rdm.rsa.pairs import all_pairs
    from fmri_rdm.rsa.splits import image_disjoint_split, split_pairs

    rng = np.random.default_rng(seed)
    table = rng.standard_normal((n_images, dim)).astype(np.float32)
    i, j = all_pairs(n_images)
    score = np.sum((table[i] - table[j]) ** 2, axis=1) + rng.normal(0, dim / 2, len(i))
    y = score > np.median(score)
    train_imgs, test_imgs = image_disjoint_split(n_images, 0.25, seed=seed)
    train, test = split_pairs(i, j, train_imgs, test_imgs, n_images)
    return PairFold("toy", table, (i[train], j[train], y[train]), (i[test], j[test], y[test]))


def svm_point(fold: PairFold, method: str, n_pairs: int, **kwargs: Any) -> dict[str, Any]:
    """Fit on a stratified sample of n_pairs training pairs (all when larger), score the test
    pairs: seconds and scores."""
    from sklearn.metrics import roc_auc_score

    from fmri_rdm.models.svm import SVMPairClassifier

    i, j, y = fold.train
    ti, tj, ty = fold.test
    model = SVMPairClassifier(method=method, max_train_pairs=max(2, n_pairs), **kwargs)
    start = time.perf_counter()
    model.fit(fold.table, i, j, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    decision = model.decision_function(fold.table, ti, tj)
    predict_s = time.perf_counter() - start
    return {
        "fold": fold.name,
        "method": method,
        "pairs": int(model.n_train_pairs or 0),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "accuracy": float(np.mean((decision > 0) == ty)),
        "roc_auc": float(roc_auc_score(ty, decision)),
    }


def svm_table(folds: list[PairFold], exact_pairs: list[int], new_pairs: list[int]) -> list[dict]:
    """Exact SVC and the default at each size, fold by fold, back to back."""
    points = []
    for fold in folds:
        n = len(fold.train[0])
        for size in exact_pairs:
            points.append(svm_point(fold, "exact", min(size, n)))
            print(_svm_line(points[-1]), flush=True)
        for size in new_pairs:
            points.append(svm_point(fold, "nystroem", min(size, n) if size > 0 else n))
            print(_svm_line(points[-1]), flush=True)
    return points


def _svm_line(p: dict[str, Any]) -> str:
    return (
        f"| {p['fold']} | {p['method']} | {p['pairs']:,} | {p['fit_s']:.1f} | "
        f"{p['predict_s']:.2f} | {p['accuracy']:.3f} | {p['roc_auc']:.3f} |"
    )


SVM_HEADER = (
    "| fold | method | training pairs | fit s | predict s | accuracy | ROC-AUC |\n"
    "|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("svm", "ridge"))
    parser.add_argument("--experiment", default="demo")
    parser.add_argument("--folds", default="0")
    parser.add_argument("--exact-pairs", default="5000,20000")
    parser.add_argument("--pairs", default="5000,20000,0", help="nystroem sizes (0 = all)")
    parser.add_argument("--voxels", default="500,2000")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (machinery check)")
    args, overrides = parser.parse_known_args(argv)
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    if args.part == "svm":
        if args.quick:
            folds, exact, new = [toy_fold()], [500], [500, 0]
        else:
            folds = run_folds(args.experiment, [int(f) for f in args.folds.split(",")], overrides)
            exact = [int(s) for s in args.exact_pairs.split(",")]
            new = [int(s) for s in args.pairs.split(",")]
        print(SVM_HEADER, flush=True)
        svm_table(folds, exact, new)
    print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
