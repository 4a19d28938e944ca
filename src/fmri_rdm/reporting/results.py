"""The metrics.json contract: written here once, read here by `compare`, plots, loggers and the
printed results table.

A finished run (`RunMetrics`):

    model, task, pretrained, random_init, embeddings, data_source, subject, roi, metric,
    distribution, n_images, n_voxels, n_pairs, n_pairs_train, n_pairs_test, k_folds, seed,
    folds       [one dict per fold: fold, n_images_*/n_pairs_*, the learner's facts (epochs,
                 batch_size, alpha_median, ...), seconds.fit, test/train/baselines/noise_ceiling
                 {name: value}, confusion_matrix, test_ci, test_p_value, statistics]
    test, train, baselines, noise_ceiling   {name: {mean, std, n}} over folds; test entries of
                 regression runs also carry ci_low / ci_high / p_value (`stats.report`)
    seconds     {embeddings..., training, [all_pairs,] total}
    optimized_metric {name, value}
    inter_subject    (only with evaluation.noise_ceiling=inter_subject)
    transfer         {subjNN: ...} (only with evaluation.transfer_subjects; folds[k] then
                     carry their own `transfer`; layout in `reporting.transfer`)
    fits_nothing     whether the model is fixed (nothing fitted: `Learner.fits_nothing`)
    all_pairs        (fixed regression models only) {n_pairs, n_images, test: {pearson,
                     spearman: {mean, ci_low, ci_high, p_value}}, noise_ceiling: {name: value},
                     statistics: "bootstrap and permutations" (or one of them) | "none" (no
                     interval or p: `evaluation.all_pairs_statistics`)}:
                     the model scored on ALL of the run's pairs, the ceiling on the same pairs
                     (`stats.report.all_pairs_metrics`); `test` etc. are fold means of each
                     fold's within-test pairs

A run that did not finish (`FailedRun`): {"status": "failed", "error", [resume_from], "config"}.
Readers are tolerant of older runs: a missing key reads as None or empty, and a run without
`task` is a regression run unless its model was the SVM.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fmri_rdm.errors import one_line
from fmri_rdm.runtime.artifacts import lookup

METRICS_FILE = "metrics.json"
# runs written before metrics.json recorded the task: only the SVM classified pairs
_LEGACY_CLASSIFIERS = ("svm",)
Entry = dict[str, Any]  # {"mean": float | None, "std": float | None, "n": int, ...}
_OPTIONAL = ("inter_subject", "transfer", "fits_nothing", "all_pairs")  # written when set


def _legacy_task(model: Any) -> str:
    return "classification" if str(model) in _LEGACY_CLASSIFIERS else "regression"


def finite(value: Any) -> float | None:
    """`value` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class FoldMetrics:
    """One fold's dict in metrics.json (kept as written: learners add their own facts)."""

    data: dict[str, Any]

    @property
    def fold(self) -> int | None:
        return self.data.get("fold")

    def score(self, name: str, section: str = "test") -> float | None:
        return finite((self.data.get(section) or {}).get(name))

    def interval(self, name: str) -> tuple[float, float] | None:
        """(ci_low, ci_high) of the test score `name`, None when the fold has none."""
        ci = (self.data.get("test_ci") or {}).get(name) or {}
        low, high = finite(ci.get("ci_low")), finite(ci.get("ci_high"))
        return None if low is None or high is None else (low, high)

    def p_value(self, name: str) -> float | None:
        return finite((self.data.get("test_p_value") or {}).get(name))

    @property
    def fit_seconds(self) -> float | None:
        """The learner's own training time (without baselines and statistics)."""
        return finite((self.data.get("seconds") or {}).get("fit"))


