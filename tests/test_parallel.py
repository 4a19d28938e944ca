"""Sweeps side by side: parallel jobs, DDP ranks, GPU assignment, rank zero (pure logic, CPU)."""

from __future__ import annotations

import pytest

from fmri_rdm.errors import ConfigError
from fmri_rdm.runtime.distributed import check_ddp_launch, env_global_rank, is_global_zero
from fmri_rdm.runtime.parallel import (
    claim_gpu,
    count_sweep_jobs,
    gpu_preference,
    launcher_parallelism,
    ranks_per_job,
)

JOBLIB = {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"}
BASIC = {"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}


def test_count_sweep_jobs() -> None:
    assert count_sweep_jobs(["model=mlp", "model.hidden_layers=0,1,2"]) == 3
    assert count_sweep_jobs(["a=1,2", "b=range(0,4)", "hydra/launcher=joblib"]) == 8
    assert count_sweep_jobs(["x=[1,2]"]) == 1  # a list value, not a sweep
    assert count_sweep_jobs(["roi=glob(V*)"]) is None  # needs Hydra's config loader
    assert count_sweep_jobs(["--not-an-override"]) is None


@pytest.mark.parametrize(
    ("launcher", "sweep_jobs", "cores", "expected"),
    [
        (None, 4, 16, 1),
        (BASIC, 4, 16, 1),  # sequential
        ({**JOBLIB, "n_jobs": -1}, None, 2, 2),  # joblib's default: all cores
        ({**JOBLIB, "n_jobs": -1}, 3, 16, 3),  # no more workers than jobs
        ({**JOBLIB, "n_jobs": -2}, None, 8, 7),
        ({**JOBLIB, "n_jobs": 4}, 10, 2, 4),
    ],
)
def test_launcher_parallelism(launcher, sweep_jobs, cores, expected) -> None:
    assert launcher_parallelism(launcher, sweep_jobs, cores) == expected


def test_ranks_per_job() -> None:
    assert ranks_per_job({"accelerator": "cpu", "devices": 1}) == 1
    assert ranks_per_job({"accelerator": "cpu", "strategy": "ddp", "devices": 2}) == 2
    assert ranks_per_job({"accelerator": "gpu", "strategy": "ddp", "devices": 4}) == 1


def test_each_job_of_a_sweep_prefers_its_own_gpu() -> None:
    assert [gpu_preference(job, 4)[0] for job in range(6)] == [0, 1, 2, 3, 0, 1]
    assert gpu_preference(5, 4) == [1, 2, 3, 0]
    assert gpu_preference(3, 1) == [0]
    with pytest.raises(ValueError):
        gpu_preference(0, 0)


def test_busy_gpus_are_skipped_and_freed(tmp_path) -> None:
    """Job 4 would take GPU 0 (4 % 4) but job 0 still holds it: it takes the next free one."""
    held = [claim_gpu(tmp_path, job, 4) for job in range(3)]  # GPUs 0, 1, 2
    assert [c.index for c in held] == [0, 1, 2]
    late = claim_gpu(tmp_path, 4, 4)
    assert late.index == 3
    held[0].release()
    assert claim_gpu(tmp_path, 8, 4).index == 0  # freed when job 0 ended


def test_env_global_rank() -> None:
    assert env_global_rank({}) == 0
    assert env_global_rank({"LOCAL_RANK": "1", "WORLD_SIZE": "2"}) == 1  # Lightning's rank 1
    assert env_global_rank({"LOCAL_RANK": "0", "NODE_RANK": "1"}) != 0
    assert env_global_rank({"RANK": "3", "LOCAL_RANK": "1"}) == 3
    assert env_global_rank({"SLURM_PROCID": "2"}) == 2


def test_is_global_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"):
        monkeypatch.delenv(name, raising=False)
    assert is_global_zero()
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert not is_global_zero()

    class _Trainer:
        global_rank = 0

    assert is_global_zero(_Trainer())  # the trainer, once it exists, decides


def test_rank_one_starts_no_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    from omegaconf import OmegaConf

    from fmri_rdm.reporting.loggers import RunLoggers

    cfg = OmegaConf.create({"logger": {"wandb": {"project": "p"}, "csv": {"_target_": "x"}}})
    monkeypatch.setenv("LOCAL_RANK", "1")
    loggers = RunLoggers(cfg)
    assert loggers.for_fold(0) == [] and loggers.wandb_cfg is None


def test_ddp_in_a_local_multirun_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    ddp = {"strategy": "ddp", "accelerator": "cpu", "devices": 2}
    check_ddp_launch(ddp, multirun=False)  # a single run: Lightning re-launches the script
    check_ddp_launch({**ddp, "devices": 1}, multirun=True)
    with pytest.raises(ConfigError, match="multirun"):
        check_ddp_launch(ddp, multirun=True)
    monkeypatch.setenv("SLURM_NTASKS", "2")  # ranks started by SLURM
    check_ddp_launch(ddp, multirun=True)
