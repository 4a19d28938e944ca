"""The RDM-only table of pair_blocks.md, from `python -m fmri_rdm.compare --across subject`.

    python docs/measurements/rdm_only_table.py RUNS OUT

expects RUNS/<set>/<variant>/ sweep directories (one job per subject; variants named in
VARIANTS), runs `python -m fmri_rdm.compare <the set's sweeps> --across subject --out
OUT/<set>` and prints markdown: test Pearson per model, mean over subjects [95 % t interval],
and the new default's paired difference from rsa and from frrsa over subjects (t interval,
exact sign-flip p; `fmri_rdm.stats.group`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from fmri_rdm.stats.group import sign_flip_p, t_interval

SETS = {
    "r78": "78 IT, random CLIP",
    "r118": "118 IT, random CLIP",
    "r78clip": "78 IT, CLIP RN50",
    "r78res": "78 IT, ResNet18",
    "r78resEVC": "78 EVC, ResNet18",
}
VARIANTS = {
    "rsa": "rsa",
    "frrsa": "frrsa",
    "mlp": "mlp",
    "siamese_new": "siamese, no RDM prior (before)",
    "concat": "siamese, concat head, no RDM prior",
    "metric": "siamese, blocks + metric head, no RDM prior",
    "siamese_rsa2": "siamese, rsa prior (default)",
}
NEW = "siamese_rsa2"


def _per_subject(out: Path) -> dict[str, pd.Series]:
    """variant -> test Pearson per subject, from compare's subjects table (run dir column)."""
    table = pd.read_csv(out / "comparison_group_subjects.csv")
    run_dir = table.columns[-1]
    variant = table[run_dir].map(lambda p: Path(str(p)).parent.name)
    return {v: g.set_index("subject")["test_pearson"] for v, g in table.groupby(variant)}


def _interval(values: np.ndarray) -> str:
    mean, low, high = t_interval(values)
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def main(root: str, out: str) -> int:
    columns: dict[str, dict[str, str]] = {}
    for name, label in SETS.items():
        sweeps = [Path(root) / name / v for v in VARIANTS if (Path(root) / name / v).is_dir()]
        if not sweeps:
            continue
        dest = Path(out) / name
        cmd = [sys.executable, "-m", "fmri_rdm.compare", *map(str, sweeps), "--across"]
        subprocess.run([*cmd, "subject", "--out", str(dest)], check=True, capture_output=True)
        scores = _per_subject(dest)
        cells = {VARIANTS[v]: _interval(s.to_numpy()) for v, s in scores.items()}
        for ref in ("rsa", "frrsa"):
            if NEW in scores and ref in scores:
                diff = (scores[NEW] - scores[ref]).dropna().to_numpy()
                p = sign_flip_p(diff)
                cells[f"default − {ref}"] = f"{_interval(diff)}, p {p:.3f}"
        columns[label] = cells
    rows = [*VARIANTS.values(), "default − rsa", "default − frrsa"]
    print("| model | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for row in rows:
        print(f"| {row} | " + " | ".join(c.get(row, "not run") for c in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
