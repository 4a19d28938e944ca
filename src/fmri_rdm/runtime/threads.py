"""CPU threads of a process that may share its cores with other jobs.

Two things make training slow when several processes share a few cores:

* OpenMP's default wait policy: torch's (and MKL's) worker threads spin for a while after
  every parallel region. With a second busy process on the same 2 cores a batch-256 step of
  the Siamese went from 15 ms to 456 ms. `OMP_WAIT_POLICY=PASSIVE` makes them sleep at once,
  which cost a run alone 1.66x against spinning threads (small-batch Siamese, 200 steps, quiet
  machine). A short spin, `GOMP_SPINCOUNT=1000` (about a microsecond before sleeping), keeps
  both: alone 1.04x spinning threads, two runs at once 2.33x one alone (`python -m
  bench.concurrent_training`; spin counts of 20000 and more went 6-9x when shared, 300 was
  1.29x alone). libgomp reads it once, when torch is imported, so every entry point calls
  `set_passive_wait_policy()` before anything imports torch.
* More threads than cores: each parallel sweep job (and each CPU DDP rank) should use its
  share of the cores, not all of them: `threads = cores this process may use / processes
  running at once` (`default_threads`).

`apply_threads(requested, parallel)` sets the count for torch and the BLAS libraries: as
environment variables for libraries not loaded yet (and child processes such as DDP ranks and
DataLoader workers), and through torch / threadpoolctl for those already loaded (a sweep job
after the first in the same process).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

WAIT_POLICY = "OMP_WAIT_POLICY"
# libgomp (the OpenMP runtime of torch's wheels): how long an idle thread spins before it sleeps.
SPIN_VARIABLE = "GOMP_SPINCOUNT"
# The count `apply_threads` set last: an OMP_NUM_THREADS equal to it is ours, not the user's.
APPLIED = "FMRI_RDM_THREADS_APPLIED"
# Variables the OpenMP runtime and the BLAS libraries read when they are loaded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


SHORT_SPIN = "1000"  # GOMP_SPINCOUNT: fast alone and shared (see the module docstring)


def set_passive_wait_policy(environ: MutableMapping[str, str] | None = None) -> bool:
    """Let idle OpenMP threads spin briefly, then sleep (`GOMP_SPINCOUNT=1000`), unless the
    user set a wait policy or spin count; True when it takes effect.

    Must run before torch is imported (libgomp reads the variable once, at load): returns
    False, changing nothing, when torch is already imported or the user chose a policy or a
    spin count of their own (`GOMP_SPINCOUNT`, e.g. on a node of their own where spinning
    threads cost nobody; `python -m bench.concurrent_training --settings env --env
    GOMP_SPINCOUNT=10000` measures a bounded spin alone and shared).
    """
    env = os.environ if environ is None else environ
    if WAIT_POLICY in env or SPIN_VARIABLE in env or "torch" in sys.modules:
        return False
    env[SPIN_VARIABLE] = SHORT_SPIN
    return True


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity: a SLURM or taskset allocation)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


def default_threads(parallel: int = 1, cores: int | None = None) -> int:
    """Threads for one of `parallel` processes sharing `cores` (default: available_cores())."""
    if parallel < 1:
        raise ValueError(f"parallel must be >= 1, got {parallel}")
    total = available_cores() if cores is None else cores
    return max(1, total // parallel)


def resolve_threads(requested: int | None, parallel: int = 1, cores: int | None = None) -> int:
    """The `threads` setting: a positive count, or None for `default_threads(parallel)`."""
    if requested is None:
        return default_threads(parallel, cores)
    if int(requested) < 1:
        from fmri_rdm.errors import ConfigError

        raise ConfigError(f"threads={requested} must be >= 1 (or null: cores / parallel jobs)")
    return int(requested)


def apply_threads(
    requested: int | None,
    parallel: int = 1,
    environ: MutableMapping[str, str] | None = None,
    cores: int | None = None,
) -> int:
    """Use `resolve_threads(requested, parallel)` threads in this process; returns the count.

    An explicit `requested` wins over the user's OMP_NUM_THREADS; with `requested=None` a
    user-set OMP_NUM_THREADS is kept. Libraries already loaded (torch, numpy's BLAS) are
    set at run time; those loaded later, and child processes, read the environment.
    """
    env = os.environ if environ is None else environ
    user = env.get("OMP_NUM_THREADS", "").strip()
    user_set = user.isdigit() and int(user) > 0 and user != env.get(APPLIED)
    if requested is None and user_set:
        n = int(user)
    else:
        n = resolve_threads(requested, parallel, cores)
    for name in THREAD_VARIABLES:
        env[name] = str(n)
    env[APPLIED] = str(n)
    if environ is None:  # the real process: also the libraries already loaded
        _set_loaded_libraries(n)
    return n


def _set_loaded_libraries(n: int) -> None:
    if "torch" in sys.modules:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # threadpoolctl comes with scikit-learn; without it the env rules
            return
        threadpool_limits(n)


__all__ = [
    "SPIN_VARIABLE",
    "THREAD_VARIABLES",
    "WAIT_POLICY",
    "apply_threads",
    "available_cores",
    "default_threads",
    "resolve_threads",
    "set_passive_wait_policy",
]
