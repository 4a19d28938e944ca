"""The simulated cortex of the synthetic dataset: where each vertex's response comes from.

Every vertex has a "home" (an ROI, a stream, or none) with a recipe that mixes feature groups
of the images: early visual homes pool oriented contrast energy in a receptive field (ventral
halves: upper field; lh: right hemifield; RF size V1 < V2 < V3), hV4 pools colour, category
homes respond to their painted objects, streams mix these. `simulate_hemisphere` turns image
features into one hemisphere's ROI masks and noise-free / measured responses.
"""

from __future__ import annotations

import numpy as np

from fmri_rdm.data import scenes
from fmri_rdm.data.rois import ROI_CLASSES

GROUPS = ("early", "color", *scenes.CATEGORIES)  # response feature groups

# Vertex "homes": where a vertex's response comes from. Fractions of a hemisphere's vertices.
_EARLY = ("V1v", "V1d", "V2v", "V2d", "V3v", "V3d")
HOME_FRACTIONS: dict[str, float] = {
    "V1v": 0.05, "V1d": 0.05, "V2v": 0.045, "V2d": 0.045, "V3v": 0.04, "V3d": 0.04, "hV4": 0.03,
    "OFA": 0.02, "FFA-1": 0.02, "FFA-2": 0.015, "mTL-faces": 0.01, "aTL-faces": 0.01,
    "EBA": 0.03, "FBA-1": 0.015, "FBA-2": 0.015, "mTL-bodies": 0.01,
    "OPA": 0.02, "PPA": 0.025, "RSC": 0.015,
    "OWFA": 0.015, "VWFA-1": 0.015, "VWFA-2": 0.01, "mfs-words": 0.01, "mTL-words": 0.01,
    "midventral": 0.02, "ventral": 0.05, "midlateral": 0.03, "lateral": 0.05,
    "midparietal": 0.04, "parietal": 0.08, "none": 0.0,
}  # fmt: skip
_HOMES = tuple(HOME_FRACTIONS)
# A home's streams label; floc homes default to ventral, and 15% of them are in no stream.
_STREAM_OF = {
    **dict.fromkeys(_EARLY, "early"), "hV4": "midventral", "OFA": "lateral", "EBA": "lateral",
    "OPA": "parietal", "RSC": "midparietal",
    **{s: s for s in ROI_CLASSES["streams"] if s != "early"},
}  # fmt: skip
_RECIPES: dict[str, dict[str, float]] = {  # home kind -> weight of each feature group
    "early": {"early": 1.0},
    "hV4": {"color": 1.0, "early": 0.3},
    "floc-faces": {"faces": 1.0, "bodies": 0.3, "words": 0.2, "early": 0.2, "color": 0.2},
    "floc-bodies": {"bodies": 1.0, "faces": 0.3, "places": 0.2, "early": 0.2, "color": 0.1},
    "floc-places": {"places": 1.0, "words": 0.2, "bodies": 0.1, "early": 0.3},
    "floc-words": {"words": 1.0, "faces": 0.3, "places": 0.1, "early": 0.2},
    "midventral": {"color": 0.6, "early": 0.6, "words": 0.3, "faces": 0.3},
    "ventral": {"faces": 0.5, "places": 0.5, "words": 0.5, "color": 0.3},
    "midlateral": {"early": 0.7, "bodies": 0.5},
    "lateral": {"bodies": 0.6, "faces": 0.4, "early": 0.4},
    "midparietal": {"places": 0.5, "early": 0.7},
    "parietal": {"places": 0.6, "early": 0.6},
    "none": dict.fromkeys(GROUPS, 0.2),
}
# Signal sd / noise sd per home kind (others: _SNR_DEFAULT).
_SNR = {"early": 1.0, "none": 0.3}
_SNR_DEFAULT = 1.3
_RF_SIGMA = {"V1": (0.03, 0.055), "V2": (0.055, 0.09), "V3": (0.09, 0.14)}
_ABSENT = {"rh": ("mTL-words",)}  # ROIs missing in one hemisphere, as in some real subjects


def _home_kind(home: str) -> str:
    if home in _EARLY:
        return "early"
    for cls, names in ROI_CLASSES.items():
        if home in names and cls.startswith("floc-"):
            return cls
    return home


def _stream_of(home: str) -> str:
    """The streams ROI of a vertex home ('' for none); floc ROIs without an entry are ventral."""
    if home in _STREAM_OF:
        return _STREAM_OF[home]
    return "ventral" if _home_kind(home).startswith("floc-") else ""


def _vertex_homes(rng: np.random.Generator, hemi: str, n_vertices: int) -> np.ndarray:
    """Home index per vertex, int64 (V,), in a random vertex order."""
    frac = np.array([0.0 if h in _ABSENT.get(hemi, ()) else HOME_FRACTIONS[h] for h in _HOMES])
    counts = np.floor(frac * n_vertices).astype(np.int64)
    counts[_HOMES.index("none")] = n_vertices - counts.sum()
    return rng.permutation(np.repeat(np.arange(len(_HOMES)), counts))