@dataclass
class RunMetrics:
    """A finished run's metrics.json; field order is the file's key order."""

    model: str | None = None
    task: str = "regression"
    pretrained: Any = None
    random_init: bool = False
    embeddings: dict[str, Any] = field(default_factory=dict)
    data_source: str | None = None
    subject: Any = None
    roi: str | None = None
    metric: str | None = None
    distribution: str | None = None
    n_images: int | None = None
    n_voxels: int | None = None
    n_pairs: int | None = None
    n_pairs_train: int | None = None
    n_pairs_test: int | None = None
    k_folds: int | None = None
    seed: int | None = None
    folds: list[FoldMetrics] = field(default_factory=list)
    test: dict[str, Entry] = field(default_factory=dict)
    train: dict[str, Entry] = field(default_factory=dict)
    baselines: dict[str, Entry] = field(default_factory=dict)
    noise_ceiling: dict[str, Entry] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    optimized_metric: dict[str, Any] = field(default_factory=dict)
    inter_subject: dict[str, Any] | None = None
    transfer: dict[str, Any] | None = None  # evaluation.transfer_subjects (reporting.transfer)
    fits_nothing: bool | None = None  # a fixed model (None: a run written before issue 35)
    all_pairs: dict[str, Any] | None = None  # a fixed model scored on all pairs (module doc)
    extra: dict[str, Any] = field(default_factory=dict)  # keys of other writers, kept as read
    # where the run lives (set by `load` and the API's `run`); never written to metrics.json
    run_dir: Path | None = field(default=None, repr=False, compare=False)

    ok = True

    @classmethod
    def from_folds(
        cls,
        folds: Sequence[dict[str, Any]],
        *,
        seconds: dict[str, float],
        optimized_metric: str,
        embeddings: dict[str, Any],
        **facts: Any,
    ) -> RunMetrics:
        """The run's metrics from its per-fold dicts: means ± std over folds of every section,
        mean pair counts, and the optimised metric's value (`optimized_metric`, dotted).

        facts: model, task, data_source, subject, roi, metric, distribution, n_images,
        n_voxels, n_pairs, k_folds, seed.
        """
        import numpy as np

        from fmri_rdm.rsa.scores import aggregate_folds

        run = cls(
            **facts,
            pretrained=embeddings.get("pretrained"),
            random_init=bool(embeddings.get("random_init", False)),
            embeddings=embeddings,
            n_pairs_train=int(np.mean([f["n_pairs_train"] for f in folds])),
            n_pairs_test=int(np.mean([f["n_pairs_test"] for f in folds])),
            folds=[FoldMetrics(f) for f in folds],
            seconds=seconds,
        )
        for section in ("test", "train", "baselines", "noise_ceiling"):
            setattr(run, section, aggregate_folds(folds, section))
        value = lookup(run.to_json(), optimized_metric)
        run.optimized_metric = {"name": optimized_metric, "value": value}
        return run

    def add_statistics(self, statistics: Sequence[Any]) -> None:
        """Per-fold and run-level intervals and p-values (`stats.report.add_statistics`) from
        one `FoldStatistics` per fold; existing keys are never replaced."""
        from fmri_rdm.stats.report import add_statistics

        add_statistics({"folds": [f.data for f in self.folds], "test": self.test}, statistics)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "folds":
                value = [fold.data for fold in value]
            if f.name == "run_dir":
                continue
            if f.name == "extra":
                data |= value
            elif f.name not in _OPTIONAL or value is not None:
                data[f.name] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunMetrics:
        """Tolerant reader: absent keys take their defaults, unknown keys go to `extra`."""
        names = {f.name for f in fields(cls)} - {"extra", "folds", "task", "run_dir"}
        known = {k: v for k, v in data.items() if k in names and v is not None}
        extra = {k: v for k, v in data.items() if k not in names | {"folds", "task"}}
        task = data.get("task") or _legacy_task(data.get("model"))
        folds = [FoldMetrics(dict(f)) for f in data.get("folds") or [] if isinstance(f, Mapping)]
        return cls(**known, task=task or "regression", folds=folds, extra=extra)

    @classmethod
    def load(cls, run_dir: str | Path) -> RunMetrics:
        """The finished run in `run_dir` (its metrics.json); DataError when the directory holds
        none or records a failed run.

        Example:
            >>> result = RunMetrics.load("outputs/demo/2026-12-04/10-00-00-000000")
        """
        from fmri_rdm.errors import DataError

        if not (Path(run_dir) / METRICS_FILE).is_file():
            raise DataError(f"{run_dir} is not a run directory: {METRICS_FILE} is missing")
        result, _ = read_metrics(Path(run_dir))
        if isinstance(result, FailedRun):
            raise DataError(f"run {run_dir} failed: {result.error}")
        result.run_dir = Path(run_dir)
        return result

    # ---------------------------------------------------------------- notebooks
    def folds_frame(self) -> Any:
        """A pandas DataFrame, one row per fold (`reporting.run_frames.folds_frame`)."""
        from fmri_rdm.reporting.run_frames import folds_frame

        return folds_frame(self)

    def summary_frame(self) -> Any:
        """A pandas DataFrame, one row per score: mean ± std over folds, CI, p-value."""
        from fmri_rdm.reporting.run_frames import summary_frame

        return summary_frame(self)

    @property
    def plots(self) -> dict[str, Path]:
        """{name: path} of the run's figures (empty when `run_dir` is unknown)."""
        from fmri_rdm.reporting.run_frames import plot_paths

        return plot_paths(self.run_dir)

    def show(self, names: list[str] | None = None) -> None:
        """Display the run's figures (or those in `names`) inline in Jupyter (outside it, log
        their paths)."""
        from fmri_rdm.reporting.run_frames import show

        show(self, names)

    # ---------------------------------------------------------------- typed accessors

    def entry(self, section: str, name: str) -> Mapping[str, Any]:
        """{mean, std, n, ...} of `section` ("test", "baselines", ...), {} when absent."""
        values = getattr(self, section, None)
        entry = values.get(name) if isinstance(values, Mapping) else None
        return entry if isinstance(entry, Mapping) else {}

    def test_score(self, name: str) -> float | None:
        """Mean over folds of the test score `name` (pearson, roc_auc, ...)."""
        return finite(self.entry("test", name).get("mean"))

    def baseline(self, name: str) -> float | None:
        return finite(self.entry("baselines", name).get("mean"))

    def ceiling(self, name: str) -> float | None:
        return finite(self.entry("noise_ceiling", name).get("mean"))

    def value(self, dotted: str) -> tuple[float | None, float | None]:
        """(mean, std) of a dotted key: `test.pearson.mean` (std from `.std`), `test.pearson`
        (its mean and std) or a plain number such as `seconds.training` (std None)."""
        data = self.to_json()
        try:
            node = lookup(data, dotted)
        except KeyError:
            return None, None
        if isinstance(node, Mapping):
            return finite(node.get("mean")), finite(node.get("std"))
        std = None
        if dotted.endswith(".mean"):
            try:
                std = finite(lookup(data, dotted[: -len(".mean")] + ".std"))
            except KeyError:
                pass
        return finite(node), std

    @property
    def optimized_name(self) -> str | None:
        name = self.optimized_metric.get("name")
        return str(name) if name else None

    @property
    def fit_seconds(self) -> float | None:
        """Sum over folds of the learner's own fit time; None when no fold recorded one."""
        times = [f.fit_seconds for f in self.folds if f.fit_seconds is not None]
        return sum(times) if times else None

    def flat(self) -> dict[str, Any]:
        """Every scalar as {dotted.key: value} (wandb summaries)."""

        def walk(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in data.items():
                if isinstance(value, Mapping):
                    out |= walk(value, f"{prefix}{key}.")
                elif isinstance(value, int | float | str | bool) or value is None:
                    out[f"{prefix}{key}"] = value
            return out

        return walk(self.to_json(), "")


@dataclass
class FailedRun:
    """metrics.json of a run that did not finish (compare lists it with its error)."""

    error: str
    config: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. resume_from

    ok = False

    @property
    def model(self) -> str | None:
        """The configured model's name (from the recorded config), when there is one."""
        model = self.config.get("model") if isinstance(self.config, Mapping) else None
        name = model.get("name") if isinstance(model, Mapping) else None
        return str(name) if name else None

    def to_json(self) -> dict[str, Any]:
        return {"status": "failed", "error": self.error, **self.extra, "config": self.config}


def from_json(data: Any) -> RunMetrics | FailedRun:
    """The contract object of a parsed metrics.json (a failed run when it says so)."""
    if not isinstance(data, Mapping):
        return FailedRun(f"{METRICS_FILE} is not a JSON object")
    if data.get("status") == "failed":
        rest = {k: v for k, v in data.items() if k not in ("status", "error", "config")}
        return FailedRun(one_line(data.get("error") or "unknown error"), data.get("config"), rest)
    return RunMetrics.from_json(data)


def read_metrics(run_dir: Path) -> tuple[RunMetrics | FailedRun, dict[str, Any] | None]:
    """(contract object, raw dict) of `run_dir/metrics.json`; an unreadable file is a failed
    run and no dict."""
    try:
        data = json.loads((Path(run_dir) / METRICS_FILE).read_text())
    except (OSError, ValueError) as err:
        return FailedRun(f"unreadable {METRICS_FILE}: {one_line(err)}"), None
    result = from_json(data)
    return result, data if isinstance(result, RunMetrics) else None
