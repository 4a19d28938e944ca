"""Bench rows at full scale (`python -m bench.run --full`): the full-subject RDM and one training
epoch over all 48 M pairs, each in a child process so its peak memory is its own."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

from bench.table import Row, Sizes


def _child_json(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a `python -m ...` child; the last JSON line of its stdout."""
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def full_rdm_child(n: int, v: int) -> None:
    """Child process: time compute_rdm on synthetic (n, v) float32, print JSON with peak RSS."""
    from fmri_rdm.rsa.rdm import compute_rdm

    x = np.random.default_rng(0).standard_normal((n, v), dtype=np.float32)
    start = time.perf_counter()
    compute_rdm(x)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "input_mb": x.nbytes / 2**20}))


def bench_full(sizes: Sizes) -> list[Row]:
    threads = sizes.threads
    n, v = 9841, 39_548
    res = _child_json(["-m", "bench.run", "--child-rdm", f"{n},{v}"], timeout=900)
    rows = [
        Row(
            "RDM correlation, full subject (peak RSS incl. 1.5 GB input)",
            f"N={n} V={v}",
            res["seconds"],
            gflops=n * (n - 1) * v / res["seconds"] / 1e9,
            peak_mb=res["peak_mb"],
            target="< 60 s, < 4 GB",
            met=res["seconds"] < 60 and res["peak_mb"] < 4096,
        )
    ]
    for model in ("siamese", "mlp"):
        args = ["-m", "bench.full_scale_epoch", "--accelerator", "cpu", "--models", model]
        args += ["--precision", "bf16-mixed", "--batch-size", "65536"]
        if threads:
            args += ["--threads", str(threads)]
        res = _child_json(args, timeout=1800)
        rows.append(
            Row(
                f"training epoch, {model}, bf16-mixed batch 65536, CPU",
                f"{res['pairs']:,} pairs (9841 images)",
                res["seconds"],
                peak_mb=res["peak_rss_mb"],
                target="< 300 s, < 8 GB",
                met=res["seconds"] < 300 and res["peak_rss_mb"] < 8192,
            )
        )
    return rows
