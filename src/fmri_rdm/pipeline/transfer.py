"""Cross-subject transfer: does a learner fitted on one subject predict another subject's RDM?

`evaluation.transfer_subjects` names other subjects (`[2, 3]`, or `all` = every other subject
folder under the data root with fMRI). For each of them, once per run:

    shared = the run's images that subject also saw, matched by stimulus id (the data source's:
             the NSD id for Algonauts)
    RDM_t  = that subject's measured RDM of the same ROI on `shared` (same metric; responses
             standardised over those images, as the run standardises over its own:
             `stats.ceiling.subject_rdm`)

and per fold, on the pairs among the fold's *test* images that are in `shared` (all of those
pairs, whatever `distribution` the run trains on; never an image the fold trained on):

    pearson / spearman     the fitted learner's predictions (on the run's own input table: a
                           shared image is the same NSD image, so its row is the same) against
                           RDM_t, with a stimulus-bootstrap interval over those images
                           (`stats.bootstrap`, resampling images as the run's own statistics do)
    own_subject            the same predictions scored against the run's own measured RDM on
                           these pairs (what the learner reaches on its own subject here)
    noise_ceiling          `stats.ceiling` bounds of the run's measured RDM against RDM_t on the
                           same pairs: `inter_subject_lower` = r(RDM_run, RDM_t), what a model
                           that predicted the training subject's RDM perfectly would score;
                           `inter_subject_upper` = r against the pool of both subjects.

A named subject without data, or sharing fewer than 3 of this fold's test images with the run,
is a ConfigError; with `all` such subjects are skipped with a warning (per fold). Only
regression learners transfer (a classifier predicts labels, not this RDM's values).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fmri_rdm.data.source import Subject
from fmri_rdm.data.source import subject_key as _key
from fmri_rdm.errors import ConfigError
from fmri_rdm.models.calibration import predict_both
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats.ceiling import (
    MIN_SHARED_IMAGES,
    InterSubjectCeiling,
    ceiling_from_rdms,
    subject_rdm,
)
from fmri_rdm.stats.report import FoldStatistics

log = logging.getLogger(__name__)

ALL = "all"
SCORES = ("pearson", "spearman")


def subject_key(subject: Subject) -> str:
    """`subj02` (Algonauts), or a folder subject's name: its key in metrics.json's `transfer`
    section."""
    return _key(subject)


def requested_subjects(value: Any, own: Subject) -> list[Subject] | str:
    """`evaluation.transfer_subjects` as a list of subjects, `"all"`, or [] (off).

    Accepts null / [] (off), `all`, one subject, or a list: numbers or `subjNN` when the run's
    subject is a number (Algonauts), subject folder names otherwise (`data=folder`);
    ConfigError for anything else, or when it names the run's own subject."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return []
    if isinstance(value, str) and value.strip().lower() == ALL:
        return ALL
    items = [value] if isinstance(value, int | str) else list(value)
    if isinstance(own, str):  # folder subjects: names as given
        names = [str(item) for item in items]
        if own in names:
            raise ConfigError(
                f"evaluation.transfer_subjects names the run's own subject {own}: its score "
                "is the test score; list other subjects"
            )
        return sorted(set(names))
    ids = []
    for item in items:
        text = str(item).strip().lower().removeprefix("subj")
        if isinstance(item, bool) or not text.isdigit():
            raise ConfigError(
                f"evaluation.transfer_subjects={value!r}: give subject ids, e.g. [2,3], or all"
            )
        ids.append(int(text))
    if own in ids:
        raise ConfigError(
            f"evaluation.transfer_subjects names the run's own subject {own}: its score is the "
            "test score; list other subjects"
        )
    return sorted(set(ids))


@dataclass
class SubjectTarget:
    """One other subject: `images` (M,) run positions it also saw (ascending), `rdm` its
    condensed (M(M-1)/2,) float64 RDM over them, `ceiling` the run's RDM against it."""

    subject: Subject
    images: np.ndarray
    rdm: np.ndarray
    ceiling: InterSubjectCeiling


@dataclass
class Transfer:
    """The other subjects' RDMs of a run, and the per-fold statistics of its transfer scores."""

    targets: list[SubjectTarget]
    explicit: bool  # named subjects (errors) rather than `all` (warnings)
    n_boot: int = 1000
    level: float = 0.95
    statistics: dict[Subject, list[FoldStatistics]] = field(default_factory=dict)

    def fold(self, learner: Any, table: np.ndarray, test_images: np.ndarray, seed: int) -> dict:
        """{subjNN: {n_images_shared, n_pairs, pearson, spearman, ci, noise_ceiling}} of one
        fold: the fitted `learner` predicts the pairs among its test images (`test_images`,
        run positions) that each other subject saw, scored against that subject's RDM."""
        out = {}
        for target in self.targets:
            shared = np.flatnonzero(np.isin(target.images, test_images))  # positions in images
            if shared.size < MIN_SHARED_IMAGES:
                message = (
                    f"subject {target.subject} saw {shared.size} of this fold's "
                    f"{len(test_images)} test images (at least {MIN_SHARED_IMAGES} needed)"
                )
                if self.explicit:
                    raise ConfigError(
                        f"evaluation.transfer_subjects: {message}; use more images "
                        "(data.n_images), fewer folds, or other subjects"
                    )
                log.warning("transfer: %s; skipped in this fold", message)
                continue
            entry, stats = _score(target, shared, learner, table, seed, self.n_boot, self.level)
            self.statistics.setdefault(target.subject, []).append(stats)
            out[subject_key(target.subject)] = entry
        return out

    def summary(self, folds: list[dict]) -> dict:
        """The run-level `transfer` section from the folds' `transfer` dicts (module
        `reporting.transfer`)."""
        from fmri_rdm.reporting.transfer import summarize_transfer

        stats = {subject_key(s): v for s, v in self.statistics.items()}
        return summarize_transfer([f.get("transfer") or {} for f in folds], stats)


