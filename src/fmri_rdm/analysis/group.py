"""The group level of a set of runs (`python -m fmri_rdm.compare RUNS --across subject`).

Runs are grouped by every other setting that varies (model, roi, layer, `name`, ...: compare's
row keys without the subject; a setting a run does not override is read from its recorded
config); each group aggregates its subjects' test scores:

- `test_<score>_mean`, `_ci_low`, `_ci_high`: mean over subjects of the runs' scores with a
  Student-t interval over subjects (new subjects; the images fixed);
- `_boot_low`, `_boot_high`: the exact percentile bootstrap over subjects (under-covers for
  n = 4-8; `stats.group`);
- `_2f_mean`, `_2f_ci_low`, `_2f_ci_high`: where the runs share test images (stimulus ids), the
  2-factor bootstrap over subjects and images with the variance correction of Schütt et al.
  2023 (`stats.two_factor`), on the test pairs among the `n_images_shared` shared images; for a
  fitted model it is conditional on the models fitted once per fold (`fits_nothing` False:
  `2f scope` says so), for a fixed model it generalises to new subjects and new images;
- `all_pairs_<score>_mean`: a fixed model's score on all pairs (metrics.json `all_pairs`),
  mean over subjects;
- baselines and noise ceilings: their means over subjects;
- the other comparison measures a run scored (evaluation.measures: tau_a, corr_cov, ...) and the
  variance partition of `model=weighted` runs (`vp_<component>`): t intervals over subjects.

Paired comparisons: every group whose reference-key value is not the reference, against the
reference group equal to it in the most other settings (so two candidates that differ in any
setting, e.g. `embeddings.path`, are compared), on the subjects both have, per score: the
mean difference, t-interval, exact sign-flip p (`p_value`) with Holm's correction over all
comparisons of that score (`p_adjusted`), and the 2-factor difference, interval and t-test p
(`p_2f`, Holm: `p_2f_adjusted`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from fmri_rdm.analysis.runs import Run, differing_overrides
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.reporting.results import RunMetrics

ACROSS = ("subject",)
SCORES = ("pearson", "spearman")
EXTRA_SCORES = ("tau_a", "rho_a", "cosine", "corr_cov", "cosine_cov")  # evaluation.measures
BASELINES = ("zero_training_pearson", "zero_training_spearman", "encoding_pearson")
T_METHOD = "t over subjects (df = n-1; images fixed)"
BOOT_METHOD = "exact percentile bootstrap over subjects (under-covers for n < ~10)"
TF_METHOD = "2-factor bootstrap, subjects x images, Schütt et al. 2023 correction, t(min(S,n)-1)"


@dataclass
class GroupAnalysis:
    keys: list[str]  # the settings that vary besides the subject (group columns)
    reference_key: str | None
    reference: str | None
    table: pd.DataFrame  # comparison_group.csv
    paired: pd.DataFrame  # comparison_group_paired.csv
    subjects: pd.DataFrame  # comparison_group_subjects.csv: one row per run
    notes: list[str] = field(default_factory=list)


def subject_of(run: Run) -> str:
    """The run's subject as `subjNN` (from metrics.json, else the `subject` override)."""
    value = run.result.subject if isinstance(run.result, RunMetrics) else None
    if value is None:
        value = run.overrides.get("subject", "")
    text = str(value)
    return f"subj{int(text):02d}" if text.isdigit() else text


UNSET = "(default)"  # a setting no override of the run names and its config does not say


@cache
def _run_config(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the run's resolved config, Hydra's group choices) as recorded in its directory."""

    def load(path: Path) -> dict[str, Any]:
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            return {}
        return data if isinstance(data, dict) else {}

    choices = (load(run_dir / ".hydra" / "hydra.yaml").get("hydra") or {}).get("runtime") or {}
    return load(run_dir / "run_config.yaml"), choices.get("choices") or {}


def default_setting(run: Run, key: str) -> str:
    """What a run had for a setting it did not override: Hydra's group choice (`embeddings`
    -> clip), the recorded config's value (`embeddings.path` -> null) or name, else UNSET."""
    config, choices = _run_config(Path(run.dir))
    if key in choices:
        return str(choices[key])
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return UNSET
        node = node[part]
    if isinstance(node, dict):
        return str(node.get("name", UNSET))
    return "null" if node is None else str(node)


def settings(run: Run, keys: Sequence[str]) -> dict[str, str]:
    """The run's value of each setting: its override, else what its config had."""
    values = {k: run.overrides.get(k, "") for k in keys}
    if "model" in keys and not values["model"]:
        values["model"] = run.model or ""
    return {k: v if v != "" else default_setting(run, k) for k, v in values.items()}


def group_keys(runs: Sequence[Run], across: str) -> list[str]:
    """The settings that vary besides `across`: compare's row keys (the differing overrides,
    and `model` when presets set several models; not imported from compare, which imports
    this module's renderer)."""
    if across not in ACROSS:
        raise ConfigError(f"--across {across!r} is not supported; use one of {', '.join(ACROSS)}")
    keys = differing_overrides(runs)
    if "model" not in keys and len({r.model for r in runs if r.model}) > 1:
        keys.append("model")
    # data=folder names its subject with data.subject=<folder>: the same axis
    aliases = {across, f"data.{across}"}
    return [k for k in keys if k not in aliases and not k.startswith(f"{across}.")]


