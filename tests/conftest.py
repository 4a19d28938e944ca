"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmri_rdm.data.synthetic import generate_dataset


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Root of a small synthetic Algonauts-layout dataset (~1 s to build, once per session).

    Subject 1 only, 60 training images and 6 test images of 64x64 px, seed 0; noise-free
    responses under `<root>/synthetic_truth/`. Shared by the whole session: treat it as
    read-only (copy it with shutil.copytree before changing anything).
    """
    root = tmp_path_factory.mktemp("synthetic") / "algonauts"
    return generate_dataset(
        root, subjects=(1,), n_images=60, n_test_images=6, image_size=64, seed=0
    )


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder (synthetic data + embeddings) shared by the end-to-end tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def rsa_transfer_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """A finished tiny run (model=rsa, 48 images of subject 1, 3 folds) with cross-subject
    transfer to subject 2 (subjects 2 and 3 share 40 images with it): its directory. Shared by
    test_transfer and test_export; read-only."""
    from fmri_rdm.pipeline.experiment import run
    from tests.helpers import tiny_config

    out = tmp_path_factory.mktemp("rsa_transfer_run")
    extra = [
        "model=rsa",
        "evaluation.transfer_subjects=[2]",
        "data.generate.subjects=[2,3]",  # the inter-subject ceiling test's data set
        "data.generate.n_shared=40",
        "evaluation.n_bootstrap=50",
        "evaluation.n_permutations=0",
        "evaluation.encoding_baseline=false",
    ]
    run(tiny_config(out, cache_dir, extra))
    return out
