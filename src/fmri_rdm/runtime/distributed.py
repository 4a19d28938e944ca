"""Which process of a data-parallel (DDP) run this is, and whether it may write the run's files.

With `trainer=ddp` Lightning starts ranks 1..N-1 by running `train.py` again with the same
command line plus `hydra.run.dir=<rank 0's run directory>` (pytorch_lightning 2.6:
`strategies/launchers/subprocess_script.py`), so every rank runs the whole experiment loop in
the same run directory. Only global rank 0 may write metrics.json, predictions.npz, plots,
run_config.yaml and start logger runs; Lightning's checkpoints already are rank 0's.

`is_global_zero()` works before a Trainer exists (from the launchers' environment variables)
and after (from the trainer or the initialised process group).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fmri_rdm.errors import ConfigError


def env_global_rank(environ: Mapping[str, str] | None = None) -> int:
    """Global rank from the environment: RANK (torchrun), else a rank on a node > 0 counts as
    non-zero (NODE_RANK), else LOCAL_RANK (Lightning's re-launched ranks), else SLURM_PROCID;
    0 when none is set (a plain single process, or rank 0 before it starts the others)."""
    env = os.environ if environ is None else environ
    if env.get("RANK", "").isdigit():
        return int(env["RANK"])
    local = int(env["LOCAL_RANK"]) if env.get("LOCAL_RANK", "").isdigit() else None
    node = int(env["NODE_RANK"]) if env.get("NODE_RANK", "").isdigit() else 0
    if local is not None:
        return local if node == 0 else max(1, node)  # exact value unknown, non-zero is enough
    if env.get("SLURM_PROCID", "").isdigit():
        return int(env["SLURM_PROCID"])
    return 0


def global_rank(trainer: Any = None) -> int:
    """This process's global rank: the trainer's, else the process group's, else the env's."""
    if trainer is not None:
        return int(trainer.global_rank)
    import sys

    if "torch" in sys.modules:  # never import torch just to learn that there is no group
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    return env_global_rank()


def is_global_zero(trainer: Any = None) -> bool:
    """Whether this process writes the run's files and logger runs (global rank 0)."""
    return global_rank(trainer) == 0


def _n_devices(devices: Any) -> int | None:
    """Processes `trainer.devices` asks for; None when only Lightning can tell (-1, "auto")."""
    if isinstance(devices, int) and devices > 0:
        return devices
    if isinstance(devices, str) and devices.strip().isdigit():
        return int(devices)
    if isinstance(devices, list | tuple) or hasattr(devices, "__len__"):
        return len(devices)
    return None


def check_ddp_launch(trainer: Mapping[str, Any], multirun: bool) -> None:
    """Refuse a DDP job that Lightning would start by re-running the script inside a Hydra
    multirun: the re-run ranks would repeat the whole sweep (the script's `-m` and sweep
    overrides), and a sweep's next job in the same process would wait for ranks that exited.
    Ranks started by SLURM (`tasks_per_node` = devices) or torchrun are fine."""
    if not multirun or str(trainer.get("strategy") or "") != "ddp":
        return
    n = _n_devices(trainer.get("devices", 1))
    if n == 1:
        return
    slurm_tasks = os.environ.get("SLURM_NTASKS", "")
    if "RANK" in os.environ or (slurm_tasks.isdigit() and int(slurm_tasks) > 1):
        return
    raise ConfigError(
        "trainer=ddp cannot run inside a multirun (-m) on one machine: Lightning starts the "
        "other ranks by re-running the command, which would repeat the sweep. Run each "
        "configuration as its own run, or sweep with hydra/launcher=slurm and "
        "hydra.launcher.tasks_per_node=<trainer.devices> (one GPU per task)"
    )


__all__ = ["check_ddp_launch", "env_global_rank", "global_rank", "is_global_zero"]
