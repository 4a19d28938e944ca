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
    from fmri_rdm.pipeline.inputs import prepare_inputs
    from fmri_rdm.pipeline.selection import make_folds
    from fmri_rdm.pipeline.settings import RunSettings
    from fmri_rdm.pipeline.task import ClassificationTask
    from fmri_rdm.rsa.splits import split_pairs

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

    from fmri_rdm.models.svm.classifier import SVMPairClassifier

    i, j, y = fold.train
    ti, tj, ty = fold.test
    model = SVMPairClassifier(method=method, max_train_pairs=max(2, n_pairs), **kwargs)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(fold.table, i, j, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    decision = model.decision_function(fold.table, ti, tj)
    predict_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu  # all threads: steadier than wall time on a busy machine
    return {
        "fold": fold.name,
        "method": method,
        "pairs": int(model.n_train_pairs or 0),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "cpu_s": cpu_s,
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
        f"{p['predict_s']:.2f} | {p['cpu_s']:.1f} | {p['accuracy']:.3f} | {p['roc_auc']:.3f} |"
    )


SVM_HEADER = (
    "| fold | method | training pairs | fit s | predict s | CPU s (fit+predict) | accuracy "
    "| ROC-AUC |\n"
    "|---|---|---|---|---|---|---|---|"
)


def ridge_data(images: int, voxels: int, dim: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Random embeddings (images, dim) and responses = a hidden linear map of varying strength
    per voxel + noise, float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((images, dim), dtype=np.float32)
    w = rng.standard_normal((dim, voxels), dtype=np.float32) * rng.uniform(0, 0.1, voxels)
    y = x @ w.astype(np.float32) + rng.standard_normal((images, voxels), dtype=np.float32)
    return x, y


def direct_ridge_cv(x: np.ndarray, y: np.ndarray, alphas: np.ndarray, splits: list) -> np.ndarray:
    """The baseline: a plain float32 direct solve. Per split, eigh of the centred X'X once, then
    every alpha's predictions and R²; the alpha per voxel with the best mean R²; the refit on
    all rows. Returns the chosen alphas (V,)."""
    scores = np.zeros((len(alphas), y.shape[1]))
    for train, test in splits:
        mx, my = x[train].mean(0), y[train].mean(0)
        xtr, xte, ytr, yte = x[train] - mx, x[test] - mx, y[train] - my, y[test] - my
        s, v = np.linalg.eigh(xtr.T @ xtr)
        a, b = xte @ v, v.T @ (xtr.T @ ytr)
        sst = ((yte - yte.mean(0)) ** 2).sum(0)
        for k, alpha in enumerate(alphas):
            pred = (a / (np.maximum(s, 0) + np.float32(alpha))) @ b
            scores[k] += 1 - ((yte - pred) ** 2).sum(0) / sst
    # ties (alphas so large that every prediction is the mean) go to the larger alpha, as in
    # himalaya
    chosen = np.asarray(alphas)[np.argmax(scores + 1e-10 * np.log(alphas)[:, None], axis=0)]
    xc, yc = x - x.mean(0), y - y.mean(0)
    s, v = np.linalg.eigh(xc.T @ xc)
    b = v.T @ (xc.T @ yc)
    for alpha in np.unique(chosen):
        cols = chosen == alpha
        _ = v @ (b[:, cols] / (np.maximum(s, 0) + np.float32(alpha))[:, None])
    return chosen


def ridge_point(images: int, voxels: int, dim: int) -> dict[str, Any]:
    """Fit times of the project's encoding model (default solver), himalaya (the solver before
    issue 29), the direct solve and scikit-learn's RidgeCV (leave-one-out), on one fold's
    training images; and how often their alphas agree with the direct solve's."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold

    from fmri_rdm.models.base import FoldData
    from fmri_rdm.models.encoding.learner import DEFAULT_ALPHAS, EncodingLearner
    from fmri_rdm.rsa.splits import PairSplit

    x, y = ridge_data(images, voxels, dim)
    none = np.zeros(0, np.int64)
    no_pairs = PairSplit(none, none, none.astype(np.float32))
    everything = np.arange(images)
    data = FoldData(
        fold=0, seed=0, metric="correlation", table=x, train_images=everything,
        fit_images=everything, val_images=none, fit=no_pairs, val=no_pairs, train=no_pairs,
        responses=y, output_dir=None,  # type: ignore[arg-type]
    )  # fmt: skip
    out: dict[str, Any] = {"images": images, "voxels": voxels, "dim": dim}
    alphas: dict[str, np.ndarray] = {}
    for name, solver in (("project", "auto"), ("himalaya", "himalaya")):
        learner = EncodingLearner(backend="torch", solver=solver)
        start = time.perf_counter()
        learner.fit(data)
        out[f"{name}_s"] = time.perf_counter() - start
        alphas[name] = learner.state["best_alphas"].astype(np.float64)
    xs = (x - x.mean(0)) / x.std(0)  # what the learner fits on
    splits = list(KFold(5, shuffle=True, random_state=0).split(xs))
    start = time.perf_counter()
    direct = direct_ridge_cv(xs, y, np.asarray(DEFAULT_ALPHAS), splits)
    out["direct_s"] = time.perf_counter() - start
    start = time.perf_counter()
    loo = RidgeCV(alphas=DEFAULT_ALPHAS, alpha_per_target=True).fit(xs, y)
    out["ridgecv_loo_s"] = time.perf_counter() - start
    out["ratio_project_direct"] = out["project_s"] / out["direct_s"]
    out["ratio_himalaya_project"] = ratio_of(out["himalaya_s"], out["project_s"])
    for name, chosen in alphas.items():
        out[f"{name}_alphas_agree"] = float(np.mean(np.isclose(chosen, direct, rtol=1e-4)))
    out["alpha_median"] = {"direct": float(np.median(direct)),
                           "ridgecv_loo": float(np.median(loo.alpha_))}  # fmt: skip
    return out


RIDGE_HEADER = (
    "| images x voxels | project s | himalaya s | direct s | RidgeCV (LOO) s | project / direct"
    " | himalaya / project | alphas = direct (project, himalaya) | median alpha (direct, LOO) |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _ridge_line(p: dict[str, Any]) -> str:
    return (
        f"| {p['images']:,} x {p['voxels']:,} | {p['project_s']:.1f} | {p['himalaya_s']:.1f} | "
        f"{p['direct_s']:.1f} | {p['ridgecv_loo_s']:.1f} | {p['ratio_project_direct']:.2f} | "
        f"{p['ratio_himalaya_project']:.2f} | {p['project_alphas_agree']:.3f}, "
        f"{p['himalaya_alphas_agree']:.3f} | {p['alpha_median']['direct']:g}, "
        f"{p['alpha_median']['ridgecv_loo']:g} |"
    )


def bench_svm_ridge(sizes: Sizes) -> list[Row]:
    """`bench.run --only svm_ridge`: the SVM on a toy fold (exact vs default) and the ridge
    fit at one size (quick sizes for tests: see the module's CLI for the measured tables)."""
    quick = sizes.train_dim < 64  # Sizes.quick()
    fold = toy_fold(40 if quick else 400, 8 if quick else 64)
    n = len(fold.train[0])
    landmarks = 100 if quick else 500
    exact, new = svm_point(fold, "exact", n), svm_point(fold, "nystroem", n, n_components=landmarks)
    acc = (
        f"acc {new['accuracy']:.3f} vs {exact['accuracy']:.3f}, "
        f"AUC {new['roc_auc']:.3f} vs {exact['roc_auc']:.3f}"
    )
    base_s, proj_s = exact["fit_s"] + exact["predict_s"], new["fit_s"] + new["predict_s"]
    rows = [Row(
        "SVM fit+predict: nystroem vs exact SVC (toy fold, all pairs)", f"{n:,} pairs", proj_s,
        base_s, ratio_of(base_s, proj_s), target=acc,
        met=min(new["roc_auc"] - exact["roc_auc"], new["accuracy"] - exact["accuracy"]) >= -0.01,
    )]  # fmt: skip
    images, voxels = (60, 20) if quick else (2000, 500)
    p = ridge_point(images, voxels, 16 if quick else 512)
    rows.append(Row(
        "encoding fit: project vs direct float32 solve", f"{images:,} x {voxels:,} voxels",
        p["project_s"], p["direct_s"], ratio_of(p["direct_s"], p["project_s"]),
        target="<= 1.2x the direct solve, same alphas",
        met=p["ratio_project_direct"] <= 1.2 and p["project_alphas_agree"] == 1.0,
    ))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("svm", "ridge"))
    parser.add_argument("--experiment", default="demo")
    parser.add_argument("--folds", default="0")
    parser.add_argument("--exact-pairs", default="5000,20000")
    parser.add_argument("--pairs", default="5000,20000,0", help="nystroem sizes (0 = all)")
    parser.add_argument("--voxels", default="500,2000")
    parser.add_argument("--images", type=int, default=2000, help="ridge: training images")
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
    else:
        images = 60 if args.quick else args.images
        print(RIDGE_HEADER, flush=True)
        for voxels in [20] if args.quick else [int(v) for v in args.voxels.split(",")]:
            print(_ridge_line(ridge_point(images, voxels, 16 if args.quick else 512)), flush=True)
    print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
