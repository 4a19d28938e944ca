"""Candidate RDMs end to end (issue 37): a 4-subject sweep of fixed candidates and
`compare --across subject`, the categorical RDM of a column, the weighted combination with its
variance partition, comparison measures as scores, and a folder without images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.errors import ConfigError
from tests.helpers import compose_config

TINY = [
    "data=folder",
    "logger=none",
    "evaluation.k_folds=3",
    "evaluation.n_bootstrap=20",
    "evaluation.n_permutations=0",
    "data.roi=IT",
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 subjects sharing 24 of 32 stimuli, RDM sessions, candidates, no images."""
    out = tmp_path_factory.mktemp("candidates") / "ds"
    return generate_folder(
        out, kind="rdm", n_subjects=4, n_images=32, n_shared=24, candidates=True, images=False
    )


def _run(out: Path, root: Path, subject: str, extra: list[str]) -> dict:
    from fmri_rdm.pipeline.experiment import run

    overrides = [*TINY, f"data.root={root}", f"data.subject={subject}", *extra]
    run(compose_config([*overrides, f"paths.output_dir={out}", f"paths.cache_dir={out}/cache"]))
    hydra = out / ".hydra"  # what a Hydra sweep records: compare tells runs apart by it
    hydra.mkdir(exist_ok=True)
    (hydra / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in [f"data.subject={subject}", *extra])
    )
    return json.loads((out / "metrics.json").read_text())


def test_sweep_of_two_candidates_across_four_subjects(tmp_path: Path, root: Path) -> None:
    from fmri_rdm.compare import main as compare_main

    sweep = tmp_path / "sweep"
    for k, (subject, name) in enumerate(
        (s, n) for s in ("sub-01", "sub-02", "sub-03", "sub-04") for n in ("truth", "pixels")
    ):
        metrics = _run(sweep / str(k), root, subject, ["model=rdm", f"model.rdm={name}",
                       "evaluation.measures=[tau_a,corr_cov]"])  # fmt: skip
        assert metrics["embeddings"]["backend"] == "stimuli"
        assert metrics["data"]["skipped"]["encoding_baseline"]
        assert -1 <= metrics["test"]["tau_a"]["mean"] <= 1
    assert (
        compare_main([str(sweep), "--across", "subject", "--bootstrap", "100", "--score", "tau_a"])
        == 0
    )
    table = pd.read_csv(sweep / "comparison_group.csv").set_index("model.rdm")
    assert set(table.index) == {"truth", "pixels"}
    for name in ("truth", "pixels"):
        row = table.loc[name]
        assert row["n_subjects"] == 4 and row["n_images_shared"] == 24
        assert row["test_pearson_ci_low"] < row["test_pearson_mean"] < row["test_pearson_ci_high"]
        assert np.isfinite(row["test_pearson_2f_ci_low"]) and np.isfinite(row["test_tau_a_ci_low"])
        assert row["noise_ceiling_sessions_lower_mean"] < row["noise_ceiling_sessions_upper_mean"]
    assert table.loc["truth", "test_pearson_mean"] > table.loc["pixels", "test_pearson_mean"]
    paired = pd.read_csv(sweep / "comparison_group_paired.csv")
    pearson = paired[paired["score"] == "pearson"].iloc[0]
    assert pearson["n_subjects"] == 4 and np.isfinite(pearson["p_value"])
    assert np.isfinite(pearson["p_2f"])
    assert (sweep / "comparison_models.png").stat().st_size > 0


def test_column_rdm_run_predicts_the_hand_built_rdm(tmp_path: Path, root: Path) -> None:
    _run(
        tmp_path, root, "sub-02", ["model=rdm", "model.column=size", "evaluation.calibration=none"]
    )
    saved = np.load(tmp_path / "predictions.npz")
    stimuli = pd.read_csv(root / "stimuli.tsv", sep="\t").set_index("stimulus_id")
    labels = stimuli.loc[saved["stimulus_ids"], "size"].to_numpy()
    hand = (labels[:, None] != labels[None, :]).astype(np.float32)  # built by hand
    for fold in range(3):
        i, j = saved[f"fold{fold}_i"], saved[f"fold{fold}_j"]
        np.testing.assert_array_equal(saved[f"fold{fold}_prediction"], hand[i, j])


def test_weighted_run_weights_and_partition(tmp_path: Path, root: Path) -> None:
    rdms = "model.rdms=[truth,column:category,noise]"
    metrics = _run(tmp_path, root, "sub-01", ["model=weighted", rdms])
    for fold in metrics["folds"]:
        assert all(w >= 0 for w in fold["weights"].values())
        fit = fold["fit_pearson"]
        assert fit["combined"] >= max(fit[n] for n in ("truth", "column:category", "noise")) - 1e-9
    vp = metrics["variance_partition"]
    assert vp["candidates"] == ["truth", "column:category", "noise"]
    parts = sum(v for k, v in vp["mean"].items() if k != "total")
    assert parts == pytest.approx(vp["mean"]["total"], abs=1e-9)
    assert vp["mean"]["unique:truth"] > vp["mean"]["unique:noise"]


def test_folder_without_images_refuses_image_models_in_one_line(tmp_path: Path, root: Path) -> None:
    from fmri_rdm.pipeline.experiment import run

    cfg = compose_config(
        [*TINY, f"data.root={root}", "data.subject=sub-01", "model=siamese",
         f"paths.output_dir={tmp_path}", f"paths.cache_dir={tmp_path}/cache"]
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"reads images, but .* has none") as err:
        run(cfg)
    assert "\n" not in str(err.value)
