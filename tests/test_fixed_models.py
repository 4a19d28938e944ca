"""Fixed models and calibration-free correlations end to end (issue 35), on synthetic folder RDM
data (4 subjects, 2 sessions) noisy enough that some folds' calibration slope is clamped:

- rsa's per-fold test Pearson and Spearman equal the zero-training baseline's (the same RDM)
  to 1e-9, whatever its calibration did, and their intervals are defined;
- predictions.npz keeps the raw predictions beside the calibrated (float64) ones;
- a fixed model is also scored on all pairs, equal to a direct computation (scipy) to 1e-9,
  with the session ceiling on the same pairs; a fitted model gets no `all_pairs`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fmri_rdm.data.folder import FolderSource
from fmri_rdm.data.synthetic_folder import generate_folder
from fmri_rdm.rsa.rdm import pair_distances
from fmri_rdm.stats.sessions import session_bounds
from tests.helpers import compose_config

N_IMAGES = 48
FOLDER = [
    "data=folder",
    "logger=none",
    "embeddings.pretrained=null",
    "evaluation.k_folds=4",
    "evaluation.n_bootstrap=100",
    "evaluation.n_permutations=49",
    "data.roi=IT",
    "data.subject=sub-02",
]


@pytest.fixture(scope="module")
def noisy_root(tmp_path_factory) -> Path:
    """Seed 2 at noise 8: 2 of sub-02's 4 rsa folds get a clamped calibration slope."""
    return generate_folder(
        tmp_path_factory.mktemp("noisy") / "ds",
        kind="rdm",
        n_subjects=4,
        n_images=N_IMAGES,
        n_sessions=2,
        noise=8.0,
        seed=2,
    )


def _config(out: Path, cache: Path, root: Path, model: str):
    extra = [f"model={model}", f"data.root={root}", f"paths.output_dir={out}"]
    return compose_config([*FOLDER, *extra, f"paths.cache_dir={cache}"])


def test_a_fixed_model_scores_as_its_rdm_and_on_all_pairs(tmp_path, cache_dir, noisy_root):
    from fmri_rdm.pipeline.experiment import run
    from fmri_rdm.pipeline.inputs import model_table

    cfg = _config(tmp_path, cache_dir, noisy_root, "rsa")
    result = run(cfg)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert any(f["calibration_clamped"] for f in metrics["folds"])  # the case of issue 35
    for fold in metrics["folds"]:
        base = fold["baselines"]
        assert fold["test"]["pearson"] == pytest.approx(base["zero_training_pearson"], abs=1e-9)
        assert fold["test"]["spearman"] == pytest.approx(base["zero_training_spearman"], abs=1e-9)
        ci = fold["test_ci"]["pearson"]
        assert ci["ci_low"] < fold["test"]["pearson"] < ci["ci_high"]
    saved = np.load(tmp_path / "predictions.npz")
    clamped = next(f["fold"] for f in metrics["folds"] if f["calibration_clamped"])
    raw, calibrated = saved[f"fold{clamped}_raw"], saved[f"fold{clamped}_prediction"]
    assert calibrated.dtype == np.float64
    assert np.unique(raw).size > 0.9 * raw.size  # the raw RDM keeps its spread
    # all pairs: scipy on the embedding RDM of every pair against the mean of the sessions
    assert metrics["fits_nothing"] is True and result.all_pairs == metrics["all_pairs"]
    assert 0 < metrics["seconds"]["all_pairs"] < metrics["seconds"]["total"]
    every = metrics["all_pairs"]
    assert every["n_pairs"] == metrics["n_pairs"] == N_IMAGES * (N_IMAGES - 1) // 2
    data = FolderSource(noisy_root).load("sub-02", "IT", rows=None, standardize=True)
    paths = FolderSource(noisy_root).stimuli("sub-02").paths
    table = model_table(cfg, list(paths))[0]
    i, j = np.triu_indices(N_IMAGES, 1)
    model = pair_distances(table.reshape(N_IMAGES, -1), i, j, "correlation")
    target = data.sessions.mean(axis=0).astype(np.float32)  # the run's target (float32)
    pearson, spearman = every["test"]["pearson"], every["test"]["spearman"]
    assert pearson["mean"] == pytest.approx(stats.pearsonr(model, target)[0], abs=1e-9)
    assert spearman["mean"] == pytest.approx(stats.spearmanr(model, target)[0], abs=1e-9)
    assert pearson["ci_low"] < pearson["mean"] < pearson["ci_high"]
    assert 0 < pearson["p_value"] <= 1
    assert every["statistics"] == "bootstrap and permutations"
    ceiling = session_bounds(data.sessions)
    for key in ("sessions_lower", "sessions_upper", "sessions_single_lower"):
        assert every["noise_ceiling"][key] == pytest.approx(ceiling[key], abs=1e-9)


