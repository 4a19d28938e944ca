"""The encoding learner at the size of a real subject: one fold of 9841 images x ~40k voxels.

    python -m bench.encoding_full_scale                      # 9841 images, 39548 voxels
    python -m bench.encoding_full_scale --voxels 5000        # a quick look

Embeddings (D = 512) and responses are random (responses = a hidden linear map + noise), the
code path is the project's: `EncodingLearner.fit` on 4/5 of the images (the direct eigh
solver, 21 alphas, 5-fold CV, voxel batches) and `predict` of every test pair (the RDM of the
predicted responses). Then, in the same process, the plain float32 direct solve of the same
computation (`bench.svm_ridge.direct_ridge_cv`, same standardised inputs and splits): its
seconds, the ratio, and the share of voxels whose alpha agrees (`--no-direct` skips it), and on
the first 4,000 voxels, how often each of the two float32 choices equals a float64 solve's.
Prints one JSON line: seconds (wall and CPU), peak RSS of the fit and predict (before the
direct solve, which holds its own copies of Y).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from fmri_rdm.models.base import FoldData
from fmri_rdm.models.encoding.learner import EncodingLearner
from fmri_rdm.models.encoding.ridge_eigh import ridge_cv_eigh
from fmri_rdm.rsa.pairs import all_pairs
from fmri_rdm.rsa.splits import PairSplit, image_disjoint_folds

EXACT_VOXELS = 4000  # voxels solved again in float64: which float32 choice is exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9841)
    parser.add_argument("--voxels", type=int, default=39548)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--no-direct", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.images, args.dim), dtype=np.float32)
    y = np.empty((args.images, args.voxels), np.float32)
    for s in range(0, args.voxels, 4096):  # hidden map + noise, in column blocks
        w = rng.standard_normal((args.dim, min(4096, args.voxels - s)), dtype=np.float32)
        y[:, s : s + w.shape[1]] = x @ w * 0.05 + rng.standard_normal((args.images, w.shape[1]))
    train, test = image_disjoint_folds(args.images, 5, seed=0)[0]
    none = np.zeros(0, np.int64)
    no_pairs = PairSplit(none, none, none.astype(np.float32))  # the encoding model reads images
    data = FoldData(
        fold=0, seed=0, metric="correlation", table=x, train_images=train, fit_images=train,
        val_images=none, fit=no_pairs, val=no_pairs, train=no_pairs, responses=y,
        output_dir=Path("."),
    )  # fmt: skip
    learner = EncodingLearner()
    start, cpu = time.perf_counter(), time.process_time()
    report = learner.fit(data)
    fit_s, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    ti, tj = all_pairs(len(test))
    start = time.perf_counter()
    pred = learner.predict(x, test[ti], test[tj])
    predict_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "images": args.images,
        "voxels": args.voxels,
        "train_images": len(train),
        "test_pairs": len(pred),
        "fit_s": round(fit_s, 1),
        "fit_cpu_s": round(fit_cpu, 1),
        "predict_s": round(predict_s, 1),
        "peak_rss_mb": round(peak_mb),
        "alpha_median": report.facts["alpha_median"],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if not args.no_direct:
        y_train = y[train]
        del data, y  # the direct solve copies Y again: leave it the memory of the full Y
        row |= _direct(learner, x[train], y_train, 0, fit_s, fit_cpu)
    print(json.dumps(row))


def _direct(learner, x, y, seed, fit_s, fit_cpu):  # type: ignore[no-untyped-def]
    """The plain direct solve of the learner's computation: seconds and agreement."""
    from sklearn.model_selection import KFold

    from bench.svm_ridge import direct_ridge_cv

    xs = (x - learner.state["mean"]) / learner.state["scale"]
    splits = list(KFold(learner.cv, shuffle=True, random_state=seed).split(xs))
    start, cpu = time.perf_counter(), time.process_time()
    chosen = direct_ridge_cv(xs, y, learner.alphas, splits)
    direct_s, direct_cpu = time.perf_counter() - start, time.process_time() - cpu
    agree = np.isclose(learner.state["best_alphas"], chosen, rtol=1e-4)
    # where they differ, float32 rounding decided between two alphas of near-equal CV score:
    # a float64 solve of the first voxels says which of the two is nearer the exact choice
    k = min(EXACT_VOXELS, y.shape[1])
    exact = ridge_cv_eigh(xs, y[:, :k], learner.alphas, splits, dtype=np.float64).best_alphas
    return {
        "direct_s": round(direct_s, 1),
        "direct_cpu_s": round(direct_cpu, 1),
        "fit_over_direct": round(fit_s / direct_s, 2),
        "fit_over_direct_cpu": round(fit_cpu / direct_cpu, 2),
        "alphas_agree": float(agree.mean()),
        "exact_voxels": k,
        "fit_alphas_equal_float64": float(
            np.isclose(learner.state["best_alphas"][:k], exact).mean()
        ),
        "direct_alphas_equal_float64": float(np.isclose(chosen[:k], exact).mean()),
    }


if __name__ == "__main__":
    main()
