"""The whole pipeline of one synthetic subject, end to end, with per-stage times and peak memory.

    python -m bench.full_pipeline                          # full size: 9841 images, roi=all
                                                           # and roi=V1v, siamese, 5 folds x 10
                                                           # epochs (on CPU: hours)
    python -m bench.full_pipeline trainer=gpu training.batch_size=65536   # the same on a GPU
    python -m bench.full_pipeline --sizes 300,600 --epochs 2   # reduced, extrapolated to 9841

Each (ROI, size) runs in its own process (clean peak memory) through the project's own code
path (`fmri_rdm.pipeline.experiment.run`, as `train.py` runs it): synthetic data generation (timed
apart, cached in $FMRI_RDM_CACHE), loading, the brain RDM, the embeddings (CLIP ViT-B-32,
random weights; `embeddings.device=auto` puts them on the GPU), the pairs, then per fold the
fit, the test/train predictions, the encoding baseline (himalaya; `torch_cuda` with
`trainer=gpu`) and the statistics (bootstrap + permutations, CPU). The stage times are the
run's own (`metrics.json` `seconds` and `folds[k].seconds`, recorded by
`fmri_rdm.runtime.progress.stage`). Peak memory: the process's max RSS (its DataLoader
workers apart) and `torch.cuda.max_memory_allocated`.

`total` is the run itself (`seconds.total`): the synthetic data generation is shown apart and
not counted (real data is read, not generated).

With two reduced sizes, each stage's growth exponent k is measured (t ~ n^k between the
sizes) and the stage extrapolated to 9841 images (the fit also x epochs ratio); a stage that
is too short to time (< 0.05 s) is extrapolated with k = 2 (quadratic, the pairs), which
overstates most of them. The extrapolation is an estimate, not a measurement, and a weak
one for the fit: `training.batch_size=auto` grows the batch with the pairs (about 50 steps
per epoch) until its cap of 4096, so small sizes understate how the fit grows; fix
`training.batch_size` for both sizes, or run the full size where it matters. Extra arguments
are Hydra overrides for every run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FULL_IMAGES, FULL_EPOCHS, FOLDS = 9841, 10, 5
RUN_STAGES = ("generate", "data", "rdm", "embeddings", "pairs")
FOLD_STAGES = ("fit", "predict", "encoding_baseline", "statistics", "save")
ROOT = Path(__file__).resolve().parents[1]


MODEL = ["siamese"]  # --model


def _overrides(roi: str, n_images: int, epochs: int, out: Path, extra: list[str]) -> list[str]:
    return [
        "experiment=demo",
        f"model={MODEL[0]}",
        "logger=none",
        f"roi={roi}",
        f"data.n_images={n_images}",
        f"evaluation.k_folds={FOLDS}",
        f"trainer.max_epochs={epochs}",
        "trainer.enable_progress_bar=false",
        f"paths.output_dir={out}",
        *extra,
    ]


def child(roi: str, n_images: int, epochs: int, out: Path, extra: list[str]) -> None:
    """One run in this process; prints one JSON line: stage seconds and peak memory."""
    import logging

    from hydra import compose, initialize_config_dir

    from fmri_rdm.config import register_schemas
    from fmri_rdm.pipeline.experiment import run
    from fmri_rdm.pipeline.inputs import data_root
    from fmri_rdm.runtime.parallel import configure_job

    # the run's own log lines (per fold) on stderr, so a run cut short still shows its progress
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    register_schemas()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=_overrides(roi, n_images, epochs, out, extra))
    configure_job(cfg)
    start = time.perf_counter()
    data_root(cfg)  # generates the synthetic subject once (then cached)
    generate = time.perf_counter() - start
    metrics = run(cfg).to_json()
    stages = {"generate": generate, **{k: metrics["seconds"].get(k, 0.0) for k in RUN_STAGES[1:]}}
    for stage in FOLD_STAGES:
        stages[stage] = sum(f["seconds"].get(stage, 0.0) for f in metrics["folds"])
    stages["fold other"] = metrics["seconds"]["training"] - sum(stages[s] for s in FOLD_STAGES)
    stages["all_pairs"] = metrics["seconds"].get("all_pairs", 0.0)  # fixed models (issue 35)
    # of the fit: the cross-fitted calibration's refits (`evaluation.calibration=cv`)
    stages["(fit: calibration)"] = sum(
        f["seconds"].get("calibration", 0.0) for f in metrics["folds"]
    )
    stages["total"] = metrics["seconds"]["total"]  # the run: real data is read, not generated
    peak_gpu = None
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            peak_gpu = torch.cuda.max_memory_allocated() / 2**20
    result = {
        "roi": roi,
        "n_images": n_images,
        "epochs": epochs,
        "n_voxels": metrics["n_voxels"],
        "n_pairs": metrics["n_pairs"],
        "stages": stages,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": peak_gpu,
        "test_pearson": metrics["test"]["pearson"]["mean"],
    }
    print(json.dumps(result), flush=True)


def measure(roi: str, n_images: int, epochs: int, extra: list[str]) -> dict[str, Any]:
    out = ROOT / "outputs" / "bench_full_pipeline" / f"{MODEL[0]}_{roi}_{n_images}"
    cmd = [sys.executable, "-m", "bench.full_pipeline", "--child", roi, str(n_images)]
    cmd += ["--model", MODEL[0], "--epochs", str(epochs), "--out", str(out), *extra]
    # The run's log (its per-fold lines) goes straight to our stderr, so a run cut short by a
    # time limit still shows how far it got; only the result line is read from stdout.
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}); its log is above")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def extrapolate(small: dict[str, Any], large: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """{stage: (exponent, seconds at FULL_IMAGES x FULL_EPOCHS)} from two sizes."""
    n1, n2 = small["n_images"], large["n_images"]
    found = {}
    for stage, t2 in large["stages"].items():
        if stage == "total":
            continue
        t1 = small["stages"][stage]
        k = math.log(t2 / t1) / math.log(n2 / n1) if min(t1, t2) >= 0.05 else 2.0
        k = min(max(k, 0.0), 2.5)
        seconds = max(t2, 0.0) * (FULL_IMAGES / n2) ** k
        if stage == "fit":
            seconds *= FULL_EPOCHS / large["epochs"]
        found[stage] = (k, seconds)
    return found


def table(results: list[dict[str, Any]]) -> str:
    """Per ROI: the stage times at each measured size and, with two sizes, at full size."""
    lines = []
    for roi in dict.fromkeys(r["roi"] for r in results):
        runs = sorted((r for r in results if r["roi"] == roi), key=lambda r: r["n_images"])
        head = f"{'stage':<18}" + "".join(f"{r['n_images']:>9} img" for r in runs)
        guess = extrapolate(runs[0], runs[-1]) if len(runs) > 1 else {}
        if guess:
            head += f"{'k':>6} {FULL_IMAGES:>7} img x{FULL_EPOCHS} ep (est.)"
        lines += [f"roi={roi} ({runs[-1]['n_voxels']} voxels)", head, "-" * len(head)]
        for stage in runs[-1]["stages"]:
            row = f"{stage:<18}" + "".join(f"{r['stages'][stage]:>11.2f} s" for r in runs)
            if stage in guess:
                row += f"{guess[stage][0]:>6.2f} {guess[stage][1]:>10.0f} s"
            elif guess and stage == "total":
                run_only = sum(s for name, (_, s) in guess.items() if name != "generate")
                row += f"{'':>6} {run_only:>10.0f} s"
            lines.append(row)
        for key in ("peak_rss_mb", "peak_gpu_mb"):
            shown = ["-" if r[key] is None else f"{r[key]:.0f} MB" for r in runs]
            lines.append(f"{key:<18}" + "".join(f"{s:>13}" for s in shown))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=str(FULL_IMAGES), help="image counts, e.g. 300,600")
    parser.add_argument("--rois", default="all,V1v")
    parser.add_argument("--epochs", type=int, default=FULL_EPOCHS)
    parser.add_argument("--model", default="siamese", help="model=... of every run")
    parser.add_argument("--json", type=Path, default=ROOT / "outputs" / "bench_full_pipeline.json")
    parser.add_argument("--child", nargs=2, metavar=("ROI", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args, extra = parser.parse_known_args(argv)
    MODEL[0] = args.model
    if args.child:
        child(args.child[0], int(args.child[1]), args.epochs, args.out, extra)
        return
    print(json.dumps({"load_avg": [round(x, 2) for x in os.getloadavg()], "overrides": extra}))
    results = []
    for roi in args.rois.split(","):
        for n in sorted(int(s) for s in args.sizes.split(",")):
            results.append(measure(roi, n, args.epochs, extra))
            print(json.dumps(results[-1]), flush=True)
    print(table(results))
    print(json.dumps({"load_avg_after": [round(x, 2) for x in os.getloadavg()]}))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