@pytest.mark.slow  # one frrsa run
def test_a_fitted_model_has_no_all_pairs_score(tmp_path, cache_dir, noisy_root):
    from fmri_rdm.pipeline.experiment import run

    run(_config(tmp_path, cache_dir, noisy_root, "frrsa"))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["fits_nothing"] is False and "all_pairs" not in metrics
    assert "all_pairs" not in metrics["seconds"]
    assert "fold0_raw" not in np.load(tmp_path / "predictions.npz")  # frrsa: not calibrated


def test_all_pairs_statistics_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto resamples all pairs up to its limit, always and never as they say; no resamples
    asked, none made; a typo is refused."""
    from omegaconf import OmegaConf

    from fmri_rdm.errors import ConfigError
    from fmri_rdm.pipeline import settings

    def chosen(value: str, n_boot: int = 1000) -> settings.EvaluationSettings:
        cfg = OmegaConf.create(
            {"k_folds": 5, "test_size": 0.2, "val_size": 0.1, "folds": None,
             "encoding_baseline": False, "n_bootstrap": n_boot, "n_permutations": 0,
             "ci_level": 0.95, "noise_ceiling": "auto", "all_pairs_statistics": value}
        )  # fmt: skip
        return settings.EvaluationSettings.from_config(cfg)

    limit = settings.ALL_PAIRS_AUTO_MAX
    assert chosen("auto").resamples_all_pairs(limit)
    assert not chosen("auto").resamples_all_pairs(limit + 1)
    assert chosen("always").resamples_all_pairs(10 * limit)
    assert not chosen("never").resamples_all_pairs(10)
    assert not chosen("always", n_boot=0).resamples_all_pairs(10)
    with pytest.raises(ConfigError, match="all_pairs_statistics"):
        chosen("sometimes")


def test_all_pairs_over_the_limit_have_scores_without_resamples(
    tmp_path, cache_dir, noisy_root, monkeypatch, caplog
):
    """Above evaluation.all_pairs_statistics=auto's limit: the same all-pairs scores and
    ceilings, no interval or p, said in the log, metrics.json and the results table."""
    from fmri_rdm.entry.train import all_pairs_rows
    from fmri_rdm.pipeline import experiment, settings

    monkeypatch.setattr(settings, "ALL_PAIRS_AUTO_MAX", 10)
    monkeypatch.setattr(experiment, "ALL_PAIRS_AUTO_MAX", 10)
    cfg = _config(tmp_path, cache_dir, noisy_root, "rsa")
    cfg.evaluation.folds = [0]
    with caplog.at_level("WARNING"):
        experiment.run(cfg)
    every = json.loads((tmp_path / "metrics.json").read_text())["all_pairs"]
    assert every["statistics"] == "none" and "without a bootstrap interval" in caplog.text
    pearson = every["test"]["pearson"]
    assert np.isfinite(pearson["mean"]) and "ci_low" not in pearson and "p_value" not in pearson
    assert every["noise_ceiling"]["sessions_lower"] is not None
    assert "no interval or p" in all_pairs_rows(every)[0][0]
