"""Inter-subject noise ceiling for real data (leave-one-subject-out, Nili et al. 2014).

Subjects are matched by stimulus id (`data.source`: the NSD id for Algonauts, the folder's
stimulus ids for `data=folder`), so the images a run uses can be found among the other
subjects' stimuli whatever their row order. For the run's subject s and ROI, on the images
every available subject saw:

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
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.data.algonauts_source import nsd_ids, subjects_with_fmri
from fmri_rdm.data.measured import measured_rdm
from fmri_rdm.data.source import DataSource, Subject, subject_key
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa import rdm as rdm_lib

log = logging.getLogger(__name__)
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


def _normalised(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z-scores, twice the ranks as int64) of a condensed RDM over its pairs.

    Spearman pooling averages the subjects' ranks (rsatoolbox's `pool_rdm(method="spearman")`)
    and ranks the average again. Tied ranks are half-integers, so twice the rank is an integer:
    summing those is exact, and the re-ranking sees exactly the ties rsatoolbox's mean has
    (a floating-point mean of z-scored ranks breaks some of them by rounding)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if finite.all():
        z = (v - v.mean()) / (v.std() or 1.0)
        return z, np.rint(2.0 * rankdata(v)).astype(np.int64)
    # RDM data with pairs NaN in every session: NaN z-scores (left out by _corr), rank 0
    z = np.full_like(v, np.nan)
    z[finite] = (v[finite] - v[finite].mean()) / (v[finite].std() or 1.0)
    ranks = np.zeros(v.shape, dtype=np.int64)
    ranks[finite] = np.rint(2.0 * rankdata(v[finite])).astype(np.int64)
    return z, ranks


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    keep = np.isfinite(a) & np.isfinite(b)
    if not keep.all():
        a, b = a[keep], b[keep]
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
    subjects: list[Subject]
    own: np.ndarray
    own_z: np.ndarray
    own_r: np.ndarray
    others_z: np.ndarray
    others_r: np.ndarray
    left_out: dict[str, str] = field(default_factory=dict)

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
        info: dict = {"subjects": self.subjects, "n_images_shared": int(self.images.size)}
        if self.left_out:  # subjects without the ROI: {subject: the ROIs it has}
            info["left_out"] = dict(self.left_out)
        return info


def inter_subject_ceiling(
    source: DataSource,
    subject: Subject,
    roi: str,
    metric: str,
    ids: np.ndarray,
    rdm: np.ndarray,
    *,
    standardize: bool = True,
    subjects: Sequence[Subject] | None = None,
    noise: str = "identity",
    per_partition: bool = False,
) -> InterSubjectCeiling:
    """Pool the other subjects' RDMs of `roi` on the run's stimuli that all of them saw.

    ids: (N,) stimulus ids of the run's selected stimuli; rdm: the run's condensed RDM over
    them. subjects: the others to use (default: every subject of the source). noise,
    per_partition: the trial metrics' noise estimate, as the run's. Raises DataError
    when there is no other subject or fewer than 3 stimuli are shared by all of them.
    """
    own_ids = np.asarray(ids).astype(str)
    candidates = [
        s for s in (subjects if subjects is not None else source.subjects()) if s != subject
    ]
    others, left_out = with_roi(source, candidates, roi)
    if left_out:
        log.warning("inter-subject ceiling of ROI %r: %s", roi, left_out_note(left_out))
    if not others:
        lacking = f" ({left_out_note(left_out)})" if left_out else ""
        raise DataError(
            f"no other subject with ROI {roi!r} under {source.root}{lacking}: the inter-subject "
            "noise ceiling needs the other subjects' data (evaluation.noise_ceiling=inter_subject)"
        )
    their_ids = {s: source.stimuli(s).ids for s in others}
    common = own_ids
    for their in their_ids.values():
        common = np.intersect1d(common, their)
    if common.size < MIN_SHARED_IMAGES:
        overlap = ", ".join(
            f"{subject_key(s)}: {np.intersect1d(own_ids, t).size}" for s, t in their_ids.items()
        )
        raise DataError(
            f"only {common.size} of the run's images are shared by all other subjects "
            f"(per subject: {overlap}); choose other subjects or more images"
        )
    images = np.flatnonzero(np.isin(own_ids, common))  # run positions, ascending
    wanted = own_ids[images]
    rdms = [
        subject_rdm(
            source,
            s,
            roi,
            metric,
            wanted,
            standardize=standardize,
            ids=t,
            noise=noise,
            per_partition=per_partition,
        )
        for s, t in their_ids.items()
    ]
    log.info("inter-subject ceiling: %d shared images, subjects %s", images.size, others)
    ceiling = ceiling_from_rdms(images, rdm, len(own_ids), others, rdms)
    ceiling.left_out = left_out
    return ceiling


def with_roi(
    source: DataSource, subjects: Sequence[Subject], roi: str
) -> tuple[list[Subject], dict[str, str]]:
    """(the subjects that have `roi`, {subject key: what it has instead} for the others): a
    subject without the ROI is left out of the ceiling rather than failing every run."""
    have: list[Subject] = []
    lacking: dict[str, str] = {}
    for s in subjects:
        try:
            source.kind(s, roi)  # a folder source raises DataError for a ROI the subject lacks
            have.append(s)
        except DataError:
            try:
                lacking[subject_key(s)] = ", ".join(source.rois(s)) or "no ROI"
            except DataError:
                lacking[subject_key(s)] = "no ROI"
    return have, lacking


def left_out_note(left_out: dict[str, str]) -> str:
    """`left out sub-BE, sub-CD (no such ROI; they have hIT)`: the ceiling's note."""
    has = sorted(set(left_out.values()))
    return f"left out {', '.join(left_out)} (no such ROI; they have {'; '.join(has)})"


