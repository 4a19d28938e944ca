"""Runs over time (issue 39): the run's model scored on the brain RDM of every time window.

A time-resolved subject (a times.tsv, data/timed.py) runs as any other on its data averaged
over all times (metrics.json as before), and then per window (`evaluation.time`):

- each selected fold's learner is fitted on the window's RDM (or responses) and predicts the
  fold's test pairs (before calibration: only correlations are scored over time); its test
  scores on every window's RDM come from that one prediction (`generalize=true`: the
  times x times matrix; otherwise the diagonal is kept);
- `fit_at_ms`: the learner is fitted once per fold, on the window nearest that time, and
  tested on every window;
- per window, the stimulus bootstrap of each fold's test images (`n_bootstrap`, the same
  resamples in every window) gives the interval of the fold-mean score, as for the run's test
  scores (stats/report.py).

metrics.json gains `time_course`: times_ms, the window settings, and per score the fold-mean
test value per window with its bootstrap interval (`mean`, `ci_low`, `ci_high`) and each fold's
values (`folds`); with generalize, `generalization[score]` = (fitted window x tested window);
with evaluation.noise_ceiling=inter_subject, `noise_ceiling[score]` = lower / upper per window
(pipeline/time_ceiling.py; the time-mean run then has no inter-subject ceiling).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError
from fmri_rdm.pipeline.time_inputs import TimeInputs
from fmri_rdm.rsa import rdm as rdm_lib
from fmri_rdm.rsa.windows import SCORES, window_scores
from fmri_rdm.stats.bootstrap import percentile_interval

TIME_SCORES = SCORES  # pearson, spearman


def window_inputs(inputs: Any, time: TimeInputs, w: int) -> Any:
    """The run's Inputs with the brain data of window w (its RDM, pair values, responses)."""
    rdm = time.rdms[w]
    index = rdm_lib.condensed_index(inputs.i, inputs.j, inputs.n_images)
    return replace(
        inputs,
        rdm=rdm.astype(np.float32),
        y=rdm[index].astype(np.float32),
        responses=time.window_responses(w),
        sessions=None if inputs.sessions is None else rdm[None, :],
        rdm_noise_free=None,
    )


def fit_windows(time: TimeInputs, time_cfg: Any) -> list[int]:
    """The windows a learner is fitted on: all, or the one nearest `fit_at_ms`."""
    at = time_cfg.get("fit_at_ms")
    if at is None:
        return list(range(len(time.windows)))
    return [int(np.argmin(np.abs(time.windows.times_ms - float(at))))]


def _test_targets(time: TimeInputs, test: Any, n_images: int) -> np.ndarray:
    """(W, P) every window's brain RDM on the fold's test pairs."""
    return time.rdms[:, rdm_lib.condensed_index(test.pairs.i, test.pairs.j, n_images)]


def _intervals(samples: list[np.ndarray], level: float) -> tuple[float | None, float | None]:
    """The percentile interval of the fold-mean over resample index (samples: one (B,) per
    fold)."""
    if not samples or not all(len(s) for s in samples):
        return None, None
    low, high = percentile_interval(np.mean(np.stack(samples), axis=0), level)
    return (low if np.isfinite(low) else None, high if np.isfinite(high) else None)