def _class_masks(rng: np.random.Generator, homes: np.ndarray) -> dict[str, np.ndarray]:
    """Codes per vertex for every class, int32 (V,); consistent with the vertex homes."""
    names = np.array(_HOMES)[homes]
    masks = {}
    for cls, rois in ROI_CLASSES.items():
        code = {roi: c for c, roi in enumerate(rois, start=1)}
        labels = [_stream_of(h) for h in _HOMES] if cls == "streams" else list(_HOMES)
        codes = np.array([code.get(lab, 0) for lab in labels], dtype=np.int32)[homes]
        if cls == "streams":  # not every floc vertex lies in a stream
            floc = np.array([_home_kind(h).startswith("floc-") for h in _HOMES])[homes]
            codes[floc & (rng.random(codes.size) < 0.15)] = 0
        masks[cls] = codes
    # Real FFA and FBA overlap: a fifth of FBA-1 vertices are also labelled FFA-1.
    overlap = (names == "FBA-1") & (rng.random(names.size) < 0.2)
    masks["floc-faces"][overlap] = ROI_CLASSES["floc-faces"].index("FFA-1") + 1
    return masks


def _vertex_weights(
    rng: np.random.Generator, hemi: str, homes: np.ndarray, grid: int, n_dims: dict[str, int]
) -> dict[str, np.ndarray]:
    """Positive weights (V, D_group) of each vertex over each feature group's features."""
    names = np.array(_HOMES)[homes]
    n = homes.size
    # Receptive fields: early areas small and retinotopic (ventral = upper field = small y;
    # lh sees the right hemifield), everything else large and anywhere.
    lo_s, hi_s = np.full(n, 0.15), np.full(n, 0.3)
    lo_x, hi_x, lo_y, hi_y = np.full(n, 0.05), np.full(n, 0.95), np.full(n, 0.1), np.full(n, 0.9)
    early = np.isin(names, _EARLY)
    for area, (lo, hi) in _RF_SIGMA.items():
        lo_s[np.char.startswith(names, area)], hi_s[np.char.startswith(names, area)] = lo, hi
    lo_x[early], hi_x[early] = (0.5, 0.95) if hemi == "lh" else (0.05, 0.5)
    ventral = early & np.char.endswith(names, "v")
    dorsal = early & np.char.endswith(names, "d")
    lo_y[ventral], hi_y[ventral] = 0.03, 0.5
    lo_y[dorsal], hi_y[dorsal] = 0.5, 0.97
    sigma, cx, cy = rng.uniform(lo_s, hi_s), rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    orient = rng.gamma(1.0, size=(n, scenes.N_ORIENT))
    rf = _gaussian_rf(cx, cy, sigma, grid)
    weights = {"early": (rf[:, :, None] * orient[:, None, :]).reshape(n, -1)}
    # Colour: an ROI-level hue profile with per-vertex jitter, so ROIs differ and vertices too.
    profile = rng.gamma(1.0, size=(len(_HOMES), n_dims["color"]))
    weights["color"] = profile[homes] * rng.lognormal(0.0, 0.5, size=(n, n_dims["color"]))
    # Objects: the same RF on the coarse object grid (where the object is) plus a size term,
    # mixed per vertex; this heterogeneity is what the voxel pattern (and so the RDM) sees.
    rf_obj = _gaussian_rf(cx, cy, np.maximum(sigma, 0.15), scenes.OBJ_GRID)
    for g in scenes.CATEGORIES:
        gain = rng.gamma(2.0, 0.5, size=(n, 2))
        weights[g] = np.concatenate([rf_obj * gain[:, :1], gain[:, 1:] * 0.5], axis=1)
    return {g: w.astype(np.float32) for g, w in weights.items()}


def _gaussian_rf(cx: np.ndarray, cy: np.ndarray, sigma: np.ndarray, grid: int) -> np.ndarray:
    """Gaussian receptive fields (V, grid*grid) over a grid's cell centres, rows summing to 1."""
    centres = (np.arange(grid) + 0.5) / grid
    d2 = (centres[None, :, None] - cy[:, None, None]) ** 2
    d2 = d2 + (centres[None, None, :] - cx[:, None, None]) ** 2  # (V, grid_y, grid_x)
    rf = np.exp(-d2 / (2 * sigma[:, None, None] ** 2)).reshape(cx.size, -1)
    return rf / rf.sum(axis=1, keepdims=True)


def _unit_columns(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    std = x.std(axis=0)
    return x / np.where(std > 1e-8, std, 1.0)


def simulate_hemisphere(
    rng: np.random.Generator, hemi: str, n_vertices: int, features: dict[str, np.ndarray], grid: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Masks per class, noise-free and measured responses (N, V) float32 of one hemisphere."""
    homes = _vertex_homes(rng, hemi, n_vertices)
    masks = _class_masks(rng, homes)
    weights = _vertex_weights(rng, hemi, homes, grid, {g: f.shape[1] for g, f in features.items()})
    kinds = [_home_kind(h) for h in _HOMES]
    alpha = np.array([[_RECIPES[k].get(g, 0.0) for g in GROUPS] for k in kinds])[homes]  # (V, G)
    signal = np.zeros((next(iter(features.values())).shape[0], n_vertices))
    for k, g in enumerate(GROUPS):  # each group's drive, normalised, then mixed by the recipe
        signal += alpha[:, k] * _unit_columns(features[g] @ weights[g].T)
    snr = np.array([_SNR.get(k, _SNR_DEFAULT) for k in kinds])[homes]
    amplitude = snr * rng.lognormal(0.0, 0.25, n_vertices)
    noise_free = amplitude * _unit_columns(signal) + rng.normal(0.0, 0.5, n_vertices)
    measured = noise_free + rng.standard_normal(noise_free.shape)
    return masks, noise_free.astype(np.float32), measured.astype(np.float32)
