"""Trial-level crossnobis RDMs (rsa.distances) against rsatoolbox on the same trials, in one
process.

    python -m bench.crossnobis_rows            # the issue-38 sizes (minutes on 2 cores)
    python -m bench.crossnobis_rows --quick    # tiny sizes: checks the machinery
    python -m bench.crossnobis_rows --float32  # the project's products in float32

Rows (`make bench --only crossnobis` runs the same through bench.run):
  * 300 conditions x 6 runs x 7,000 voxels, shrinkage_diag noise: project time and peak traced
    numpy memory (tracemalloc, one extra untimed call), rsatoolbox time
    (`prec_from_unbalanced` + `calc_rdm(method='crossnobis')`) on the same trials,
    ratio rsatoolbox / project and the largest difference of the two RDMs.
  * 9,841 conditions x 3 repeats x 4,361 voxels (an NSD subject's trials), shrinkage_diag:
    project time and peak memory; rsatoolbox on the first `nsd_base` conditions only (its
    trial-pair loop is quadratic in trials: the full size would take hours), ratio on that
    subset against the project on the same subset.
The operation column also gives the project's CPU seconds (both threads; on a shared machine
the wall time can be several times CPU / 2). Trials: a condition signal plus noise with 20
shared factors (correlated voxels) and white noise, float32, generated from a fixed seed.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from bench.table import Row, best_of, format_table, ratio_of


@dataclass(frozen=True)
class TrialSizes:
    small: tuple[int, int, int] = (300, 6, 7000)  # conditions, partitions, voxels
    nsd: tuple[int, int, int] = (9841, 3, 4361)
    nsd_base: int = 150  # conditions rsatoolbox runs on at the NSD shape
    repeats: int = 2

    @staticmethod
    def quick() -> TrialSizes:
        return TrialSizes(small=(12, 3, 40), nsd=(30, 3, 20), nsd_base=10, repeats=1)


def trials(n_cond: int, n_part: int, v: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(T, V) float32 trials, (T,) condition and (T,) partition labels, T = n_cond * n_part."""
    rng = np.random.default_rng(seed)
    cond = np.tile(np.arange(n_cond), n_part)
    part = np.repeat(np.arange(n_part), n_cond)
    x = rng.standard_normal((n_cond, v), dtype=np.float32)[cond]
    factors = rng.standard_normal((20, v), dtype=np.float32) * 0.3
    x += rng.standard_normal((cond.size, 20), dtype=np.float32) @ factors
    x += rng.standard_normal((cond.size, v), dtype=np.float32)
    return x, cond, part


DTYPE: list[type[np.floating]] = [np.float64]  # the project's arithmetic (main: --float32)


def _project(x: np.ndarray, cond: np.ndarray, part: np.ndarray) -> np.ndarray:
    from fmri_rdm.rsa.distances import trial_rdm

    method = {"method": "crossnobis", "noise": "shrinkage_diag", "dtype": DTYPE[0]}
    return trial_rdm(x, cond, part, **method)[0]  # type: ignore[arg-type]


def _rsatoolbox(x: np.ndarray, cond: np.ndarray, part: np.ndarray) -> np.ndarray:
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import prec_from_unbalanced
    from rsatoolbox.rdm import calc_rdm

    data = Dataset(x.astype(np.float64), obs_descriptors={"stim": cond, "run": part})
    prec = prec_from_unbalanced(data, "stim", method="shrinkage_diag")
    # calc_rdm: with one trial per (condition, run) its leave-one-run-out crossnobis equals
    # calc_rdm_unbalanced's (tests/rsa), whose per-trial-pair loop copies the V x V precision
    # for every pair (days at V = 7,000)
    rdm = calc_rdm(data, method="crossnobis", descriptor="stim", cv_descriptor="run", noise=prec)
    return np.asarray(rdm.dissimilarities[0])  # conditions first appear in sorted order


def _peak_mb(fn: object) -> float:
    tracemalloc.start()
    fn()  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _row(name: str, shape: tuple[int, int, int], base_n: int, repeats: int, target: str,
         limit_s: float, limit_mb: float | None) -> Row:  # fmt: skip
    n_cond, n_part, v = shape
    x, cond, part = trials(n_cond, n_part, v)
    _project(*trials(4, 2, 8))  # warm-up: imports
    _rsatoolbox(*trials(4, 2, 8))
    cpu = time.process_time()
    project = best_of(lambda: _project(x, cond, part), repeats)
    cpu = (time.process_time() - cpu) / repeats
    peak = _peak_mb(lambda: _project(x, cond, part))
    sub = cond < base_n
    xs, cs, ps = x[sub], cond[sub], part[sub]
    found: list[np.ndarray] = []
    base = best_of(lambda: found.append(_rsatoolbox(xs, cs, ps)), 1)
    ref = found[0]
    project_sub = best_of(lambda: _project(xs, cs, ps), repeats) if base_n < n_cond else project
    diff = float(np.max(np.abs(_project(xs, cs, ps) - ref)) / np.max(np.abs(ref)))
    met = project <= limit_s and (limit_mb is None or peak <= limit_mb)
    size = f"C={n_cond} K={n_part} V={v}" + (f" (rsatoolbox C={base_n})" if base_n < n_cond else "")
    return Row(
        f"{name} {DTYPE[0].__name__} (cpu {cpu:.1f} s, max rel diff {diff:.1e})", size,
        project, base, ratio_of(base, project_sub), peak_mb=peak, target=target, met=met,
    )  # fmt: skip


def bench_crossnobis(sizes: object, trial_sizes: TrialSizes | None = None) -> list[Row]:
    """The rows of the module docstring (`sizes`: bench.table.Sizes, quick when repeats == 1)."""
    if trial_sizes is None:
        trial_sizes = TrialSizes.quick() if getattr(sizes, "repeats", 3) == 1 else TrialSizes()
    t = trial_sizes
    return [
        _row("crossnobis shrinkage_diag vs rsatoolbox", t.small, t.small[0], t.repeats,
             "< 20 s, < 4 GB", 20.0, 4096.0),
        _row("crossnobis shrinkage_diag, NSD trials", t.nsd, t.nsd_base, t.repeats,
             "< 120 s", 120.0, None),
    ]  # fmt: skip


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    if "--float32" in argv:
        DTYPE[0] = np.float32
    print(f"load average {os.getloadavg()}", flush=True)
    rows = bench_crossnobis(None, TrialSizes.quick() if quick else TrialSizes())
    print(format_table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
