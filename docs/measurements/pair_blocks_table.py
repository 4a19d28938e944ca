"""The models x datasets table of pair_blocks.md, from `python -m fmri_rdm.compare` per dataset.

    python docs/measurements/pair_blocks_table.py multirun/i24

expects <root>/<DATASET>/<sweep dir>/<job>/ (DATASET one of DATASETS' keys), runs
`python -m fmri_rdm.compare <that dataset's sweep dirs> --bootstrap 0 --out
outputs/compare/i24/<DATASET>` and prints the markdown rows: test Pearson mean ± std over
folds and the learner's fit seconds summed over folds, one row per model (siamese per plan,
head and response weight), and each dataset's baselines and noise ceiling.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DATASETS = {
    "demo": "demo, roi=all (seed 0, 600 img)",
    "holdout": "holdout (seed 1, 300 img), V1",
    "h3": "H3 (seed 4, 350 img), hV4",
    "h4": "H4 (seed 5, 450 img), PPA",
    "h5": "H5 (seed 6, 400 img), V2v",
    "h6": "H6 (seed 7, 500 img), FFA-1",
    "v4": "V4 (Cowley 2023, 1200 img, 33 units)",
}


ORDER = ("rsa", "frrsa", "encoding", "mlp")  # then the siamese variants, by name


def label(run_dir: Path) -> str:
    """The row name of a run: the model, and for siamese its plan, head, response weight
    and encoding prior."""
    model = yaml.safe_load((run_dir / "run_config.yaml").read_text())["model"]
    if model["name"] != "siamese":
        return str(model["name"])
    net = model.get("net", model)
    rw = float(model.get("response_weight") or 0.0)
    plan = model.get("plan", "pairs")
    prior = ", encoding prior" if model.get("encoding_prior") else ""
    return f"siamese ({plan}, {net['head']}, rw {rw:g}{prior})"


def main(root: Path, out: Path) -> None:
    # the table itself is models_table.py's, with this datasets, row names and order
    import models_table

    models_table.main(root, DATASETS, label, ORDER, out)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "multirun/i24")
    main(root, Path(sys.argv[2] if len(sys.argv) > 2 else "outputs/compare/i24"))
