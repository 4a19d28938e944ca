"""`compare --across subject` on hand-made run directories: files, columns, values, notes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fmri_rdm.analysis import compare
from fmri_rdm.analysis.group import analyse
from fmri_rdm.analysis.runs import load_runs
from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.reporting.results import RunMetrics

N_SHARED, N_OWN = 10, 4
SKILL = {"rsa": 0.2, "encoding": 0.6}  # how much of the truth a model's prediction carries


def _folds(ids: np.ndarray, model: str, subject: int) -> dict[str, np.ndarray]:
    """predictions.npz of a 2-fold run: all pairs among each fold's test images."""
    rng = np.random.default_rng([subject, len(model)])
    n = ids.size
    truth = np.sin(np.add.outer(ids, ids) * 0.37) + np.cos(np.subtract.outer(ids, ids) * 0.11)
    arrays: dict[str, np.ndarray] = {"image_indices": np.arange(n), "nsd_ids": ids}
    for k, test in enumerate((np.arange(0, n, 2), np.arange(1, n, 2))):
        i, j = (test[x] for x in np.triu_indices(test.size, 1))
        target = truth[i, j] + rng.normal(scale=0.5, size=i.size)
        pred = SKILL[model] * truth[i, j] + rng.normal(scale=0.5, size=i.size)
        arrays |= {f"fold{k}_i": i, f"fold{k}_j": j}
        arrays |= {f"fold{k}_target": target, f"fold{k}_prediction": pred}
    return arrays


def _metrics(arrays: dict[str, np.ndarray], model: str, subject: int) -> dict[str, Any]:
    folds = []
    for k in range(2):
        t, p = arrays[f"fold{k}_target"], arrays[f"fold{k}_prediction"]
        test = {"pearson": stats.pearsonr(t, p)[0], "spearman": stats.spearmanr(t, p)[0]}
        folds.append(
            {
                "fold": k,
                "n_pairs_train": 10,
                "n_pairs_test": t.size,
                "test": test,
                "baselines": {"zero_training_pearson": 0.1, "encoding_pearson": 0.3},
                "noise_ceiling": {"inter_subject_lower": 0.5, "inter_subject_upper": 0.7},
            }
        )
    return RunMetrics.from_folds(
        folds,
        model=model,
        subject=subject,
        roi="V1",
        embeddings={},
        seconds={"training": 1.0},
        optimized_metric="test.pearson.mean",
    ).to_json()


def make_sweep(root: Path, subjects: list[int], shared: bool = True, extra: str = "") -> Path:
    job = 0
    for subject in subjects:
        own = 1000 + 100 * subject + np.arange(N_OWN)
        common = np.arange(N_SHARED) + (100 if shared else 5000 + 100 * subject)
        ids = np.sort(np.concatenate([common, own]))
        for model in SKILL:
            run = root / str(job)
            (run / ".hydra").mkdir(parents=True)
            overrides = f"- subject=subj{subject:02d}\n- model={model}\n{extra}"
            (run / ".hydra" / "overrides.yaml").write_text(overrides)
            arrays = _folds(ids, model, subject)
            np.savez(run / "predictions.npz", **arrays)
            (run / "metrics.json").write_text(json.dumps(_metrics(arrays, model, subject)))
            job += 1
    return root


GROUP_COLUMNS = [
    "model", "n_subjects", "subjects", "test_pearson_mean", "test_pearson_ci_low",
    "test_pearson_ci_high", "test_pearson_boot_low", "test_pearson_boot_high",
    "test_pearson_2f_mean", "test_pearson_2f_ci_low", "test_pearson_2f_ci_high",
    "test_spearman_mean", "test_spearman_ci_low", "test_spearman_ci_high", "n_images_shared",
    "baseline_zero_training_pearson_mean", "baseline_encoding_pearson_mean",
    "noise_ceiling_inter_subject_lower_mean", "noise_ceiling_inter_subject_upper_mean",
]  # fmt: skip
PAIRED_COLUMNS = [
    "reference", "model", "score", "n_subjects", "diff_mean", "ci_low", "ci_high", "p_value",
    "p_adjusted", "diff_2f_mean", "ci_2f_low", "ci_2f_high", "p_2f", "p_2f_adjusted",
    "n_images_shared",
]  # fmt: skip


