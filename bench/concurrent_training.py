"""Small-batch training alone vs two copies at once on the same cores (shared-machine speed).

    python -m bench.concurrent_training                      # project settings, 3 epochs
    python -m bench.concurrent_training --settings torch --steps 60   # torch's defaults
    python -m bench.concurrent_training --settings env --env GOMP_SPINCOUNT=10000 --repeats 3

Each copy is its own process (as two runs, or two sweep jobs, would be): the Siamese on the
embeddings of 300 images, every pair (44,850), batch 256, through PairDataModule +
PairRegressionModule + a Lightning Trainer. The processes import and build everything first,
then all start training on one signal; the figure is the training wall time of the slowest.
Ratio = two-at-once wall / alone wall: 2.0 when the two copies share the cores perfectly.

Each round also times one copy alone with spinning threads (OMP_WAIT_POLICY=ACTIVE): the
fastest a run alone can be. Two ratios come out: `alone_ratio` = alone / ACTIVE alone (the
cost of the settings for a run alone; target <= 1.15) and `ratio` = together / alone (target
<= 2.5). Measure on a quiet machine (`load_avg` is printed): with other busy processes the
ACTIVE copy itself spins against them and the first ratio means nothing.

Settings of the child processes:
  project: what train.py does (fmri_rdm.runtime.threads: GOMP_SPINCOUNT=1000, threads = cores);
  torch:   torch's own defaults (no wait policy, threads = cores), the behaviour before;
  active / passive: that OMP_WAIT_POLICY, threads = cores;
  env:     threads = cores and only the variables given with --env NAME=VALUE (repeatable),
           e.g. a bounded spin `--env GOMP_SPINCOUNT=10000` or `--env OMP_NUM_THREADS=1`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from fmri_rdm.runtime.threads import APPLIED, SPIN_VARIABLE, THREAD_VARIABLES, WAIT_POLICY

N_IMAGES, DIM, BATCH, EPOCHS = 300, 512, 256, 3


def child(steps: int, settings: str) -> None:
    """One copy: build, print READY, wait for a line on stdin, train, print a JSON line."""
    if settings != "torch":
        from fmri_rdm.runtime.threads import apply_threads, set_passive_wait_policy

        if settings == "project":
            set_passive_wait_policy()
        apply_threads(None)
    import numpy as np
    import pytorch_lightning as pl
    import torch

    from fmri_rdm.models.pair_network.datamodule import PairDataModule, PairSplit
    from fmri_rdm.models.pair_network.module import PairRegressionModule
    from fmri_rdm.models.pair_network.nets.siamese import SiameseNet

    rng = np.random.default_rng(0)
    emb = torch.as_tensor(rng.standard_normal((N_IMAGES, DIM)).astype(np.float32))
    i, j = np.triu_indices(N_IMAGES, k=1)
    y = rng.uniform(0.5, 1.5, len(i)).astype(np.float32)
    pl.seed_everything(0, verbose=False)
    data = PairDataModule(emb, PairSplit(i, j, y), batch_size=BATCH, seed=0)
    module = PairRegressionModule(SiameseNet(DIM), target_mean=1.0, target_std=0.3)
    per_epoch = len(data.train_dataloader())
    epochs = EPOCHS if steps <= 0 else -(-steps // per_epoch)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        max_steps=steps if steps > 0 else -1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    print("READY", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "steps": int(trainer.global_step),
        "threads": torch.get_num_threads(),
        "wait_policy": os.environ.get(WAIT_POLICY),
        "spincount": os.environ.get(SPIN_VARIABLE),
    }
    print(json.dumps(result), flush=True)


# The OpenMP settings a copy starts with, beside the project's: spinning threads (the
# fastest a run alone can be) and always-sleeping threads (the safest on shared cores).
FIXED_ENV = {"active": {WAIT_POLICY: "ACTIVE"}, "passive": {WAIT_POLICY: "PASSIVE"}}


def _child_env(settings: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in (WAIT_POLICY, APPLIED, SPIN_VARIABLE, *THREAD_VARIABLES):
        env.pop(name, None)  # each copy decides as a fresh run would
    return env | FIXED_ENV.get(settings, {}) | (extra or {})


def run_copies(
    n: int, steps: int, settings: str, extra: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Start n copies, let them build, start their training together; their JSON results."""
    # run by path, not `-m bench...`: bench/__init__ would set the wait policy for "torch"
    cmd = [sys.executable, __file__, "--child", "--steps", str(steps), "--settings", settings]
    logs = [tempfile.TemporaryFile("w+") for _ in range(n)]  # Lightning's chatter, for errors
    env = _child_env(settings, extra)
    procs = [
        subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env
        )
        for log in logs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "READY":
                raise RuntimeError("a training copy failed before training")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                raise RuntimeError(f"a training copy failed (exit {proc.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    except RuntimeError as err:
        for proc in procs:
            proc.kill()
        tails = []
        for log in logs:
            log.seek(0)
            tails.append(log.read()[-1500:])
        raise RuntimeError(f"{err}:\n" + "\n---\n".join(tails)) from None
    finally:
        for log in logs:
            log.close()


def measure(
    steps: int = 0,
    settings: str = "project",
    repeats: int = 1,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Best alone wall with spinning threads (ACTIVE), best alone wall and best two-at-once
    wall (slowest copy) with `settings` over `repeats` alternating rounds (a load change on a
    shared machine then hits all three), and the two ratios: alone / active alone (the cost
    of the settings for a run alone; 1.0 = none) and together / alone (2.0 = the two copies
    share the cores perfectly)."""
    active = alone = together = float("inf")
    info: dict[str, Any] = {}
    for _ in range(max(1, repeats)):
        active = min(active, run_copies(1, steps, "active")[0]["seconds"])
        alone = min(alone, run_copies(1, steps, settings, extra)[0]["seconds"])
        pair = run_copies(2, steps, settings, extra)
        together = min(together, max(r["seconds"] for r in pair))
        info = pair[0]
    return {
        "settings": settings,
        "extra_env": extra or {},
        "steps": info["steps"],
        "threads": info["threads"],
        "wait_policy": info["wait_policy"],
        "spincount": info["spincount"],
        "active_alone_s": round(active, 3),
        "alone_s": round(alone, 3),
        "together_s": round(together, 3),
        "alone_ratio": round(alone / active, 3),
        "ratio": round(together / alone, 3),
        "ms_per_step_alone": round(1000 * alone / info["steps"], 2),
        "ms_per_step_together": round(1000 * together / info["steps"], 2),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0, help="0: 3 epochs (528 steps)")
    parser.add_argument(
        "--settings", choices=("project", "torch", "active", "passive", "env"), default="project"
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra child env"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.steps, args.settings)
        return
    extra = dict(item.split("=", 1) for item in args.env)
    print(json.dumps(measure(args.steps, args.settings, args.repeats, extra)))


if __name__ == "__main__":
    main()
