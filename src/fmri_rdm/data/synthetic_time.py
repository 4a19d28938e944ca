"""A synthetic time-resolved folder (data/timed.py) whose geometry switches from one model RDM
to another at a known latency: the test bed of onsets and cluster statistics (issue 39).

Every subject sees the same stimuli (in its own shuffled order, listed in its stimuli.tsv).
Geometry A is a fixed random projection of the images' downsampled pixels (image models can
learn it); geometry B is a random latent code unrelated to the pixels. A subject's response at
time t is a(t) A + b(t) B + noise, with a(t) = 1 on [onset_ms, switch_ms) and b(t) = 1 from
switch_ms on (0 elsewhere), scaled by `signal`. ROOT/models/A.rdm.npy and B.rdm.npy hold the
two noise-free correlation-distance RDMs (ROOT's stimulus order), ROOT/_truth.json the latencies.

CLI: `python -m fmri_rdm.data.synthetic_time OUT [--kind responses|rdm] [--subjects 8] ...`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist, squareform

from fmri_rdm.data.synthetic_folder import _images, _write_stimuli


def _unit_signal(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    return x / x.std()


def profiles(times_ms: np.ndarray, onset_ms: float, switch_ms: float) -> np.ndarray:
    """(2, T) the weights a(t), b(t) of geometries A and B (module docstring)."""
    a = (times_ms >= onset_ms) & (times_ms < switch_ms)
    return np.stack([a, times_ms >= switch_ms]).astype(np.float64)


def generate_time_folder(
    out: Path | str,
    *,
    kind: str = "responses",
    n_subjects: int = 8,
    n_images: int = 24,
    n_units: int = 50,
    times_ms: np.ndarray | None = None,
    onset_ms: float = 60.0,
    switch_ms: float = 200.0,
    signal: float = 0.6,
    noise: float = 1.0,
    roi: str = "MEG",
    seed: int = 0,
) -> Path:
    """Write the folder and return its root; times default to -100..600 ms every 10 ms."""
    root = Path(out)
    times = np.arange(-100.0, 601.0, 10.0) if times_ms is None else np.asarray(times_ms, float)
    rng = np.random.default_rng(seed)
    images = _images(rng, n_images, 32)
    ids = _write_stimuli(root, images)
    pixels = images[:, ::4, ::4].reshape(n_images, -1).astype(np.float64) / 255.0
    geometry_a = _unit_signal(pixels @ rng.standard_normal((pixels.shape[1], n_units)))
    latent = rng.standard_normal((n_images, 6))
    geometry_b = _unit_signal(latent @ rng.standard_normal((6, n_units)))
    (root / "models").mkdir(parents=True, exist_ok=True)
    for name, g in (("A", geometry_a), ("B", geometry_b)):
        np.save(root / "models" / f"{name}.rdm.npy", squareform(pdist(g, "correlation")))
    (root / "times.tsv").write_text("time_ms\n" + "".join(f"{t:g}\n" for t in times))
    weights = signal * profiles(times, onset_ms, switch_ms)  # (2, T)
    clean = np.einsum("nu,t->nut", geometry_a, weights[0]) + np.einsum(
        "nu,t->nut", geometry_b, weights[1]
    )
    for s in range(n_subjects):
        rows = rng.permutation(n_images)
        folder = root / f"sub-{s + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stimuli.tsv").write_text("stimulus_id\n" + "".join(f"{ids[r]}\n" for r in rows))
        x = clean[rows] + noise * rng.standard_normal((n_images, n_units, times.size))
        if kind == "responses":
            np.save(folder / f"{roi}.npy", x.astype(np.float32))
        else:
            from fmri_rdm.rsa.windows import sliding_windows, window_rdms

            stack = window_rdms(x, sliding_windows(times))
            np.save(folder / f"{roi}.rdm.npy", np.stack([squareform(d) for d in stack]))
    truth = {"onset_A_ms": onset_ms, "switch_ms": switch_ms, "step_ms": float(times[1] - times[0])}
    (root / "_truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return root


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fmri_rdm.data.synthetic_time")
    p.add_argument("out", type=Path)
    p.add_argument("--kind", choices=("responses", "rdm"), default="responses")
    p.add_argument("--subjects", type=int, default=8)
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--units", type=int, default=50)
    p.add_argument("--onset-ms", type=float, default=60.0)
    p.add_argument("--switch-ms", type=float, default=200.0)
    p.add_argument("--signal", type=float, default=0.6)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    root = generate_time_folder(
        a.out, kind=a.kind, n_subjects=a.subjects, n_images=a.images, n_units=a.units,
        onset_ms=a.onset_ms, switch_ms=a.switch_ms, signal=a.signal, seed=a.seed,
    )  # fmt: skip
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
