"""The measurement of docs/crossnobis.md: pair models trained on crossnobis targets against
the same models trained on the Euclidean distance of the averaged responses, both judged
against the noise-free RDM.

    python docs/measurements/crossnobis_targets.py [--seeds 3] [--images 120] [--out DIR]

Per seed, one synthetic trials folder (data/synthetic_trials.py: `--images` stimuli, 100
units, 4 runs, noise sd 2 with shared factors, 3 % missing and 5 % unrecorded trials) and, for
each model (siamese, mlp) and target (metric=crossnobis metric.noise=shrinkage_diag, and
metric=euclidean), one 5-fold run. On every fold's test pairs the predictions are compared
with the noise-free RDM (the squared Euclidean distance / units of the generator's noise-free
patterns, what crossnobis estimates without bias; Spearman is blind to the square): the
Spearman and Pearson r, the mean over folds, and the same for the targets themselves.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr, ttest_1samp

TARGETS = {
    "crossnobis": ["metric=crossnobis", "metric.noise=shrinkage_diag"],
    "euclidean of averages": ["metric=euclidean"],
}
MODELS = ("siamese", "mlp")


def truth_rdm(root: Path, subject: str, roi: str) -> dict[str, np.ndarray]:
    """{stimulus id: noise-free pattern} of the generator's ROOT/_truth."""
    from fmri_rdm.data.folder import FolderSource

    ids = FolderSource(root).stimuli(subject).ids
    patterns = np.load(root / "_truth" / subject / f"{roi}.npy")
    return dict(zip(ids, patterns, strict=True))


def scores(run_dir: Path, truth: dict[str, np.ndarray]) -> dict[str, float]:
    arrays = np.load(run_dir / "predictions.npz")
    ids = arrays["stimulus_ids"]
    out: dict[str, list[float]] = {"spearman": [], "pearson": [], "target_spearman": []}
    folds = sorted({k.split("_")[0] for k in arrays.files if k.startswith("fold")})
    for fold in folds:
        i, j = arrays[f"{fold}_i"], arrays[f"{fold}_j"]
        a = np.stack([truth[s] for s in ids[i]])
        b = np.stack([truth[s] for s in ids[j]])
        true = ((a - b) ** 2).mean(axis=1)
        pred, target = arrays[f"{fold}_prediction"], arrays[f"{fold}_target"]
        out["spearman"].append(spearmanr(pred, true)[0])
        out["pearson"].append(pearsonr(pred, true)[0])
        out["target_spearman"].append(spearmanr(target, true)[0])
    return {k: float(np.mean(v)) for k, v in out.items()}


def main(argv: list[str] | None = None) -> None:
    import fmri_rdm as fr
    from fmri_rdm.data.synthetic_folder import generate_folder

    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--images", type=int, default=120)
    p.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp()))
    a = p.parse_args(argv)
    rows = []
    for seed in range(a.seeds):
        root = generate_folder(a.out / f"ds{seed}", kind="trials", n_subjects=1,
                               n_images=a.images, n_units=100, n_sessions=4, noise=2.0,
                               seed=seed)  # fmt: skip
        truth = truth_rdm(root, "sub-01", "IT")
        for model in MODELS:
            for target, overrides in TARGETS.items():
                run_dir = a.out / f"run{seed}_{model}_{target.split()[0]}"
                cfg = fr.config(
                    "data=folder", f"data.root={root}", "data.subject=sub-01", "data.roi=IT",
                    f"model={model}", "logger=none", "embeddings.pretrained=null",
                    "evaluation.n_permutations=0", "evaluation.n_bootstrap=50",
                    f"seed={seed}", *overrides, output_dir=run_dir,
                )  # fmt: skip
                fr.run(cfg)
                s = scores(run_dir, truth)
                rows.append((seed, model, target, s))
                print(f"seed {seed} {model:8s} {target:22s} vs noise-free: Spearman "
                      f"{s['spearman']:.3f} Pearson {s['pearson']:.3f} (targets: "
                      f"{s['target_spearman']:.3f})", flush=True)  # fmt: skip
    for model in MODELS:
        for target in TARGETS:
            got = [r[3] for r in rows if r[1] == model and r[2] == target]
            mean = {k: np.mean([g[k] for g in got]) for k in got[0]}
            print(f"mean {model:8s} {target:22s} Spearman {mean['spearman']:.3f} Pearson "
                  f"{mean['pearson']:.3f} targets {mean['target_spearman']:.3f}")  # fmt: skip
    for model in MODELS:  # paired over seeds: the same data, the same seed, two targets
        for score in ("spearman", "pearson"):
            by = {t: [r[3][score] for r in rows if r[1] == model and r[2] == t] for t in TARGETS}
            diff = np.subtract(*by.values())
            se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
            p = ttest_1samp(diff, 0.0).pvalue if diff.size > 1 else float("nan")
            print(f"paired {model:8s} {score:8s} crossnobis - euclidean {diff.mean():+.3f} "
                  f"(se {se:.3f}, higher in {int((diff > 0).sum())}/{diff.size} seeds, "
                  f"t-test p {p:.2g})")  # fmt: skip


if __name__ == "__main__":
    main()