def _as_list(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def check_time_run(task: Any, time_cfg: Any) -> None:
    if task.name != "regression":
        raise ConfigError(
            "time-resolved data are scored per window for regression learners (model=rsa, "
            "encoding, siamese, ...): classification learners have no time course yet"
        )
    if time_cfg.get("generalize") and time_cfg.get("fit_at_ms") is not None:
        raise ConfigError(
            "evaluation.time.generalize=true fits every window; fit_at_ms fits one: choose one"
        )


def _fit_predict(cfg: Any, cls: Any, task: Any, ctx: Any, fold: int, split: Any, w: int) -> tuple:
    """(FoldData, TestPairs, prediction) of a learner fitted on window w's data; anything it
    writes (checkpoints) goes to a temporary folder, not the run's."""
    import tempfile
    from pathlib import Path

    from fmri_rdm.pipeline.folds import fold_data

    win = window_inputs(ctx.inputs, ctx.inputs.time, w)
    learner = task.prepare(cls.from_config(cfg), ctx.settings, lambda: cls.from_config(cfg))
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(ctx.settings, output_dir=Path(tmp))
        data, test = fold_data(settings, win, learner, task.targets(win), fold, split)
        learner.fit(data)
        # correlations are scored on the learner's own predictions, before any calibration
        # (a positive affine map leaves them unchanged; issue 35)
        raw = getattr(learner, "inner", learner)
        prediction = raw.predict(ctx.inputs.table, test.pairs.i, test.pairs.j)
    return data, test, np.asarray(prediction, dtype=np.float64)


def time_course(cfg: Any, cls: Any, task: Any, ctx: Any, selected: list[int]) -> dict[str, Any]:
    """The run's `time_course` (module docstring) over its selected folds."""
    from fmri_rdm.pipeline.selection import make_folds
    from fmri_rdm.stats.report import fold_statistics

    settings, inputs, time_cfg = ctx.settings, ctx.inputs, cfg.evaluation.time
    time: TimeInputs = inputs.time
    check_time_run(task, time_cfg)
    folds = make_folds(inputs.n_images, settings.evaluation, settings.seed)
    fitted = fit_windows(time, time_cfg)
    n_windows, once = len(time.windows), len(fitted) == 1
    every = bool(time_cfg.get("generalize")) or once  # test each fit on every window
    scores = {s: np.full((len(selected), len(fitted), n_windows), np.nan) for s in TIME_SCORES}
    course: dict[str, list[list[np.ndarray]]] = {
        s: [[] for _ in range(n_windows)] for s in TIME_SCORES
    }
    for k, fold in enumerate(selected):
        for r, w in enumerate(fitted):
            data, test, prediction = _fit_predict(cfg, cls, task, ctx, fold, folds[fold], w)
            targets = _test_targets(time, test, inputs.n_images)  # (W, P)
            tested = list(range(n_windows)) if every else [w]
            for s in TIME_SCORES:
                scores[s][k, r, tested] = window_scores(targets[tested], prediction, s)
            for t in range(n_windows) if once else [w]:  # the windows of the time course
                stats = fold_statistics(
                    time.rdms[t], inputs.n_images, test.pairs.i, test.pairs.j, targets[t],
                    prediction, test.images, seed=data.seed, n_boot=int(time_cfg.n_bootstrap),
                    n_perm=0, level=settings.evaluation.ci_level, scores=TIME_SCORES,
                )  # fmt: skip
                for s in TIME_SCORES:
                    course[s][t].append(stats.samples.get(s, np.zeros(0)))
    out: dict[str, Any] = {
        "times_ms": _as_list(time.windows.times_ms),
        "window_ms": time.window_ms,
        "step_ms": time.step_ms,
        "window_samples": time.windows.width,
        "fitted": "every window"
        if not once
        else {"at_ms": float(time.windows.times_ms[fitted[0]])},
        "n_bootstrap": int(time_cfg.n_bootstrap),
        "scores": {},
    }
    for s in TIME_SCORES:
        per_fold = scores[s][:, 0, :] if once else np.diagonal(scores[s], axis1=1, axis2=2)
        bands = [_intervals(course[s][t], settings.evaluation.ci_level) for t in range(n_windows)]
        out["scores"][s] = {
            "mean": _as_list(np.nanmean(per_fold, axis=0)),
            "ci_low": [b[0] for b in bands],
            "ci_high": [b[1] for b in bands],
            "folds": [_as_list(f) for f in per_fold],
        }
    from fmri_rdm.stats.ceiling import wants_inter_subject

    if wants_inter_subject(settings.evaluation.noise_ceiling):
        from fmri_rdm.pipeline.time_ceiling import time_ceiling

        assert inputs.source is not None
        out["noise_ceiling"] = time_ceiling(
            inputs.source, inputs.subject, inputs.roi, inputs.stimulus_ids, time, inputs.metric
        )
    if time_cfg.get("generalize"):
        out["generalization"] = {
            s: [_as_list(row) for row in np.nanmean(scores[s], axis=0)] for s in TIME_SCORES
        }
    return out