def parse_reference(text: str | None, keys: Sequence[str]) -> tuple[str | None, str | None]:
    """(key, value) of `--reference key=value`; default: `model` (else the first key), value
    None (its first level)."""
    if text:
        key, sep, value = text.partition("=")
        if not sep or key not in keys:
            raise ConfigError(
                f"--reference {text!r}: give key=value with key one of {', '.join(keys) or '-'}"
            )
        return key, value
    if not keys:
        return None, None
    return next((k for k in ("model", "name") if k in keys), keys[0]), None


def _subject_rows(runs: Sequence[Run], keys: Sequence[str]) -> pd.DataFrame:
    records = []
    for run in runs:
        res = run.result
        assert isinstance(res, RunMetrics)
        row: dict[str, Any] = {**settings(run, keys), "subject": subject_of(run)}
        row["fits_nothing"] = bool(res.fits_nothing)  # unrecorded (older runs): fitted
        for s in SCORES:
            entry = ((res.all_pairs or {}).get("test") or {}).get(s) or {}
            row[f"all_pairs_{s}"] = entry.get("mean")
        for s in (*SCORES, *EXTRA_SCORES):
            row[f"test_{s}"] = res.test_score(s)
        row |= _partition(run.metrics or {})
        for b in BASELINES:
            row[f"baseline_{b}"] = res.baseline(b)
        for name in res.noise_ceiling:
            row[f"noise_ceiling_{name}"] = res.ceiling(name)
        row |= _transfer(run.metrics or {})
        records.append(row | {"dir": str(run.dir)})
    frame = pd.DataFrame.from_records(records)
    return frame.dropna(axis=1, how="all")


def _partition(metrics: dict[str, Any]) -> dict[str, float]:
    """`vp_<component>`: a weighted run's cross-validated variance partition (mean over
    folds of `variance_partition.mean`); {} when the run has none."""
    found = metrics.get("variance_partition")
    means = found.get("mean") if isinstance(found, dict) else None
    if not isinstance(means, dict):
        return {}
    return {f"vp_{k}": float(v) for k, v in means.items() if isinstance(v, int | float)}


def _transfer(metrics: dict[str, Any]) -> dict[str, float]:
    """Mean over target subjects of `transfer.<subjNN>.<score>.mean` (the transfer helper's
    keys), per score; {} when the run has none."""
    transfer = metrics.get("transfer")
    if not isinstance(transfer, dict):
        return {}
    out = {}
    for s in SCORES:
        vals = [v.get(s, {}).get("mean") for v in transfer.values() if isinstance(v, dict)]
        vals = [float(v) for v in vals if isinstance(v, int | float) and math.isfinite(v)]
        if vals:
            out[f"transfer_{s}"] = float(np.mean(vals))
    return out


def check_unique(subjects: pd.DataFrame, keys: Sequence[str]) -> None:
    dup = subjects.duplicated([*keys, "subject"], keep=False)
    if dup.any():
        first = subjects[dup].iloc[0]
        cols = [*keys, "subject"]
        same = int((subjects[cols].astype(str) == first[cols].astype(str)).all(axis=1).sum())
        where = " ".join(f"{k}={first[k]}" for k in keys) or "all runs"
        raise DataError(
            f"{same} runs of {first['subject']} in group {where}: pass one run per "
            "subject and setting, or make the setting that tells them apart an override"
        )


def analyse(
    runs: Sequence[Run],
    *,
    across: str = "subject",
    reference: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> GroupAnalysis:
    """The group table, the paired table and the per-run rows of `runs` (failed runs are
    left out with a note)."""
    from fmri_rdm.analysis.group_stats import family_statistics

    ok = [r for r in runs if r.ok and isinstance(r.result, RunMetrics)]
    if not ok:
        raise DataError("no finished runs to aggregate over subjects")
    notes = [f"{len(runs) - len(ok)} failed run(s) left out"] if len(ok) < len(runs) else []
    keys = group_keys(ok, across)
    ref_key, ref_value = parse_reference(reference, keys)
    subjects = _subject_rows(ok, keys)
    check_unique(subjects, keys)
    if ref_key is not None and ref_value is not None and ref_value not in set(subjects[ref_key]):
        levels = ", ".join(dict.fromkeys(subjects[ref_key]))
        raise ConfigError(f"--reference {ref_key}={ref_value}: no such runs; levels: {levels}")
    # the statistics say why a value is missing (notes); numpy's warnings would only repeat it
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = family_statistics(
            ok, subjects, keys, ref_key, ref_value, n_boot=n_boot, seed=seed, level=level
        )
    notes += stats.notes
    return GroupAnalysis(keys, ref_key, stats.reference, stats.table, stats.paired, subjects, notes)