def test_cli_writes_group_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = make_sweep(tmp_path / "sweep", [1, 2, 3, 4])
    argv = [str(sweep), "--across", "subject", "--reference", "model=rsa", "--bootstrap", "200"]
    assert compare.main(argv) == 0
    out = capsys.readouterr().out
    assert "paired across subjects, reference model=rsa" in out and "sign-flip" in out
    table = pd.read_csv(sweep / "comparison_group.csv")
    paired = pd.read_csv(sweep / "comparison_group_paired.csv")
    assert [c for c in GROUP_COLUMNS if c not in table.columns] == []
    assert [c for c in PAIRED_COLUMNS if c not in paired.columns] == []
    for name in ("comparison_group.md", "comparison_group.png", "comparison_group_subjects.csv"):
        assert (sweep / name).stat().st_size > 0
    assert not (sweep / "comparison.csv").exists()  # --across writes the group files only
    # values: the mean and t-interval over the subjects' run scores
    runs = [json.loads((sweep / str(k) / "metrics.json").read_text()) for k in range(8)]
    enc = np.array([m["test"]["pearson"]["mean"] for m in runs if m["model"] == "encoding"])
    row = table[table["model"] == "encoding"].iloc[0]
    lo, hi = stats.t.interval(0.95, 3, loc=enc.mean(), scale=stats.sem(enc))
    assert row["test_pearson_mean"] == pytest.approx(enc.mean())
    assert (row["test_pearson_ci_low"], row["test_pearson_ci_high"]) == pytest.approx((lo, hi))
    assert row["n_subjects"] == 4 and row["n_images_shared"] == N_SHARED
    assert row["noise_ceiling_inter_subject_lower_mean"] == pytest.approx(0.5)
    # paired: encoding - rsa per subject; 4 subjects all better -> exact sign-flip p = 2/16
    rsa = np.array([m["test"]["pearson"]["mean"] for m in runs if m["model"] == "rsa"])
    pr = paired[paired["score"] == "pearson"].iloc[0]
    assert pr["model"] == "encoding" and pr["reference"] == "rsa"
    assert pr["diff_mean"] == pytest.approx((enc - rsa).mean())
    assert (enc > rsa).all()  # SKILL: encoding's predictions carry 3x the truth
    assert pr["p_value"] == pytest.approx(2 / 16)
    assert pr["p_adjusted"] == pytest.approx(2 / 16)  # Holm per score: one comparison here
    assert pr["ci_2f_low"] < pr["diff_2f_mean"] < pr["ci_2f_high"]


def test_default_reference_is_first_model(tmp_path: Path) -> None:
    a = analyse(load_runs([make_sweep(tmp_path / "s", [1, 2])]), n_boot=50)
    assert (a.reference_key, a.reference) == ("model", "rsa")
    assert list(a.paired["model"].unique()) == ["encoding"]


def test_one_subject_gets_a_note(tmp_path: Path) -> None:
    a = analyse(load_runs([make_sweep(tmp_path / "s", [3])]), n_boot=50)
    assert any("1 subject: no interval" in n for n in a.notes)
    assert a.table["test_pearson_ci_low"].isna().all()
    assert a.table["test_pearson_2f_ci_low"].isna().all()
    assert math.isnan(a.paired["ci_low"].iloc[0]) and a.paired["n_subjects"].iloc[0] == 1


def test_no_shared_images_gets_a_note(tmp_path: Path) -> None:
    a = analyse(load_runs([make_sweep(tmp_path / "s", [1, 2, 3], shared=False)]), n_boot=50)
    assert any("share 0 test images" in n for n in a.notes)
    assert a.table["test_pearson_2f_ci_low"].isna().all()
    assert a.table["test_pearson_ci_low"].notna().all()  # over subjects still possible
    assert (a.paired["n_images_shared"] == 0).all() and a.paired["p_2f"].isna().all()


def test_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = make_sweep(tmp_path / "s", [1, 2])
    with pytest.raises(ConfigError, match="no such runs"):
        analyse(load_runs([sweep]), reference="model=svm")
    assert compare.main([str(sweep), "--across", "subject", "--reference", "roi=V1"]) == 2
    assert "--reference 'roi=V1'" in capsys.readouterr().err
    twice = tmp_path / "twice"
    make_sweep(twice / "a", [1])
    make_sweep(twice / "b", [1])
    with pytest.raises(DataError, match="2 runs of subj01"):
        analyse(load_runs([twice]))


