"""`compare --across subject` over real (tiny) runs: images matched by NSD id via run_config."""

from __future__ import annotations

import pandas as pd
import pytest

from fmri_rdm.compare import main as compare_main
from fmri_rdm.data.synthetic import synthetic_dataset_path
from fmri_rdm.pipeline.experiment import run
from tests.helpers import tiny_config


@pytest.mark.slow
def test_group_over_a_tiny_sweep(tmp_path, cache_dir) -> None:
    shared = 30
    for subject in (1, 2, 3):
        for model in ("rsa", "encoding"):
            extra = [
                f"subject=subj{subject:02d}",
                f"model={model}",
                "data.generate.subjects=[1,2,3]",
                f"data.generate.n_shared={shared}",
                "evaluation.k_folds=2",
                "evaluation.n_bootstrap=0",
                "evaluation.n_permutations=0",
            ]
            run(tiny_config(tmp_path / "sweep" / f"{model}-{subject}", cache_dir, extra))
    root = synthetic_dataset_path(
        cache_dir, subjects=[1, 2, 3], n_images=48, n_test_images=6, image_size=64, n_shared=30
    )
    assert root.is_dir()  # the path compare derives is the one training generated
    sweep = tmp_path / "sweep"
    assert compare_main([str(sweep), "--across", "subject", "--bootstrap", "100"]) == 0
    table = pd.read_csv(sweep / "comparison_group.csv")
    assert sorted(table["model"]) == ["encoding", "rsa"]
    assert (table["n_subjects"] == 3).all() and (table["n_images_shared"] == shared).all()
    assert table["test_pearson_2f_ci_low"].notna().all()
    paired = pd.read_csv(sweep / "comparison_group_paired.csv")
    assert len(paired) == 2 and paired["p_2f"].between(0, 1).all()
