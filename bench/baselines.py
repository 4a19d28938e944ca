"""The original student project's algorithms, re-implemented plainly, for `bench.run` to
compare against.

For comparison only: nothing in `fmri_rdm` uses them. Each is the straightforward loop the
seed wrote (per image, per pixel, per pair in Python), on the same inputs and with the same
results as the project's vectorised functions (tests/test_bench.py checks that on tiny sizes).
"""

from __future__ import annotations

import math
import random

import numpy as np
from scipy.spatial.distance import pdist, squareform

COLORS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def rdm_pdist(responses: np.ndarray, metric: str = "correlation") -> np.ndarray:
    """scipy's pdist in float64, the original student project's RDM."""
    return pdist(np.asarray(responses, dtype=np.float64), metric)


def _extremes_set(sq: np.ndarray, k: int) -> set[tuple[int, int]]:
    n = sq.shape[0]
    chosen: set[tuple[int, int]] = set()
    for i in range(n):  # per image: sort its partners, keep k at each end
        row = sq[i].tolist()
        partners = sorted((row[j], j) for j in range(n) if j != i)
        for _, j in partners[:k] + partners[-k:]:
            chosen.add((min(i, j), max(i, j)))
    return chosen


def extremes_loop(rdm: np.ndarray, n: int, k: int) -> list[tuple[int, int]]:
    """Per image, its k most and k least similar partners; the union as sorted (i, j) tuples."""
    return sorted(_extremes_set(squareform(rdm), k))


def balanced_loop(
    rdm: np.ndarray, n: int, k: int, seed: int = 0, mid_band: float = 0.1
) -> list[tuple[int, int]]:
    """Extremes plus as many random mid-range (|d - 1| <= mid_band) pairs, per-image loops."""
    sq = squareform(rdm)
    chosen = _extremes_set(sq, k)
    mid = []
    for i in range(n):
        row = sq[i].tolist()
        mid += [(i, j) for j in range(i + 1, n) if abs(row[j] - 1.0) <= mid_band]
    mid = [p for p in mid if p not in chosen]
    sample = random.Random(seed).sample(mid, min(len(mid), len(chosen)))
    return sorted(chosen | set(sample))


def dominant_colors_loop(images: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """Per pixel, the nearest pure colour by Euclidean distance; per image the dominant one."""
    labels = []
    for img in images:
        counts = [0, 0, 0]
        pixels = img.reshape(-1, 3).tolist()
        for px in pixels:
            d = [math.dist(px, c) for c in COLORS]
            best = min(d)
            if d.count(best) == 1:
                counts[d.index(best)] += 1
        share = [c / len(pixels) for c in counts]
        top = share.index(max(share))
        labels.append(top if share[top] >= threshold else -1)
    return np.array(labels, dtype=np.int8)


def folds_list_comprehension(
    i: np.ndarray, j: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]
) -> list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
    """Per fold, the (train pairs, test pairs) lists: both images on one side of the split."""
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    out = []
    for train_images, test_images in folds:
        train, test = set(train_images.tolist()), set(test_images.tolist())
        out.append(
            (
                [(a, b) for a, b in pairs if a in train and b in train],
                [(a, b) for a, b in pairs if a in test and b in test],
            )
        )
    return out
