"""data=folder end to end: an Algonauts subject converted to the folder scores as the Algonauts
loader does; RDM-only data runs with sessions and inter-subject ceilings, switches off what
needs responses (recorded), refuses model=encoding, and ends in `compare --across subject`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fmri_rdm.data.root import data_root
from fmri_rdm.data.synthetic_folder import algonauts_to_folder, generate_folder
from fmri_rdm.errors import ConfigError
from tests.helpers import compose_config, tiny_config

FOLDER_TINY = [
    "data=folder",
    "logger=none",
    "embeddings.pretrained=null",
    "evaluation.k_folds=3",
    "evaluation.n_bootstrap=50",
    "evaluation.n_permutations=0",
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    "training.batch_size=256",
]


def folder_config(out: Path, cache: Path, root: Path, subject: str, roi: str, extra: list[str]):
    return compose_config(
        [
            *FOLDER_TINY,
            f"data.root={root}",
            f"data.subject={subject}",
            f"data.roi={roi}",
            *extra,
            f"paths.output_dir={out}",
            f"paths.cache_dir={cache}",
        ]
    )


@pytest.fixture(scope="module")
def rdm_root(tmp_path_factory) -> Path:
    return generate_folder(
        tmp_path_factory.mktemp("rdm") / "ds", kind="rdm", n_images=36, n_shared=30, seed=5
    )


def test_algonauts_subject_as_a_folder_scores_the_same(tmp_path, cache_dir):
    from fmri_rdm.pipeline.experiment import run

    extra = ["model=rsa", "roi=V1", "evaluation.n_bootstrap=50", "evaluation.n_permutations=0"]
    cfg = tiny_config(tmp_path / "algonauts", cache_dir, extra)
    algonauts = run(cfg)
    root = algonauts_to_folder(data_root(cfg), 1, "V1", tmp_path / "folder")
    folder = run(folder_config(tmp_path / "run", cache_dir, root, "subj01", "V1", ["model=rsa"]))
    assert folder.subject == "subj01" and folder.roi == "V1"
    # the Algonauts `subject` / `roi` groups play no part in a folder run: not recorded
    saved = yaml.safe_load((tmp_path / "run" / "run_config.yaml").read_text())
    assert "subject" not in saved and "roi" not in saved
    assert (saved["data"]["subject"], saved["data"]["roi"]) == ("subj01", "V1")
    assert folder.n_images == algonauts.n_images and folder.n_voxels == algonauts.n_voxels
    for score in ("pearson", "spearman"):
        got = [f.score(score) for f in folder.folds]
        np.testing.assert_allclose(got, [f.score(score) for f in algonauts.folds], atol=1e-6)
    assert folder.baseline("encoding_pearson") == pytest.approx(
        algonauts.baseline("encoding_pearson"), abs=1e-5
    )


def test_rdm_only_runs_with_both_ceilings_and_records_what_it_skips(tmp_path, cache_dir, rdm_root):
    from fmri_rdm.compare import main as compare_main
    from fmri_rdm.pipeline.experiment import run

    extra = ["model=siamese", "evaluation.noise_ceiling=inter_subject"]
    out = tmp_path / "sweep"
    result = run(folder_config(out / "0", cache_dir, rdm_root, "sub-01", "IT", extra))
    metrics = json.loads((out / "0" / "metrics.json").read_text())
    assert metrics["subject"] == "sub-01" and metrics["roi"] == "IT"
    assert metrics["n_voxels"] is None and metrics["data"]["kind"] == "rdm"
    skipped = {"encoding_baseline", "response_weight", "encoding_prior"}
    assert set(metrics["data"]["skipped"]) == skipped
    assert metrics["data"]["n_sessions"] == 3 and metrics["data"]["metadata"] == ["category"]
    assert "encoding_pearson" not in metrics["baselines"]
    ceiling = result.noise_ceiling
    assert 0 < ceiling["sessions_lower"]["mean"] < ceiling["sessions_upper"]["mean"] <= 1
    assert ceiling["inter_subject_lower"]["mean"] < ceiling["inter_subject_upper"]["mean"]
    assert result.inter_subject == {"subjects": ["sub-02", "sub-03"], "n_images_shared": 30}
    # the run's config records the read-out as off: predict rebuilds the same network
    assert "response_weight: 0.0" in (out / "0" / "run_config.yaml").read_text()
    assert "encoding_prior: false" in (out / "0" / "run_config.yaml").read_text()
    # ... and the siamese default starts from the embedding RDM instead (model.rdm_prior)
    assert {f["prior"] for f in metrics["folds"]} == {"rsa"}
    assert all(f["kept"] in ("prior", "network") for f in metrics["folds"])
    for k, s in enumerate(("sub-02", "sub-03"), start=1):
        run(folder_config(out / str(k), cache_dir, rdm_root, s, "IT", ["model=rsa"]))
    assert (out / "1" / "plots" / "rdm_heatmap.png").is_file()
    sorted_by = ["model=rsa", "plots.sort_by=category", "evaluation.k_folds=2"]
    run(folder_config(tmp_path / "sorted", cache_dir, rdm_root, "sub-02", "IT", sorted_by))
    assert (tmp_path / "sorted" / "plots" / "rdm_heatmap.png").is_file()
    with pytest.raises(ConfigError, match=r"plots\.sort_by='colour' is no metadata column"):
        run(folder_config(tmp_path / "x", cache_dir, rdm_root, "sub-02", "IT", [*sorted_by[:1],
            "plots.sort_by=colour"]))  # fmt: skip
    run(folder_config(out / "3", cache_dir, rdm_root, "sub-01", "IT", ["model=rsa"]))
    assert compare_main([str(out), "--across", "subject", "--bootstrap", "100"]) == 0
    table = pd.read_csv(out / "comparison_group.csv")
    row = table[table["model"] == "rsa"].iloc[0]
    assert row["n_subjects"] == 3 and row["n_images_shared"] > 0
    assert np.isfinite(row["test_pearson_2f_ci_low"])


def test_encoding_is_refused_on_rdm_data(tmp_path, cache_dir, rdm_root):
    from fmri_rdm.pipeline.experiment import run

    cfg = folder_config(tmp_path, cache_dir, rdm_root, "sub-01", "IT", ["model=encoding"])
    with pytest.raises(ConfigError, match="model=encoding needs per-stimulus responses"):
        run(cfg)
