"""fmri_rdm.runtime.threads: the wait policy and the per-process thread count (no timing here: the
speed effect is measured by bench/concurrent_training.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmri_rdm.errors import ConfigError
from fmri_rdm.runtime.threads import (
    APPLIED,
    THREAD_VARIABLES,
    apply_threads,
    available_cores,
    default_threads,
    resolve_threads,
    set_passive_wait_policy,
)

ROOT = Path(__file__).resolve().parents[1]


def test_passive_wait_policy_keeps_the_user_s_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as if torch were not loaded yet
    env: dict[str, str] = {}
    assert set_passive_wait_policy(env) is True and env == {"GOMP_SPINCOUNT": "1000"}
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert set_passive_wait_policy(env) is False and env["OMP_WAIT_POLICY"] == "ACTIVE"
    env = {"GOMP_SPINCOUNT": "10000"}  # the user's own bounded spin: no policy forced on it
    assert set_passive_wait_policy(env) is False and env == {"GOMP_SPINCOUNT": "10000"}


def test_passive_wait_policy_is_useless_after_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch  # noqa: F401  (loaded: OpenMP has read its settings)

    env: dict[str, str] = {}
    assert set_passive_wait_policy(env) is False and env == {}


@pytest.mark.parametrize(
    ("parallel", "cores", "expected"), [(1, 2, 2), (2, 2, 1), (3, 2, 1), (4, 16, 4), (3, 16, 5)]
)
def test_default_threads_share_the_cores(parallel: int, cores: int, expected: int) -> None:
    assert default_threads(parallel, cores) == expected


def test_available_cores_is_the_affinity() -> None:
    assert available_cores() == len(os.sched_getaffinity(0))
    assert default_threads(1) == available_cores()


def test_resolve_threads() -> None:
    assert resolve_threads(3, parallel=2, cores=2) == 3  # an explicit count wins
    assert resolve_threads(None, parallel=2, cores=8) == 4
    with pytest.raises(ConfigError, match="threads=0"):
        resolve_threads(0)
    with pytest.raises(ValueError):
        default_threads(0, 4)


def test_apply_threads_sets_every_variable_and_keeps_the_user_s() -> None:
    env: dict[str, str] = {}
    assert apply_threads(None, parallel=2, environ=env, cores=8) == 4
    assert all(env[name] == "4" for name in THREAD_VARIABLES) and env[APPLIED] == "4"
    # our own earlier value is not the user's: a new job recomputes it
    assert apply_threads(None, parallel=4, environ=env, cores=8) == 2
    user = {"OMP_NUM_THREADS": "3"}
    assert apply_threads(None, parallel=2, environ=user, cores=8) == 3
    assert apply_threads(1, parallel=2, environ=user, cores=8) == 1  # `threads=1` wins


def test_apply_threads_in_a_fresh_process_reaches_torch_and_blas() -> None:
    """Before torch is imported (the entry points' order): the env decides torch's pool."""
    code = (
        "import os, sys\n"
        "from fmri_rdm.runtime.threads import apply_threads, set_passive_wait_policy\n"
        "set_passive_wait_policy()\n"
        "import numpy\n"  # BLAS already loaded: set at run time
        "apply_threads(1)\n"
        "import torch, threadpoolctl\n"
        "blas = [p['num_threads'] for p in threadpoolctl.threadpool_info()"
        " if p['user_api'] == 'blas']\n"
        "print(torch.get_num_threads(), max(blas), os.environ['GOMP_SPINCOUNT'])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for name in (*THREAD_VARIABLES, "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", APPLIED):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "1", "1000"]
