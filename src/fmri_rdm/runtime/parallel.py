"""How one job shares the machine with the jobs running beside it: CPU threads and GPUs.

`configure_job(cfg)` is called once per job, before torch is imported by the job:

* threads: `cfg.threads`, or the cores this process may use divided by the processes running
  at once: the parallel jobs of the sweep (`hydra/launcher=joblib`: `n_jobs`, at most the
  number of jobs in the sweep) times the CPU DDP ranks of one job (`trainer.devices`).
* GPUs: in a `hydra/launcher=joblib` sweep on a machine with several GPUs, each job that asks
  for one GPU takes its own: it prefers GPU `job.num % n_gpus` and claims a free one with a
  lock file in the sweep directory (held until the job ends, so a long job never shares its
  GPU with a later one); when every GPU is taken it waits for its preferred one.

The decisions are pure functions (`count_sweep_jobs`, `launcher_parallelism`,
`ranks_per_job`, `gpu_preference`) tested on CPU.
"""

from __future__ import annotations

import fcntl
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fmri_rdm.runtime.threads import apply_threads, available_cores

log = logging.getLogger(__name__)

_JOBLIB = "JoblibLauncher"
_GPU_ACCELERATORS = ("gpu", "cuda", "auto")


def count_sweep_jobs(overrides: Sequence[str]) -> int | None:
    """Jobs a basic sweep of these command-line overrides launches (product of the sweep
    lengths); None when a sweep cannot be counted here (glob over config groups)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides([str(o) for o in overrides])
    except Exception:  # not Hydra overrides (e.g. a test runner's argv): cannot count
        return None
    total = 1
    for override in parsed:
        if not override.is_sweep_override():
            continue
        try:
            total *= max(1, len(list(override.sweep_iterator())))
        except Exception:  # glob sweeps need Hydra's config loader
            return None
    return total


def launcher_parallelism(
    launcher: Mapping[str, Any] | None, sweep_jobs: int | None, cores: int
) -> int:
    """Jobs of a multirun that run at the same time on this machine.

    joblib: `n_jobs` (negative counts from the cores as in joblib: -1 = all cores), at most
    `sweep_jobs` when known. The basic launcher runs jobs one after the other (1); SLURM jobs
    get their own cores (their CPU affinity), so they count as 1 too.
    """
    if not launcher or not str(launcher.get("_target_", "")).endswith(_JOBLIB):
        return 1
    n_jobs = int(launcher.get("n_jobs") or -1)
    workers = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    if sweep_jobs is not None:
        workers = min(workers, sweep_jobs)
    return max(1, workers)


def ranks_per_job(trainer: Mapping[str, Any]) -> int:
    """Processes one job starts on this machine: `trainer.devices` for DDP on CPU, else 1."""
    if str(trainer.get("accelerator", "")) != "cpu":
        return 1
    if "ddp" not in str(trainer.get("strategy") or ""):
        return 1
    devices = trainer.get("devices", 1)
    return int(devices) if isinstance(devices, int) and devices > 1 else 1


def gpu_preference(job_num: int, n_gpus: int) -> list[int]:
    """The order in which job `job_num` tries the GPUs: its own `job_num % n_gpus` first, then
    the following ones, so that n_gpus consecutive jobs start on distinct GPUs."""
    if n_gpus < 1:
        raise ValueError(f"n_gpus must be >= 1, got {n_gpus}")
    return [(job_num + step) % n_gpus for step in range(n_gpus)]


class GpuClaim:
    """An exclusive lock on one GPU index among the jobs of a sweep (flock on a file)."""

    def __init__(self, index: int, handle: IO[bytes]) -> None:
        self.index, self._handle = index, handle

    def release(self) -> None:
        if not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


def claim_gpu(lock_dir: Path, job_num: int, n_gpus: int) -> GpuClaim:
    """The first free GPU in `gpu_preference` order; waits for the preferred one when all are
    taken. The lock lives as long as the returned claim (or the process)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    order = gpu_preference(job_num, n_gpus)
    for index in order:
        handle = (lock_dir / f"gpu{index}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return GpuClaim(index, handle)
    log.info("job %d: every GPU is taken; waiting for GPU %d", job_num, order[0])
    handle = (lock_dir / f"gpu{order[0]}.lock").open("ab")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return GpuClaim(order[0], handle)


@dataclass
class JobResources:
    """What `configure_job` decided: threads, parallel processes, and the claimed GPU."""

    threads: int
    parallel: int
    gpu: GpuClaim | None = None

    def release(self) -> None:
        if self.gpu is not None:
            self.gpu.release()


def _hydra() -> Any:
    from hydra.core.hydra_config import HydraConfig

    try:
        return HydraConfig.get()
    except ValueError:  # not inside a Hydra app (tests, library use)
        return None


def configure_job(cfg: Any) -> JobResources:
    """Threads for this job (see module docstring) and, in a parallel GPU sweep, its GPU:
    `cfg.trainer.devices` becomes `[index]`. Call before the job imports torch; call
    `release()` on the result when the job ends."""
    hydra = _hydra()
    multirun = hydra is not None and hydra.mode is not None and hydra.mode.name == "MULTIRUN"
    cores = available_cores()
    jobs = 1
    if multirun:
        sweep_jobs = count_sweep_jobs(sys.argv[1:])
        jobs = launcher_parallelism(hydra.get("launcher"), sweep_jobs, cores)
    trainer = cfg.get("trainer") or {}
    parallel = jobs * ranks_per_job(trainer)
    threads = apply_threads(cfg.get("threads"), parallel)
    log.info("%d CPU thread(s) (%d core(s), %d process(es) at once)", threads, cores, parallel)
    resources = JobResources(threads, parallel)
    wants_one_gpu = (
        str(trainer.get("accelerator", "")) in _GPU_ACCELERATORS
        and str(trainer.get("devices", "")) == "1"
    )
    if multirun and jobs > 1 and wants_one_gpu:
        import torch

        n_gpus = torch.cuda.device_count()  # NVML count: CUDA is not initialised here
        if n_gpus > 1:
            lock_dir = Path(str(hydra.sweep.dir)) / ".gpu_locks"
            resources.gpu = claim_gpu(lock_dir, int(hydra.job.num), n_gpus)
            cfg.trainer.devices = [resources.gpu.index]
            log.info("job %d runs on GPU %d", hydra.job.num, resources.gpu.index)
    return resources


__all__ = [
    "GpuClaim",
    "JobResources",
    "claim_gpu",
    "configure_job",
    "count_sweep_jobs",
    "gpu_preference",
    "launcher_parallelism",
    "ranks_per_job",
]
