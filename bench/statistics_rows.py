"""Bench rows of the fold statistics: stimulus bootstrap and permutation test (issue 12).

The baseline materializes every resample as rsatoolbox does (the drawn images with repeats,
every pair of two draws that is a test pair, self-pairs dropped) and scores it with scipy,
one resample at a time, on a small fold; the project computes the same resamples vectorized.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from bench.table import Row, Sizes
from fmri_rdm.stats.bootstrap import bootstrap_scores, local_pairs, resample_counts
from fmri_rdm.stats.permutation import permutation_null, permutations, square_rdm_among


def _fold(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(n, 1)
    target = rng.random(len(i))
    return i, j, target, target + rng.normal(0, 1, len(i))


def materialized_loop(counts: np.ndarray, i, j, target, prediction) -> np.ndarray:
    """(B, 2) Pearson and Spearman per resample, each resample's pairs built explicitly."""
    n = counts.shape[1]
    square_t, square_p = np.zeros((n, n)), np.zeros((n, n))
    square_t[i, j], square_p[i, j] = target, prediction
    out = []
    for c in counts:
        draw = np.repeat(np.arange(n), c)
        a, b = np.triu_indices(len(draw), 1)
        lo, hi = np.minimum(draw[a], draw[b]), np.maximum(draw[a], draw[b])
        keep = lo != hi  # self-pairs of a repeated image have no RDM entry
        t, p = square_t[lo[keep], hi[keep]], square_p[lo[keep], hi[keep]]
        out.append((stats.pearsonr(t, p)[0], stats.spearmanr(t, p)[0]))
    return np.array(out)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rows(big: int, small: int, n_boot: int, n_boot_slow: int) -> list[dict]:
    """Row fields (operation, size, project_s, baseline_s, ratio, target, met) as dicts."""
    out = []
    i, j, t, p = _fold(small)
    counts = resample_counts(np.random.default_rng(0), small, n_boot)
    base = _seconds(lambda: materialized_loop(counts, i, j, t, p))  # both scores per resample
    for name, goal in (("pearson", 10.0), ("spearman", None)):
        project = _seconds(lambda s=name: bootstrap_scores(t, p, i, j, counts, (s,)))
        ratio = base / project
        out.append(
            dict(
                operation=f"stimulus bootstrap {name} vs materialized loop (pearson+spearman)",
                size=f"{small} images, {n_boot} resamples",
                project_s=project,
                baseline_s=base,
                ratio=ratio,
                # Spearman re-ranks every resample: O(B x pairs) like the loop, no target
                target=f">= {goal:.0f}x" if goal else "",
                met=ratio >= goal if goal else None,
            )
        )
    i, j, t, p = _fold(big)
    a, b, n = local_pairs(i, j, np.arange(big))
    counts = resample_counts(np.random.default_rng(0), n, n_boot)
    project = _seconds(lambda: bootstrap_scores(t, p, a, b, counts, ("pearson", "r2", "mse")))
    out.append(
        dict(
            operation="stimulus bootstrap pearson, r2, mse",
            project_s=project,
            size=f"{big} images, {len(i):,} pairs, {n_boot} resamples",
            target="< 10 s",
            met=project < 10,
        )
    )
    few = counts[:n_boot_slow]
    project = _seconds(lambda: bootstrap_scores(t, p, a, b, few, ("spearman",)))
    out.append(
        dict(
            operation="stimulus bootstrap spearman (exact resample ranks)",
            size=f"{big} images, {n_boot_slow} resamples",
            project_s=project,
            target=f"x{n_boot // n_boot_slow}: {project * n_boot / n_boot_slow:.0f} s",
        )
    )
    square = square_rdm_among(t.astype(np.float32), big, np.arange(big))
    perms = permutations(np.random.default_rng(0), n, n_boot_slow)
    for stat in ("pearson", "spearman"):
        project = _seconds(lambda s=stat: permutation_null(square, a, b, p, perms, (s,)))
        out.append(
            dict(
                operation=f"permutation test {stat}",
                project_s=project,
                size=f"{big} images, {n_boot_slow} permutations",
                target=f"x{n_boot // n_boot_slow}: {project * n_boot / n_boot_slow:.0f} s",
            )
        )
    return out


def bench_statistics(sizes: Sizes) -> list[Row]:
    """The rows above at the bench sizes (`--only stats`)."""
    found = rows(sizes.stats_images, sizes.stats_base, sizes.stats_resamples, sizes.stats_slow)
    return [Row(**r) for r in found]