def _score(
    target: SubjectTarget,
    shared: np.ndarray,
    learner: Any,
    table: np.ndarray,
    seed: int,
    n_boot: int,
    level: float,
) -> tuple[dict, FoldStatistics]:
    """Scores of one subject in one fold; `shared`: (S,) positions in `target.images`."""
    a, b = np.triu_indices(shared.size, 1)  # local positions among the shared test images
    la, lb = shared[a], shared[b]
    i, j = target.images[la], target.images[lb]  # run positions, i < j
    y = target.rdm[rdm_lib.condensed_index(la, lb, target.images.size)]
    raw, prediction = predict_both(learner, table, i, j)  # correlations: raw (issue 35)
    ones = np.ones((1, shared.size), dtype=np.int64)
    observed = {
        k: float(v[0, 0])
        for k, v in boot.bootstrap_scores(y, prediction, a, b, ones, SCORES, raw=raw).items()
    }
    stats = FoldStatistics(observed, level=level)
    if n_boot > 0:
        rng = np.random.default_rng([int(seed), 13, _seed_of(target.subject)])
        counts = boot.resample_counts(rng, shared.size, n_boot)
        samples = boot.bootstrap_scores(y, prediction, a, b, counts, SCORES, raw=raw)
        stats.samples = {k: v[0] for k, v in samples.items()}
    own = target.ceiling.own[rdm_lib.condensed_index(la, lb, target.images.size)]
    on_own = boot.bootstrap_scores(own, prediction, a, b, ones, SCORES, raw=raw)
    entry = {
        "n_images_shared": int(shared.size),
        "n_pairs": int(i.size),
        **{k: _finite(v) for k, v in observed.items()},
        "ci": stats.intervals(),
        "noise_ceiling": target.ceiling.bounds(i, j),
        # the same predictions against the run's own subject on these pairs: the transfer drop
        "own_subject": {k: _finite(float(v[0, 0])) for k, v in on_own.items()},
    }
    return entry, stats


def _seed_of(subject: Subject) -> int:
    """The subject's part of the bootstrap seed: its number, or a stable hash of its name."""
    if isinstance(subject, int):
        return subject
    import zlib

    return zlib.crc32(str(subject).encode())


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def build_transfer(cfg: Any, inputs: Any, task: Any) -> Transfer | None:
    """The other subjects' RDMs on the images they share with the run (None when
    `evaluation.transfer_subjects` is off). inputs: the run's `run.inputs.Inputs`; task: its
    `run.task.Task`."""
    evaluation = cfg.evaluation
    wanted = requested_subjects(evaluation.get("transfer_subjects"), inputs.subject)
    if not wanted:
        return None
    if not task.predicts_dissimilarities:
        raise ConfigError(
            "evaluation.transfer_subjects needs a regression model (a classifier predicts "
            "labels, not another subject's RDM values): choose another model or set it to null"
        )
    source = inputs.source
    present = source.subjects()
    explicit = wanted != ALL
    subjects = wanted if isinstance(wanted, list) else [s for s in present if s != inputs.subject]
    missing = [s for s in subjects if s not in present]
    if missing or not subjects:
        named = ", ".join(map(str, missing)) or "other than the run's"
        hint = " (synthetic data: add them to data.generate.subjects)"
        raise ConfigError(
            f"evaluation.transfer_subjects: no fMRI for subject(s) {named} under "
            f"{inputs.root}; subjects there: {', '.join(map(str, present)) or 'none'}"
            f"{hint if cfg.data.source == 'synthetic' else ''}"
        )
    targets = []
    for s in subjects:
        target = _subject_target(inputs, source, s, bool(cfg.data.standardize))
        if target is not None:
            targets.append(target)
            continue
        if explicit:
            raise ConfigError(
                f"evaluation.transfer_subjects: subject {_key(s)} saw fewer than "
                f"{MIN_SHARED_IMAGES} of the run's {inputs.n_images} images; choose other subjects"
            )
        log.warning(
            "transfer: subject %s saw < %d of the run's images; skipped", s, MIN_SHARED_IMAGES
        )
    if not targets:
        raise ConfigError(
            f"evaluation.transfer_subjects=all: no other subject under {inputs.root} saw at "
            f"least {MIN_SHARED_IMAGES} of the run's images; share more images or set it to null"
        )
    return Transfer(targets, explicit, int(evaluation.n_bootstrap), float(evaluation.ci_level))


def _subject_target(
    inputs: Any, source: Any, subject: Subject, standardize: bool
) -> SubjectTarget | None:
    """`subject`'s RDM on the run's images it saw too, and the ceiling on them (None when
    it saw fewer than MIN_SHARED_IMAGES of them)."""
    own_ids = np.asarray(inputs.stimulus_ids).astype(str)
    their = source.stimuli(subject).ids
    images = np.flatnonzero(np.isin(own_ids, their))  # run positions, ascending
    if images.size < MIN_SHARED_IMAGES:
        return None
    rdm = subject_rdm(
        source, subject, inputs.roi, inputs.metric, own_ids[images],
        standardize=standardize, ids=their, noise=getattr(inputs, "noise", "identity"),
        per_partition=getattr(inputs, "per_partition", False),
    )  # fmt: skip
    ceiling = ceiling_from_rdms(images, inputs.rdm, inputs.n_images, [subject], [rdm])
    log.info("transfer to subject %s: %d shared images", subject, images.size)
    return SubjectTarget(subject, images, rdm, ceiling)
