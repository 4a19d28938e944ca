"""Helpers shared by several test modules: composed configs, the `train.py` process, reference
pairs and hand-made metrics.json files. Fixtures live in the conftest.py files; plain functions
and constants live here, so no test module imports from another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from fmri_rdm.config import register_schemas
from fmri_rdm.reporting.results import RunMetrics

ROOT = Path(__file__).resolve().parents[1]
# Tiny but real: 48 synthetic images, random-init CLIP, 3 image-disjoint folds, 2 epochs.
TINY = [
    "experiment=demo",
    "logger=none",
    "data.generate.n_images=48",
    "data.generate.n_test_images=6",
    "data.generate.image_size=64",
    "evaluation.k_folds=3",
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    "training.batch_size=256",
]
MODEL_OVERRIDES = {
    "mlp": ["model=mlp"],
    "siamese": ["model=siamese"],
    "siamese_cnn": ["model=siamese_cnn", "model.net.image_size=32", "model.net.channels=[4,8]"],
    "svm": ["model=svm"],
    "encoding": ["model=encoding"],
    "frrsa": ["model=frrsa"],
    "rsa": ["model=rsa"],
    "siamese_correlation": ["model=siamese", "model.net.head=correlation"],
}


# ----------------------------------------------------------------------------- configs, train.py
def compose_config(extra: list[str]) -> DictConfig:
    """The project's config composed with `extra` overrides, as train.py would (no Hydra run)."""
    register_schemas()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=extra)


def tiny_config(out: Path, cache: Path, extra: list[str]) -> DictConfig:
    """TINY + `extra`, writing into `out`, with synthetic data and embeddings under `cache`."""
    return compose_config([*TINY, *extra, f"paths.output_dir={out}", f"paths.cache_dir={cache}"])


def train_py(args: list[str], cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`python train.py *args` in `cwd`, with `cache` as FMRI_RDM_CACHE and no ALGONAUTS_DIR."""
    env = dict(os.environ, FMRI_RDM_CACHE=str(cache), FMRI_RDM_ROOT=str(cwd))
    env.pop("ALGONAUTS_DIR", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


# --------------------------------------------------------------------------------- reference pairs
def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j among n items, in scipy condensed order: (P,) int64 each.

    Built with numpy's triu_indices, independently of `fmri_rdm.rsa.pairs.all_pairs`.
    """
    i, j = np.triu_indices(n, k=1)
    return i.astype(np.int64), j.astype(np.int64)


# --------------------------------------------------------------------- hand-made metrics.json files
def two_folds(spread: dict[str, tuple[float, float]]) -> list[dict[str, float]]:
    """Two folds' {name: value} whose mean and (population) std are `spread`'s (mean, std)."""
    return [{n: m + sign * s for n, (m, s) in spread.items()} for sign in (-1.0, 1.0)]


def sweep_metrics(layers: int) -> dict[str, Any]:
    """A metrics.json written by the results contract, scores rising with hidden layers."""
    pearson = 0.30 + 0.1 * layers
    test = two_folds(
        {
            "pearson": (pearson, 0.01 + 0.01 * layers),
            "spearman": (pearson - 0.02, 0.02),
            "r2": (0.1 * layers, 0.05),
            "mse": (1.0 - 0.1 * layers, 0.1),
        }
    )
    baselines = two_folds(
        {
            "mean_predictor_mse": (1.2, 0.1),
            "mean_predictor_r2": (-0.01, 0.01),
            "shuffled_pearson": (0.01, 0.02),
            "zero_training_spearman": (0.25, 0.03),
            "zero_training_pearson": (0.22, 0.03),
            "encoding_pearson": (0.35, 0.02),
        }
    )
    folds = [
        {
            "fold": k,
            "n_pairs_train": 100,
            "n_pairs_test": 20,
            "seconds": {"fit": 2.0 + layers},
            "test": test[k],
            "train": {"pearson": 0.9},
            "baselines": baselines[k],
            "noise_ceiling": {"pearson": 0.95},
        }
        for k in range(2)
    ]
    return RunMetrics.from_folds(
        folds,
        model="siamese",
        task="regression",
        roi="all",
        n_images=60,
        embeddings={"pretrained": "openai"},
        seconds={"training": 10.0 + layers, "total": 20.0 + layers},
        optimized_metric="test.pearson.mean",
    ).to_json()


def write_run(run_dir: Path, overrides: list[str], metrics: dict[str, Any]) -> Path:
    """A run directory as Hydra leaves it: .hydra/overrides.yaml and metrics.json."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir
