"""Inter-subject noise ceiling for real data (leave-one-subject-out, Nili et al. 2014).

NSD subjects share images; Algonauts file names carry the NSD id (`train-0001_nsd-00013.png`),
so the images a run uses can be found among the other subjects' images whatever their row
order. For the run's subject s and ROI, on the images every available subject saw:

    lower = r(RDM_s, pool(others))          upper = r(RDM_s, pool(all subjects, s included))

where RDM_s is the run's own target RDM (the values the model predicts) and pool averages the
subjects' RDMs after normalising each over all shared pairs, as rsatoolbox's `pool_rdm` does: a
z-score for Pearson, ranks for Spearman (Euclidean RDMs scale with a subject's vertex count).
The pooled RDMs are built once per run; per fold they are scored like a model on the fold's
test pairs whose two images are shared (`InterSubjectCeiling.bounds(i, j)`), so the bounds sit
on a subset of the pairs the model is scored on (all of them when every image is shared).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.data import algonauts
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa import rdm as rdm_lib

log = logging.getLogger(__name__)
_NSD = re.compile(r"nsd-(\d+)")
MIN_SHARED_IMAGES = 3
NOISE_CEILING_MODES = ("auto", "inter_subject")


def wants_inter_subject(mode: str) -> bool:
    """Whether `evaluation.noise_ceiling` asks for the inter-subject bounds (ConfigError when
    the value is unknown)."""
    if mode not in NOISE_CEILING_MODES:
        raise ConfigError(
            f"evaluation.noise_ceiling={mode!r} is not one of {', '.join(NOISE_CEILING_MODES)}"
        )
    return mode == "inter_subject"


def nsd_ids(paths: Sequence[Path | str]) -> np.ndarray:
    """(N,) int64 NSD ids from Algonauts image names; DataError when a name lacks one."""
    ids = []
    for p in paths:
        m = _NSD.search(Path(p).name)
        if m is None:
            raise DataError(f"image {p} has no NSD id (nsd-XXXXX) in its name")
        ids.append(int(m.group(1)))
    return np.asarray(ids, dtype=np.int64)


def subjects_with_fmri(root: Path) -> list[int]:
    """Subject ids under `root` whose folder holds training fMRI, ascending."""
    found = []
    for d in sorted(Path(root).glob("subj[0-9][0-9]")):
        if (d / algonauts.TRAIN_FMRI_DIR / "lh_training_fmri.npy").is_file():
            found.append(int(d.name[4:]))
    return found


def _normalised(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z-scores, twice the ranks as int64) of a condensed RDM over its pairs.

    Spearman pooling averages the subjects' ranks (rsatoolbox's `pool_rdm(method="spearman")`)
    and ranks the average again. Tied ranks are half-integers, so twice the rank is an integer:
    summing those is exact, and the re-ranking sees exactly the ties rsatoolbox's mean has
    (a floating-point mean of z-scored ranks breaks some of them by rounding)."""
    v = np.asarray(values, dtype=np.float64)
    z = (v - v.mean()) / (v.std() or 1.0)
    return z, np.rint(2.0 * rankdata(v)).astype(np.int64)


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.size < 3 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


@dataclass
class InterSubjectCeiling:
    """Pooled RDMs over the shared images; `images` are positions in the run's image list.

    own: (L,) the run's RDM on the shared pairs (condensed over `images`); own_z / own_r: its
    z-score / twice its ranks (int64); others_z: the other subjects' mean z-scored RDM;
    others_r: the sum of their doubled ranks (int64, exact; ranking it ranks their mean).
    """

    images: np.ndarray
    subjects: list[int]
    own: np.ndarray
    own_z: np.ndarray
    own_r: np.ndarray
    others_z: np.ndarray
    others_r: np.ndarray

    def bounds(self, i: np.ndarray | None = None, j: np.ndarray | None = None) -> dict:
        """{inter_subject_lower, inter_subject_upper, inter_subject_spearman_lower,
        inter_subject_spearman_upper} on the pairs (i, j) (run image indices) whose two images
        are shared; all shared pairs when i, j are None. None where undefined (< 3 pairs)."""
        m = self.images.size
        if i is None or j is None:
            sel = np.arange(self.own.size)
        else:
            pos = np.full(int(max(self.images.max(), np.max(i), np.max(j))) + 1, -1)
            pos[self.images] = np.arange(m)
            a, b = pos[np.asarray(i)], pos[np.asarray(j)]
            keep = (a >= 0) & (b >= 0)
            lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            sel = rdm_lib.condensed_index(lo, hi, m)
        k = len(self.subjects)
        own = self.own[sel]
        rank_own = rankdata(own)
        with_own_z = (self.own_z[sel] + k * self.others_z[sel]) / (k + 1)
        with_own_r = self.own_r[sel] + self.others_r[sel]  # integer sums: ties stay exact
        return {
            "inter_subject_lower": _corr(own, self.others_z[sel]),
            "inter_subject_upper": _corr(own, with_own_z),
            "inter_subject_spearman_lower": _corr(rank_own, rankdata(self.others_r[sel])),
            "inter_subject_spearman_upper": _corr(rank_own, rankdata(with_own_r)),
        }

    def info(self) -> dict:
        return {"subjects": self.subjects, "n_images_shared": int(self.images.size)}


