"""The models x datasets table of pair_blocks.md, from `python -m fmri_rdm.compare` per dataset.

    python docs/measurements/pair_blocks_table.py multirun/i24

expects <root>/<DATASET>/<sweep dir>/<job>/ (DATASET one of DATASETS' keys), runs
`python -m fmri_rdm.compare <that dataset's sweep dirs> --bootstrap 0 --out
outputs/compare/i24/<DATASET>` and prints the markdown rows: test Pearson mean ± std over
folds and the learner's fit seconds summed over folds, one row per model (siamese per plan,
head and response weight), and each dataset's baselines and noise ceiling.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import yaml

DATASETS = {
    "demo": "demo, roi=all (seed 0, 600 img)",
    "holdout": "holdout (seed 1, 300 img), V1",
    "h3": "H3 (seed 4, 350 img), hV4",
    "h4": "H4 (seed 5, 450 img), PPA",
}


def label(run_dir: Path) -> str:
    """The row name of a run: the model, and for siamese its plan, head and response weight."""
    model = yaml.safe_load((run_dir / "run_config.yaml").read_text())["model"]
    if model["name"] != "siamese":
        return str(model["name"])
    net = model.get("net", model)
    rw = float(model.get("response_weight") or 0.0)
    plan = model.get("plan", "pairs")
    return f"siamese ({plan}, {net['head']}, rw {rw:g})"


def compare_rows(root: Path, key: str) -> list[dict[str, str]]:
    """comparison.csv rows of one dataset's sweeps (compare run once, --bootstrap 0)."""
    sweeps = sorted(p for p in (root / key).glob("*") if p.is_dir())
    if not any(s.glob("*/metrics.json") for s in sweeps):
        return []
    out = Path("outputs/compare/i24") / key
    cmd = [sys.executable, "-m", "fmri_rdm.compare", *map(str, sweeps), "--bootstrap", "0"]
    subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True, env=os.environ)
    with open(out / "comparison.csv") as fh:
        return [row for row in csv.DictReader(fh) if row["status"] == "ok"]


def main(root: Path) -> None:
    cells: dict[tuple[str, str], str] = {}
    notes = []
    for key in DATASETS:
        for row in compare_rows(root, key):
            name = label(Path(row["dir"]))
            pearson = (
                f"{float(row['test.pearson.mean']):.3f} ± {float(row['test.pearson.std']):.3f}"
            )
            cells[(name, key)] = f"{pearson} | {float(row['seconds.fit']):.1f}"
            if name == "rsa":  # its run carries the dataset's baselines
                stats = [
                    f"{float(row[k + '.mean']):.3f} ± {float(row[k + '.std']):.3f}"
                    for k in ("baselines.zero_training_spearman", "baselines.encoding_pearson")
                ]
                notes.append(
                    f"- {key}: zero-training Spearman {stats[0]}, encoding baseline {stats[1]}, "
                    f"noise ceiling {float(row['noise_ceiling.pearson.mean']):.3f}"
                )
    names = sorted({n for n, _ in cells}, key=lambda n: (n.startswith("siamese"), n))
    print("| model | " + " | ".join(f"{t} | fit s" for t in DATASETS.values()) + " |")
    print("|---|" + "---|---:|" * len(DATASETS))
    for n in names:
        row_cells = (cells.get((n, k), "not run | -") for k in DATASETS)
        print(f"| {n} | " + " | ".join(row_cells) + " |")
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "multirun/i24"))
