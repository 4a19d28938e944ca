"""`compare --across subject` on candidates that differ in any setting (embeddings.path) and
carry run names (`name=<label>`): paired tables and notes, the reference given by any key,
legible figure labels, one interval type per figure, no numpy warning."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmri_rdm.analysis import compare
from fmri_rdm.analysis.group import analyse
from fmri_rdm.analysis.runs import load_runs
from fmri_rdm.errors import ConfigError
from fmri_rdm.plots.group import _label, interval_method, short
from tests.analysis.test_group import N_OWN, N_SHARED, _folds, _metrics

FEATURES = "/data/lab/features/resnet50_layer4_avgpool_features.npy"
CANDIDATES = {  # name -> (overrides besides subject and name, prediction skill as in SKILL)
    "clip": ([], "rsa"),
    "resnet": (["embeddings=file", f"embeddings.path={FEATURES}"], "encoding"),
}


def candidate_sweep(root: Path, subjects: list[int], recorded: bool = True) -> Path:
    """One rsa run per subject and candidate; `recorded`: the runs keep their run_config.yaml
    (the default candidate's `embeddings` is read there: clip)."""
    job = 0
    for subject in subjects:
        ids = np.sort(
            np.concatenate([np.arange(N_SHARED), 1000 + 100 * subject + np.arange(N_OWN)])
        )
        for name, (extra, skill) in CANDIDATES.items():
            run = root / str(job)
            (run / ".hydra").mkdir(parents=True)
            lines = [f"subject=subj{subject:02d}", "model=rsa", *extra, f"name={name}"]
            (run / ".hydra" / "overrides.yaml").write_text("".join(f"- {x}\n" for x in lines))
            if recorded:
                path = "null" if not extra else FEATURES
                (run / "run_config.yaml").write_text(
                    f"embeddings:\n  name: {name}\n  path: {path}\n"
                )
            arrays = _folds(ids, skill, subject)
            np.savez(run / "predictions.npz", **arrays)
            (run / "metrics.json").write_text(json.dumps(_metrics(arrays, "rsa", subject)))
            job += 1
    return root


def _scores(root: Path, name: str) -> np.ndarray:
    runs = sorted(root.glob("*/metrics.json"), key=lambda p: int(p.parent.name))
    return np.array([
        json.loads(p.read_text())["test"]["pearson"]["mean"] for p in runs
        if f"name={name}" in (p.parent / ".hydra" / "overrides.yaml").read_text()
    ])  # fmt: skip


def test_candidates_differing_in_a_path_are_paired_by_name(tmp_path, capsys):
    sweep = candidate_sweep(tmp_path / "s", [1, 2, 3, 4])
    argv = [str(sweep), "--across", "subject", "--bootstrap", "200"]
    assert compare.main(argv) == 0
    out = capsys.readouterr().out
    assert "paired across subjects, reference name=clip" in out
    paired = pd.read_csv(sweep / "comparison_group_paired.csv")
    row = paired[paired["score"] == "pearson"].iloc[0]
    assert (row["name"], row["reference"]) == ("resnet", "clip")
    diff = _scores(sweep, "resnet") - _scores(sweep, "clip")
    assert row["diff_mean"] == pytest.approx(diff.mean()) and row["n_subjects"] == 4
    assert row["p_value"] == pytest.approx(2 / 16)  # all 4 subjects better: exact sign flip
    assert (sweep / "comparison_group.png").stat().st_size > 0


@pytest.mark.parametrize("reference", ["embeddings=file", "embeddings=clip", "name=resnet"])
def test_any_setting_can_be_the_reference(tmp_path, reference):
    a = analyse(load_runs([candidate_sweep(tmp_path / "s", [1, 2, 3])]), reference=reference,
                n_boot=0)  # fmt: skip
    key, value = reference.split("=")
    assert (a.reference_key, a.reference) == (key, value)
    pearson = a.paired[a.paired["score"] == "pearson"]
    assert len(pearson) == 1 and pearson.iloc[0]["reference"] == value
    other = {"file": "clip", "clip": "file", "resnet": "clip"}[value]
    assert pearson.iloc[0][key] == other


def test_an_unknown_level_names_every_level(tmp_path):
    runs = load_runs([candidate_sweep(tmp_path / "s", [1, 2], recorded=False)])
    with pytest.raises(
        ConfigError, match=r"embeddings=clip: no such runs; levels: \(default\), file"
    ):
        analyse(runs, reference="embeddings=clip", n_boot=0)


def test_figure_labels_are_names_or_file_names():
    row = pd.Series({"name": "resnet", "embeddings.path": FEATURES, "embeddings": "file"})
    assert _label(row, ["embeddings", "embeddings.path", "name"]) == "resnet"
    assert short(FEATURES) == "resnet50_layer4_a…"
    assert _label(row, ["embeddings", "embeddings.path"]) == "file\nresnet50_layer4_a…"


def test_one_interval_type_per_figure():
    both = pd.DataFrame(
        {"test_pearson_2f_ci_low": [0.1, 0.2], "test_pearson_2f_ci_high": [0.3, 0.4]}
    )
    assert interval_method(both) == "2-factor"
    both.loc[1, "test_pearson_2f_ci_low"] = np.nan  # one group without: every bar shows t
    assert interval_method(both) == "t"


def test_missing_values_have_notes_and_numpy_stays_quiet(tmp_path):
    sweep = candidate_sweep(tmp_path / "s", [1])  # one subject: no interval across subjects
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = analyse(load_runs([sweep]), n_boot=50)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "name=clip: 1 subject: no interval across subjects" in " ".join(a.notes)


def test_plain_compare_names_runs_in_its_table_figure_and_paired_test(tmp_path, capsys):
    from fmri_rdm.plots.compare import tick

    sweep = candidate_sweep(tmp_path / "s", [1])
    assert compare.main([str(sweep), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert "paired: A = clip vs B = resnet" in out
    assert list(pd.read_csv(sweep / "comparison.csv")["run"]) == ["clip", "resnet"]
    row = pd.Series({"run": "1", "name": "", "embeddings.path": FEATURES})
    assert tick(row, ["embeddings.path", "name"]) == (
        "embeddings.path=resnet50_layer4_avgpool_features.npy"
    )
    assert tick(row.replace("", "resnet"), ["embeddings.path", "name"]) == "resnet"


def test_an_undefined_two_factor_value_says_why(tmp_path):
    """Predictions constant over the images all subjects share: the runs' own scores exist,
    the 2-factor ones on the shared images do not; the notes say so, for the group and the
    paired difference."""
    sweep = candidate_sweep(tmp_path / "s", [1, 2, 3])
    for run in sweep.iterdir():
        if "name=resnet" not in (run / ".hydra" / "overrides.yaml").read_text():
            continue
        arrays = dict(np.load(run / "predictions.npz"))
        ids = arrays["nsd_ids"]
        for k in range(2):
            i, j = arrays[f"fold{k}_i"], arrays[f"fold{k}_j"]
            shared = (ids[i] < N_SHARED) & (ids[j] < N_SHARED)
            arrays[f"fold{k}_prediction"][shared] = 0.5
        np.savez(run / "predictions.npz", **arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = analyse(load_runs([sweep]), n_boot=50)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    row = a.table[a.table["name"] == "resnet"].iloc[0]
    assert np.isfinite(row["test_pearson_ci_low"]) and np.isnan(row["test_pearson_2f_ci_low"])
    notes = " ".join(a.notes)
    assert "name=resnet: 2-factor pearson undefined: 50 of 50 image resamples" in notes
    assert "name=resnet - clip: 2-factor pearson, spearman difference undefined" in notes


def test_printed_tables_show_paths_by_file_name(tmp_path, capsys):
    sweep = candidate_sweep(tmp_path / "s", [1, 2])
    assert compare.main([str(sweep), "--across", "subject", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "resnet50_layer4_avgpool_features.npy" in out and "/data/lab/features" not in out
    table = pd.read_csv(sweep / "comparison_group.csv")
    assert FEATURES in set(table["embeddings.path"])  # the files keep the full path
