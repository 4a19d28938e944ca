"""The models x datasets table of models_table.md, from `python -m fmri_rdm.compare` per dataset.

    python docs/measurements/models_table.py multirun/final

expects <root>/<DATASET>/<sweep dir>/<job>/ (DATASET one of DATASETS' keys), runs
`python -m fmri_rdm.compare <that dataset's sweep dirs> --bootstrap 0 --out
outputs/compare/<DATASET>` and prints the markdown rows: test Pearson mean ± std over folds and
the learner's fit seconds summed over folds, one row per model (siamese per head and
response weight), plus each dataset's baselines.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

DATASETS = {
    "DEMO_ALL": "demo, roi=all (600 img)",
    "DEMO_HV4": "demo, roi=hV4",
    "HOLDOUT": "holdout (seed 1, 300 img), V1",
    "H1": "H1 (seed 2, 400 img), floc-faces",
    "H2": "H2 (seed 3, 250 img), V2",
}
HEADS = ("symmetric", "concat", "correlation")
ORDER = [
    "rsa",
    "encoding",
    "mlp",
    *(f"siamese ({h}{rw})" for h in HEADS for rw in ("", ", rw 0.3")),
    "siamese_cnn",
]


def label(run_dir: Path) -> str:
    """The row name of a run: the model, and for siamese its head and response weight."""
    model = yaml.safe_load((run_dir / "run_config.yaml").read_text())["model"]
    if model["name"] != "siamese":
        return str(model["name"])
    rw = float(model.get("response_weight") or 0.0)
    return f"siamese ({model['head']}{f', rw {rw:g}' if rw else ''})"


def compare_rows(
    root: Path, key: str, out_root: Path = Path("outputs/compare")
) -> list[dict[str, str]]:
    """comparison.csv rows of one dataset's sweeps (compare run once, --bootstrap 0)."""
    sweeps = sorted(p for p in (root / key).glob("*") if p.is_dir())
    if not any(s.glob("*/metrics.json") for s in sweeps):
        return []
    out = out_root / key
    cmd = [sys.executable, "-m", "fmri_rdm.compare", *map(str, sweeps), "--bootstrap", "0"]
    subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True, env=os.environ)
    with open(out / "comparison.csv") as fh:
        return [row for row in csv.DictReader(fh) if row["status"] == "ok"]


def main(
    root: Path,
    datasets: dict[str, str] = DATASETS,
    name_of: Callable[[Path], str] = label,
    order: Sequence[str] = ORDER,
    out_root: Path = Path("outputs/compare"),
) -> None:
    """Print the table of `datasets` ({sweep folder under root: column title}); rows named by
    `name_of(run_dir)`, in `order` first (pair_blocks_table.py reuses it with its own)."""
    cells: dict[tuple[str, str], str] = {}
    notes = []
    for key in datasets:
        for row in compare_rows(root, key, out_root):
            name = name_of(Path(row["dir"]))
            pearson = (
                f"{float(row['test.pearson.mean']):.3f} ± {float(row['test.pearson.std']):.3f}"
            )
            cells[(name, key)] = f"{pearson} | {float(row['seconds.fit']):.1f}"
            if name == "rsa":  # its run carries the dataset's baselines
                stats = [
                    f"{float(row[k + '.mean']):.3f} ± {float(row[k + '.std']):.3f}"
                    for k in ("baselines.zero_training_pearson", "baselines.encoding_pearson")
                ]
                # a set without repeated measurements (one session) has no noise ceiling
                ceiling = row.get("noise_ceiling.pearson.mean") or ""
                ceiling = f"{float(ceiling):.3f}" if ceiling else "none (one session)"
                notes.append(
                    f"- {key}: zero-training Pearson {stats[0]}, encoding baseline {stats[1]}, "
                    f"noise ceiling {ceiling}"
                )
    names = [n for n in order if any((n, k) in cells for k in datasets)]
    names += sorted({n for n, _ in cells} - set(names))
    print("| model | " + " | ".join(f"{t} | fit s" for t in datasets.values()) + " |")
    print("|---|" + "---|---:|" * len(datasets))
    for n in names:
        row_cells = (cells.get((n, k), "not run | -") for k in datasets)
        print(f"| {n} | " + " | ".join(row_cells) + " |")
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "multirun/final"))