def test_layer_profile_and_heatmap(tmp_path: Path) -> None:
    """An ordered setting (layer names) gets the profile; roi x model gets a heatmap."""
    from fmri_rdm.plots.group import ordered_value, save_group_figures

    for layer in (1, 2, 3):
        extra = f"- embeddings.module_name=visual.transformer.resblocks.{layer}\n"
        make_sweep(tmp_path / "layers" / str(layer), [1, 2], extra=extra)
    a = analyse(load_runs([tmp_path / "layers"]), n_boot=20)
    assert a.keys == ["model", "embeddings.module_name"] and len(a.table) == 6
    assert ordered_value("visual.transformer.resblocks.11") == 11.0 and ordered_value("rsa") is None
    paths = save_group_figures(tmp_path / "figs", a)
    assert set(paths) == {"plot", "profile"} and all(p.stat().st_size > 0 for p in paths.values())
    for roi in ("V1", "PPA"):
        make_sweep(tmp_path / "rois" / roi, [1, 2], extra=f"- roi={roi}\n")
    b = analyse(load_runs([tmp_path / "rois"]), n_boot=20)
    assert set(save_group_figures(tmp_path / "figs2", b)) == {"plot", "heatmap"}


def test_transfer_keys_are_shown(tmp_path: Path) -> None:
    """Runs with the transfer helper's `transfer.<subjNN>.<score>.mean` keys get their mean
    over target subjects, then over subjects."""
    sweep = make_sweep(tmp_path / "s", [1, 2])
    values = {"0": (0.2, 0.4), "2": (0.3, 0.5)}  # jobs 0 (subj01 rsa) and 2 (subj02 rsa)
    for job, (a, b) in values.items():
        path = sweep / job / "metrics.json"
        metrics = json.loads(path.read_text())
        metrics["transfer"] = {
            "subj03": {"pearson": {"mean": a}, "n_images_shared": 8},
            "subj04": {"pearson": {"mean": b}, "n_images_shared": 8},
        }
        path.write_text(json.dumps(metrics))
    a = analyse(load_runs([sweep]), n_boot=20)
    rsa = a.table[a.table["model"] == "rsa"].iloc[0]
    assert rsa["transfer_pearson_mean"] == pytest.approx(np.mean([0.3, 0.4]))
    assert math.isnan(a.table[a.table["model"] == "encoding"].iloc[0]["transfer_pearson_mean"])


def test_the_2f_scope_says_which_intervals_are_conditional_on_fits(tmp_path: Path) -> None:
    """rsa runs record fits_nothing (and an all-pairs score): their 2-factor interval reads
    `subjects+images`, the fitted encoding model's and the paired difference's `... | fits`;
    the figure caption and the Markdown say it; the all-pairs score is the subjects' mean."""
    from fmri_rdm.analysis.group_render import group_display, markdown, paired_display
    from fmri_rdm.plots.group import conditional_note

    sweep = make_sweep(tmp_path / "sweep", [1, 2, 3])
    all_pairs = {}
    for metrics_file in sweep.glob("*/metrics.json"):
        metrics = json.loads(metrics_file.read_text())
        metrics["fits_nothing"] = metrics["model"] == "rsa"
        if metrics["fits_nothing"]:
            value = 0.1 * metrics["subject"]
            metrics["all_pairs"] = {"n_pairs": 91, "test": {"pearson": {"mean": value}}}
            all_pairs[metrics["subject"]] = value
        metrics_file.write_text(json.dumps(metrics))
    a = analyse(load_runs([sweep]), reference="model=rsa", n_boot=100)
    fixed = dict(zip(a.table["model"], a.table["fits_nothing"], strict=True))
    assert fixed == {"rsa": True, "encoding": False}
    shown = group_display(a).set_index("model")
    assert shown.loc["rsa", "2f scope"] == "subjects+images"
    assert shown.loc["encoding", "2f scope"] == "subjects+images | fits"
    assert shown.loc["rsa", "pearson (all pairs)"] == f"{np.mean(list(all_pairs.values())):.3f}"
    assert shown.loc["encoding", "pearson (all pairs)"] == "-"
    assert set(paired_display(a)["2f scope"]) == {"subjects+images | fits"}
    assert "conditional on their fits" in conditional_note(a.table, {"2-factor"})
    assert conditional_note(a.table[a.table["model"] == "rsa"], {"2-factor"}) == ""
    assert "conditional on those fits" in markdown(a)
