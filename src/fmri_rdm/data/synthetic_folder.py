"""Synthetic data in the folder format (`data=folder`): responses, RDM-only with sessions, and
several subjects with partly overlapping stimuli in shuffled orders; and the conversion of an
Algonauts-layout subject into the folder (for checking that both loaders agree).

Responses come from a fixed random projection of the images' downsampled pixels plus Gaussian
noise, so pixel- and embedding-based models have something to learn; an RDM session is the
correlation distance of one noisy draw of those responses.

CLI: `python -m fmri_rdm.data.synthetic_folder OUT [--kind responses|rdm|trials] [--subjects 3]
[--images 40] [--shared 30] [--sessions 3] [--units 60] [--seed 0] [--candidates]
[--no-images]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist

from fmri_rdm.data.synthetic_trials import write_trials

CATEGORIES = ("animate", "inanimate")
SIZES = ("small", "medium", "large")  # a second label column, unrelated to the responses


def _images(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """(n, size, size, 3) uint8 smooth random images, two colour families (the categories)."""
    coarse = rng.random((n, 4, 4, 3))
    coarse[: n // 2, ..., 0] += 0.6  # the first half reddish: a category the pixels carry
    up = np.repeat(np.repeat(coarse, size // 4, axis=1), size // 4, axis=2)
    return np.clip(up / up.max() * 255, 0, 255).astype(np.uint8)


def _write_stimuli(
    root: Path, images: np.ndarray, with_files: bool = True, sizes: bool = False
) -> list[str]:
    """stimuli.tsv (and the images in stimuli/ when `with_files`); the stimulus ids. `sizes`:
    a second label column `size`, unrelated to the responses."""
    from PIL import Image

    folder = root / "stimuli"
    if with_files:
        folder.mkdir(parents=True, exist_ok=True)
    else:
        root.mkdir(parents=True, exist_ok=True)
    ids = [f"stim{k:03d}" for k in range(len(images))]
    header = ["file"] * with_files + ["stimulus_id", "category"] + ["size"] * sizes
    lines = ["\t".join(header)]
    for k, (sid, img) in enumerate(zip(ids, images, strict=True)):
        name = f"img_{k:03d}.png"
        row = [name] * with_files + [sid, CATEGORIES[int(k >= len(images) // 2)]]
        row += [SIZES[k % len(SIZES)]] * sizes
        if with_files:
            Image.fromarray(img).save(folder / name)
        lines.append("\t".join(row))
    (root / "stimuli.tsv").write_text("\n".join(lines) + "\n")
    return ids


def write_candidates(
    root: Path, signal: np.ndarray, pixels: np.ndarray, ids: list[str], seed: int
) -> None:
    """ROOT/models/: `truth` (condensed correlation RDM of the noise-free responses, stimuli.tsv
    order), `pixels` (square RDM of the downsampled pixels) and `noise` (a random RDM whose rows
    are listed in reverse order by noise.tsv)."""
    folder = root / "models"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "truth.rdm.npy", pdist(signal, "correlation").astype(np.float32))
    d = pdist(pixels, "correlation")
    square = np.zeros((len(ids), len(ids)))
    square[np.triu_indices(len(ids), 1)] = d
    np.save(folder / "pixels.rdm.npy", square + square.T)
    rng = np.random.default_rng(seed + 1)
    np.save(folder / "noise.rdm.npy", rng.random(len(ids) * (len(ids) - 1) // 2))
    (folder / "noise.tsv").write_text("stimulus_id\n" + "".join(f"{i}\n" for i in ids[::-1]))


def generate_folder(
    out: Path | str,
    *,
    kind: str = "responses",
    n_subjects: int = 3,
    n_images: int = 40,
    n_shared: int | None = None,
    n_sessions: int = 3,
    n_units: int = 60,
    noise: float = 1.0,
    roi: str = "IT",
    image_size: int = 32,
    seed: int = 0,
    candidates: bool = False,
    images: bool = True,
) -> Path:
    """Write a folder-format dataset and return its root. Subjects `sub-01`... each see the
    `n_shared` first stimuli and an equal share of the rest (all when n_shared is None), in a
    shuffled order listed in their stimuli.tsv; `kind` = responses (`<roi>.npy`), rdm
    (`<roi>.rdm.npy`, a (sessions, n, n) stack) or trials (`<roi>.trials.npy` + `.tsv`, one
    trial per stimulus and session, correlated noise, a few missing / unrecorded trials:
    data/synthetic_trials.py). `candidates`: also ROOT/models/ (`write_candidates`);
    `images=False`: no stimuli/ and no `file` column (conditions without images)."""
    root = Path(out)
    rng = np.random.default_rng(seed)
    pictures = _images(rng, n_images, image_size)
    ids = _write_stimuli(root, pictures, with_files=images, sizes=candidates or not images)
    pixels = pictures[:, ::4, ::4].reshape(n_images, -1).astype(np.float64) / 255.0
    weights = rng.standard_normal((pixels.shape[1], n_units))
    signal = (pixels - pixels.mean(0)) @ weights
    signal /= signal.std()
    if candidates:
        write_candidates(root, signal, pixels, ids, seed)
    shared = n_images if n_shared is None else n_shared
    own = np.array_split(np.arange(shared, n_images), n_subjects)
    for s in range(n_subjects):
        rows = rng.permutation(np.concatenate([np.arange(shared), own[s]]))
        folder = root / f"sub-{s + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stimuli.tsv").write_text("stimulus_id\n" + "".join(f"{ids[r]}\n" for r in rows))
        x = signal[rows]
        if kind == "trials":
            write_trials(folder, roi, [ids[r] for r in rows], x, n_sessions, rng, sd=noise)
            continue
        if kind == "responses":
            np.save(
                folder / f"{roi}.npy", (x + noise * rng.standard_normal(x.shape)).astype(np.float32)
            )
            continue
        square = []
        for _ in range(n_sessions):
            d = pdist(x + noise * rng.standard_normal(x.shape), "correlation")
            m = np.zeros((len(rows), len(rows)))
            m[np.triu_indices(len(rows), 1)] = d
            square.append(m + m.T)
        np.save(folder / f"{roi}.rdm.npy", np.stack(square))
    return root


def algonauts_to_folder(
    algonauts_root: Path | str, subject: int, roi: str, out: Path | str
) -> Path:
    """An Algonauts-layout subject as a folder dataset: its training images (stimulus id =
    NSD id) and its unstandardised responses of `roi` as `subjNN/<roi>.npy`."""
    import shutil

    from fmri_rdm.data.algonauts_source import AlgonautsSource

    source = AlgonautsSource(Path(algonauts_root))
    stimuli = source.stimuli(subject)
    x = source.load(subject, roi, rows=None, standardize=False).responses
    assert x is not None  # Algonauts data are responses
    root = Path(out)
    (root / "stimuli").mkdir(parents=True, exist_ok=True)
    lines = ["file\tstimulus_id"]
    for path, sid in zip(stimuli.paths, stimuli.ids, strict=True):
        shutil.copyfile(path, root / "stimuli" / path.name)
        lines.append(f"{path.name}\t{sid}")
    (root / "stimuli.tsv").write_text("\n".join(lines) + "\n")
    (root / f"subj{subject:02d}").mkdir(exist_ok=True)
    np.save(root / f"subj{subject:02d}" / f"{roi}.npy", x)
    return root


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m fmri_rdm.data.synthetic_folder`."""
    p = argparse.ArgumentParser(prog="python -m fmri_rdm.data.synthetic_folder")
    p.add_argument("out", type=Path)
    p.add_argument("--kind", choices=("responses", "rdm", "trials"), default="responses")
    p.add_argument("--subjects", type=int, default=3)
    p.add_argument("--images", type=int, default=40)
    p.add_argument("--shared", type=int, default=None)
    p.add_argument("--sessions", type=int, default=3)
    p.add_argument("--units", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", action="store_true", help="also write ROOT/models/ RDMs")
    p.add_argument("--no-images", action="store_true", help="stimulus ids and labels only")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    root = generate_folder(
        a.out, kind=a.kind, n_subjects=a.subjects, n_images=a.images, n_shared=a.shared,
        n_sessions=a.sessions, n_units=a.units, seed=a.seed, candidates=a.candidates,
        images=not a.no_images,
    )  # fmt: skip
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
