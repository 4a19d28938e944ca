"""The `transfer` section of metrics.json (cross-subject transfer, `run.transfer`), as written
and as shown by the printed results table and `compare`.

    folds[k]["transfer"][subjNN] = {n_images_shared, n_pairs, pearson, spearman,
                                   ci: {pearson|spearman: {ci_low, ci_high}},
                                   noise_ceiling: {inter_subject_lower, inter_subject_upper,
                                                   inter_subject_spearman_lower, ..._upper},
                                   own_subject: {pearson, spearman}}
    transfer[subjNN] = {pearson|spearman: {mean, std, n, ci_low, ci_high},
                        n_images_shared: {mean, std, n}, n_pairs: {mean, std, n},
                        noise_ceiling: {name: {mean, std, n}},
                        own_subject: {pearson|spearman: {mean, std, n}}}

mean / std are over the folds that scored the subject (n of them); ci_low / ci_high are the
percentile interval of the fold-mean score over the stimulus-bootstrap resamples (resample b of
every fold averaged, as `stats.report.summarize_statistics` does for the run's own scores).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCORES = ("pearson", "spearman")
CEILING_SHOWN = ("inter_subject_lower", "inter_subject_upper")


def summarize_transfer(
    folds: Sequence[Mapping[str, Any]], statistics: Mapping[str, Sequence[Any]]
) -> dict[str, Any]:
    """The run-level section from each fold's `transfer` dict (one per fold, {} where the fold
    scored no subject) and each subject's `stats.report.FoldStatistics` (one per fold that
    scored it, in fold order)."""
    from fmri_rdm.rsa.scores import mean_std  # torch: not at import (compare starts fast)
    from fmri_rdm.stats.report import summarize_statistics

    keys = list(dict.fromkeys(k for f in folds for k in f))
    out: dict[str, Any] = {}
    for key in keys:
        entries = [f[key] for f in folds if key in f]
        intervals = summarize_statistics(list(statistics.get(key, [])))
        section: dict[str, Any] = {}
        for score in SCORES:
            section[score] = mean_std(e.get(score) for e in entries) | intervals.get(score, {})
        for count in ("n_images_shared", "n_pairs"):
            section[count] = mean_std(e.get(count) for e in entries)
        names = list(dict.fromkeys(n for e in entries for n in e.get("noise_ceiling") or {}))
        section["noise_ceiling"] = {
            n: mean_std((e.get("noise_ceiling") or {}).get(n) for e in entries) for n in names
        }
        section["own_subject"] = {
            n: mean_std((e.get("own_subject") or {}).get(n) for e in entries) for n in SCORES
        }
        out[key] = section
    return out


def _cell(entry: Mapping[str, Any]) -> str:
    mean, std = entry.get("mean"), entry.get("std")
    if mean is None:
        return "-"
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def transfer_rows(transfer: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """(label, mean ± std, interval) rows of the printed results table, per other subject:
    its Pearson and Spearman, then (dimmed) the same predictions on the run's own subject
    and the inter-subject ceiling, both on the same pairs."""
    rows = []
    for key, section in (transfer or {}).items():
        shared = (section.get("n_images_shared") or {}).get("mean")
        note = f"{shared:.0f} shared images" if shared is not None else ""
        for score in SCORES:
            entry = section.get(score) or {}
            low, high = entry.get("ci_low"), entry.get("ci_high")
            ci = f"[{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
            rows.append(
                (f"transfer {key} {score}", _cell(entry), " · ".join(filter(None, [ci, note])))
            )
        own = (section.get("own_subject") or {}).get("pearson") or {}
        rows.append((f"[dim]transfer {key} own subject, same pairs[/dim]", _cell(own), ""))
        for name in CEILING_SHOWN:
            entry = (section.get("noise_ceiling") or {}).get(name) or {}
            label = name.removeprefix("inter_subject_")
            rows.append((f"[dim]transfer {key} ceiling {label}[/dim]", _cell(entry), ""))
    return rows


def transfer_columns(results: Sequence[Any]) -> list[str]:
    """Dotted `transfer.<subjNN>.<score>` names of the runs that have a transfer section
    (`reporting.results.RunMetrics`), sorted by subject; [] when none has one."""
    keys = sorted({k for r in results for k in (getattr(r, "transfer", None) or {})})
    return [f"transfer.{k}.{score}" for k in keys for score in SCORES]