def subject_rdm(
    source: DataSource,
    subject: Subject,
    roi: str,
    metric: str,
    wanted: np.ndarray,
    *,
    standardize: bool = True,
    ids: np.ndarray | None = None,
    noise: str = "identity",
    per_partition: bool = False,
) -> np.ndarray:
    """(M(M-1)/2,) float64 condensed RDM of `subject` on the stimuli with ids `wanted` (M,),
    in that order: of its responses, standardised over those M stimuli as the run standardises
    over its own, or its mean RDM over sessions; trial metrics from its trials with the
    run's noise estimate (`noise`, `per_partition`). ids: the subject's stimulus ids (read
    when None); every wanted id must be among them."""
    if ids is None:
        ids = source.stimuli(subject).ids
    ids = np.asarray(ids).astype(str)
    wanted = np.asarray(wanted).astype(str)
    order = np.argsort(ids)
    rows = order[np.searchsorted(ids[order], wanted)]  # their rows, our order
    data = source.load(subject, roi, rows=rows, standardize=standardize)
    if data.kept.size != rows.size:
        raise DataError(
            f"subject {subject_key(subject)} has no usable data (NaN/inf responses, or trials "
            f"in fewer than two partitions) for {rows.size - data.kept.size} of the shared "
            f"stimuli in ROI {roi!r}: fix the data"
        )
    rdm = measured_rdm(data, metric, noise, per_partition=per_partition, dtype=np.float64)
    return np.asarray(rdm, dtype=np.float64)


def ceiling_from_rdms(
    images: np.ndarray,
    rdm: np.ndarray,
    n_images: int,
    subjects: Sequence[Subject],
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


__all__ = [
    "MIN_SHARED_IMAGES",
    "InterSubjectCeiling",
    "ceiling_from_rdms",
    "inter_subject_ceiling",
    "left_out_note",
    "nsd_ids",
    "subject_rdm",
    "subjects_with_fmri",
    "wants_inter_subject",
    "with_roi",
]
