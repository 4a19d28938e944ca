"""The measurements of docs/time.md: onset detection on the synthetic switch-over folders and
the family-wise error of the cluster test on null data.

    python docs/measurements/time_course.py [--repeats 20] [--signal 0.6] [--null-repeats 1000]
        [--null-folders 200] [--out FILE]

1. Onset: `--repeats` switch-over folders (data/synthetic_time.py, seeds 0..; 10 subjects, 24
   stimuli, 50 units, -100..600 ms every 10 ms, geometry A from 60 ms, B from 200 ms). Per
   subject the correlation-distance RDM of every sample, its Spearman correlation with the
   model RDMs A and B; across subjects the cluster test (1,000 sign patterns, one-tailed,
   cluster-forming p < 0.05) and the onset with its bootstrap interval (200 resamples).
   Reports each repeat's onset of A, of B and of B - A (B above A, paired over subjects)
   against the truth, in steps, and the Spearman correlation of the two model RDMs (a B
   correlated with A rises while A is on; the difference course does not).
2. Family-wise error: (a) `--null-repeats` sets of 15 subjects x 200 times of temporally
   smooth Gaussian noise (a Gaussian filter of 3 samples' width), (b) 200 switch-over folders
   with no signal (signal=0): the share of sets where any cluster reaches p < 0.05.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_time import generate_time_folder
from fmri_rdm.data.timed import load_timed
from fmri_rdm.rsa.windows import sliding_windows, window_rdms, window_scores
from fmri_rdm.stats.clusters import cluster_test
from fmri_rdm.stats.latency import time_course_stats


def folder_scores(root: Path, models: tuple[str, ...] = ("A", "B")) -> tuple[dict, np.ndarray]:
    """({model: (subjects, T) Spearman per sample}, times_ms) of a time-resolved folder."""
    source = FolderSource(root)
    ids = list(source.all_stimuli().ids)
    rdms = {m: np.load(root / "models" / f"{m}.rdm.npy") for m in models}
    out: dict[str, list[np.ndarray]] = {m: [] for m in models}
    for subject in source.subjects():
        data = load_timed(source, subject, "MEG")
        assert data.responses is not None
        order = [ids.index(i) for i in source.stimuli(subject).ids]
        brain = window_rdms(data.responses, sliding_windows(data.times_ms))
        for m, square in rdms.items():
            model = squareform(square[np.ix_(order, order)], checks=False)
            out[m].append(window_scores(brain, model, "spearman"))
    return {m: np.stack(v) for m, v in out.items()}, data.times_ms


def onsets(repeats: int, work: Path, signal: float) -> list[dict]:
    rows = []
    for seed in range(repeats):
        root = generate_time_folder(work / f"switch{seed}", n_subjects=10, signal=signal, seed=seed)
        truth = json.loads((root / "_truth.json").read_text())
        scores, times = folder_scores(root)
        a, b = (squareform(np.load(root / "models" / f"{m}.rdm.npy"), checks=False) for m in "AB")
        row: dict = {"seed": seed, "spearman_A_B": float(spearmanr(a, b)[0])}
        scores["B-A"] = scores["B"] - scores["A"]  # B above A: one-tailed like the others
        expected = {"A": truth["onset_A_ms"], "B": truth["switch_ms"], "B-A": truth["switch_ms"]}
        for m, true_ms in expected.items():
            got = time_course_stats(scores[m], times, n_boot=1000, n_boot_onset=200, seed=seed)
            onset = got["onset"]
            row[m] = {
                "true_ms": true_ms,
                "onset_ms": onset["ms"],
                "error_steps": None
                if onset["ms"] is None
                else (onset["ms"] - true_ms) / truth["step_ms"],
                "interval": [onset["low"], onset["high"]],
                "peak_ms": got["peak"]["ms"],
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def null_smooth(repeats: int) -> float:
    rng = np.random.default_rng(0)
    hits = 0
    for r in range(repeats):
        x = gaussian_filter1d(rng.standard_normal((15, 200)), 3.0, axis=1)
        hits += cluster_test(x, n_permutations=1000, seed=r).first_significant() is not None
    return hits / repeats


def null_folders(repeats: int, work: Path) -> float:
    hits = 0
    for seed in range(repeats):
        root = generate_time_folder(
            work / f"null{seed}", n_subjects=10, n_images=16, n_units=20, signal=0.0, seed=seed
        )
        scores, _ = folder_scores(root, ("B",))
        hits += (
            cluster_test(scores["B"], n_permutations=1000, seed=seed).first_significant()
            is not None
        )
    return hits / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--signal", type=float, default=0.6, help="geometry amplitude (noise 1)")
    parser.add_argument("--null-repeats", type=int, default=1000)
    parser.add_argument("--null-folders", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("outputs/time_course_measurements.json"))
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = onsets(args.repeats, Path(tmp), args.signal)
        smooth = null_smooth(args.null_repeats)
        folders = null_folders(args.null_folders, Path(tmp))
    within = {
        m: sum(r[m]["error_steps"] is not None and abs(r[m]["error_steps"]) <= 1 for r in rows)
        for m in ("A", "B", "B-A")
    }
    summary = {
        "repeats": args.repeats,
        "signal": args.signal,
        "onset_within_one_step": within,
        "fwer_smooth_noise": smooth,
        "null_repeats": args.null_repeats,
        "fwer_null_folders": folders,
        "null_folders": args.null_folders,
        "seconds": time.perf_counter() - start,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