def inter_subject_ceiling(
    root: Path | str,
    subject: int,
    roi: str,
    metric: str,
    paths: Sequence[Path | str],
    rdm: np.ndarray,
    *,
    standardize: bool = True,
    subjects: Sequence[int] | None = None,
) -> InterSubjectCeiling:
    """Pool the other subjects' RDMs of `roi` on the run's images that all of them saw.

    paths: the run's selected images (N,); rdm: the run's condensed RDM over them. subjects:
    the others to use (default: every subject folder under root with fMRI). Raises DataError
    when there is no other subject or fewer than 3 images are shared by all of them.
    """
    own_ids = nsd_ids(paths)
    others = [
        s
        for s in (subjects if subjects is not None else subjects_with_fmri(Path(root)))
        if s != subject
    ]
    if not others:
        raise DataError(
            f"no other subject under {root}: the inter-subject noise ceiling needs the other "
            "subjects' data (evaluation.noise_ceiling=inter_subject)"
        )
    their_ids = {s: nsd_ids(algonauts.image_paths(root, s, "train")) for s in others}
    common = own_ids
    for ids in their_ids.values():
        common = np.intersect1d(common, ids)
    if common.size < MIN_SHARED_IMAGES:
        overlap = ", ".join(
            f"subj{s:02d}: {np.intersect1d(own_ids, ids).size}" for s, ids in their_ids.items()
        )
        raise DataError(
            f"only {common.size} of the run's images are shared by all other subjects "
            f"(per subject: {overlap}); choose other subjects or more images"
        )
    images = np.flatnonzero(np.isin(own_ids, common))  # run positions, ascending
    wanted = own_ids[images]
    their = [
        subject_rdm(root, s, roi, metric, wanted, standardize=standardize, ids=ids)
        for s, ids in their_ids.items()
    ]
    log.info("inter-subject ceiling: %d shared images, subjects %s", images.size, others)
    return ceiling_from_rdms(images, rdm, len(own_ids), others, their)


def subject_rdm(
    root: Path | str,
    subject: int,
    roi: str,
    metric: str,
    wanted: np.ndarray,
    *,
    standardize: bool = True,
    ids: np.ndarray | None = None,
) -> np.ndarray:
    """(M(M-1)/2,) float64 condensed RDM of `subject`'s responses to the images with NSD ids
    `wanted` (M,), in that order; the responses are standardised over those M images, as the
    run standardises over its own. ids: the subject's training-image NSD ids (read when None);
    every wanted id must be among them."""
    if ids is None:
        ids = nsd_ids(algonauts.image_paths(root, subject, "train"))
    rows = np.argsort(ids)[np.searchsorted(np.sort(ids), wanted)]  # their rows, our order
    x = algonauts.load_responses(root, subject, roi, standardize=standardize, images=rows)
    return rdm_lib.compute_rdm(x, metric).astype(np.float64)


def ceiling_from_rdms(
    images: np.ndarray,
    rdm: np.ndarray,
    n_images: int,
    subjects: Sequence[int],
    their: Sequence[np.ndarray],
) -> InterSubjectCeiling:
    """The pooled bounds of a run's RDM `rdm` (condensed over `n_images`) on its images
    `images` (M,) (run positions, ascending), given each other subject's condensed RDM over
    the same M images in the same order (`their`, one per subject)."""
    m = images.size
    a, b = np.triu_indices(m, 1)
    own = rdm_lib.rdm_values(rdm, images[a], images[b], n_images).astype(np.float64)
    own_z, own_r = _normalised(own)
    sum_z, sum_r = np.zeros_like(own), np.zeros(own.shape, dtype=np.int64)
    for values in their:
        z, r = _normalised(values)
        sum_z += z
        sum_r += r
    k = len(their)
    return InterSubjectCeiling(images, list(subjects), own, own_z, own_r, sum_z / k, sum_r)
