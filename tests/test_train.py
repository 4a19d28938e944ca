"""End to end on the synthetic data: every model, the metrics.json contract, image-disjointness,
reproducibility, prediction for new images, and the `train.py` entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.entry.predict import list_images, predict_rdm
from fmri_rdm.entry.predict import main as predict_main
from fmri_rdm.pipeline.experiment import run
from fmri_rdm.rsa.splits import image_disjoint_folds
from tests.helpers import MODEL_OVERRIDES, TINY, tiny_config, train_py

MODEL_FILES = {
    "mlp": "checkpoints/fold*-best.ckpt",
    "siamese_cnn": "checkpoints/fold*-best.ckpt",
    "siamese_correlation": "checkpoints/fold*-best.ckpt",
    "svm": "svm_fold*.joblib",
    "encoding": "encoding_fold*.npz",
    "frrsa": "frrsa_fold*.npz",
}


@pytest.fixture(scope="session")
def siamese_run(tmp_path_factory, cache_dir) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("siamese_run")
    cfg = tiny_config(out, cache_dir, MODEL_OVERRIDES["siamese"])
    return out, run(cfg).to_json()


def check_contract(metrics: dict, names: tuple[str, ...]) -> None:
    for key in ("model", "pretrained", "n_images", "n_pairs_train", "n_pairs_test", "folds"):
        assert key in metrics
    for name in names:
        assert set(metrics["test"][name]) >= {"mean", "std"}
    assert "mean" in metrics["baselines"]["zero_training_spearman"]
    # every stage was timed, and the stages are disjoint parts of the run's total time
    seconds = metrics["seconds"]
    stages = ("data", "rdm", "embeddings", "pairs", "training")
    assert all(seconds[stage] > 0 for stage in stages), seconds
    assert sum(seconds[stage] for stage in stages) <= seconds["total"]
    fits = [fold["seconds"]["fit"] for fold in metrics["folds"]]
    assert all(fit > 0 for fit in fits) and sum(fits) <= seconds["training"]


@pytest.mark.parametrize(
    "model", ["mlp", "siamese_cnn", "svm", "encoding", "frrsa", "rsa", "siamese_correlation"]
)
def test_each_model_end_to_end(model, tmp_path, cache_dir):
    metrics = run(tiny_config(tmp_path, cache_dir, MODEL_OVERRIDES[model])).to_json()
    assert metrics["model"] == model.split("_correlation")[0] and len(metrics["folds"]) == 3
    if model in MODEL_FILES:
        assert len(list(tmp_path.glob(MODEL_FILES[model]))) == 3
    # every learner predicts new images through predict.py's path
    test_folder = next(cache_dir.glob("synthetic/*/subj01/test_split/test_images"))
    new_rdm = predict_rdm(tmp_path, list_images(test_folder))
    assert np.isfinite(new_rdm).all() and new_rdm.std() > 0
    if model == "svm":
        check_contract(metrics, ("accuracy", "precision", "recall", "f1", "roc_auc"))
        assert len(list(tmp_path.glob("svm_fold*.joblib"))) == 3
        assert (
            sum(map(sum, metrics["folds"][0]["confusion_matrix"]))
            == metrics["folds"][0]["n_pairs_test"]
        )
    else:
        check_contract(metrics, ("pearson", "spearman", "r2", "mse"))
        assert metrics["baselines"]["mean_predictor_mse"]["mean"] > 0
        assert metrics["baselines"]["encoding_pearson"]["n"] == 3
    if model == "rsa":  # the embedding RDM itself: its Spearman is the zero-training baseline
        for fold in metrics["folds"]:
            expected = fold["baselines"]["zero_training_spearman"]
            assert fold["test"]["spearman"] == pytest.approx(expected, abs=1e-4)
    if model == "encoding":  # the baseline is the same model fitted the same way
        for fold in metrics["folds"]:
            expected = fold["baselines"]["encoding_pearson"]
            assert fold["test"]["pearson"] == pytest.approx(expected, abs=1e-6)
    assert json.loads((tmp_path / "metrics.json").read_text())["model"] == metrics["model"]
    assert (tmp_path / "plots" / "rdm_heatmap.png").is_file()


def test_siamese_metrics_predictions_and_image_disjointness(siamese_run):
    out, metrics = siamese_run
    check_contract(metrics, ("pearson", "spearman", "r2", "mse"))
    assert metrics["pretrained"] is None and metrics["random_init"] is True
    assert metrics["n_images"] == 48 and metrics["noise_ceiling"]["pearson"]["mean"] > 0.5
    # intervals over stimuli and permutation p-values, per fold and pooled over folds
    pearson = metrics["test"]["pearson"]
    assert pearson["ci_low"] < pearson["mean"] < pearson["ci_high"]
    assert 0 < pearson["p_value"] <= 1
    for fold in metrics["folds"]:
        ci = fold["test_ci"]["pearson"]
        assert ci["ci_low"] <= fold["test"]["pearson"] <= ci["ci_high"]
        assert 0 < fold["test_p_value"]["pearson"] <= 1
    folds = image_disjoint_folds(48, 3, seed=0)
    with np.load(out / "predictions.npz") as pred:
        for k, (train_imgs, test_imgs) in enumerate(folds):
            used = np.union1d(pred[f"fold{k}_i"], pred[f"fold{k}_j"])
            assert np.isin(used, test_imgs).all() and not np.isin(used, train_imgs).any()
            assert len(pred[f"fold{k}_prediction"]) == metrics["folds"][k]["n_pairs_test"]
    curves = out / "plots" / "training_curves.png"
    assert curves.is_file() and curves.stat().st_size > 1000


def test_same_seed_same_metrics(siamese_run, tmp_path, cache_dir):
    _, first = siamese_run
    again = run(tiny_config(tmp_path, cache_dir, MODEL_OVERRIDES["siamese"])).to_json()
    assert again["test"] == first["test"] and again["baselines"] == first["baselines"]


def test_predict_new_images(siamese_run, cache_dir):
    out, _ = siamese_run
    test_folder = next(cache_dir.glob("synthetic/*/subj01/test_split/test_images"))
    paths = list_images(test_folder)
    rdm = predict_rdm(out, paths)
    assert rdm.shape == (len(paths) * (len(paths) - 1) // 2,)
    assert np.isfinite(rdm).all() and rdm.std() > 0


def test_predict_py_arguments(siamese_run, cache_dir, tmp_path, capsys):
    """predict.py's key=value arguments: a folder, a pair (commas kept verbatim), one fold, an
    output folder; a misspelt key or a bad fold is one line, a suggestion and exit status 2."""
    out, _ = siamese_run
    folder = next(cache_dir.glob("synthetic/*/subj01/test_split/test_images"))
    images = list_images(folder)
    target = tmp_path / "predicted"
    assert predict_main([f"run={out}", f"images={folder}", "fold=1", f"out={target}"]) == 0
    rdm = np.load(target / "predicted_rdm.npy")
    np.testing.assert_allclose(rdm, predict_rdm(out, images, fold=1), rtol=1e-6)
    assert len((target / "images.txt").read_text().split()) == len(images)
    capsys.readouterr()
    assert predict_main([f"run={out}", f"pairs={images[0]},{images[1]}"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    # the metric and what the number is, not a bare value
    head = (
        f"predicted correlation distance (1 - Pearson r) of {images[0].name} and {images[1].name}: "
    )
    assert line.startswith(head) and line.endswith(" (mean over the run's folds' models)")
    value = float(line[len(head) :].split()[0])
    assert value == pytest.approx(float(predict_rdm(out, images[:2])[0]), abs=1e-4)
    assert predict_main(["--help"]) == 0
    assert "pairs=A,B" in capsys.readouterr().out
    for argv, fragments in [
        ([f"run={out}", f"imges={folder}"], ["imges", "did you mean 'images'"]),
        ([f"run={out}", f"images={folder}", "fold=one"], ["fold", "one"]),
        ([f"images={folder}"], ["run=<run dir>"]),
        ([f"run={tmp_path}", f"images={folder}"], ["not a run directory"]),
    ]:
        assert predict_main(argv) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert all(fragment in lines[0] for fragment in fragments), lines[0]


def test_train_py_without_data_points_to_the_demo(tmp_path, cache_dir):
    result = train_py(["logger=none"], cache_dir, tmp_path)
    assert result.returncode == 2
    assert "experiment=demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_multirun_sweep_and_compare(tmp_path, cache_dir):
    args = ["-m", *TINY, "evaluation.k_folds=1", "model=mlp", "model.hidden_layers=0,1,2,3"]
    result = train_py(args, cache_dir, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    sweep = next((tmp_path / "multirun").glob("*/*"))
    runs = sorted(p.parent for p in sweep.glob("*/metrics.json"))
    assert len(runs) == 4
    layers = sorted(json.loads((r / "metrics.json").read_text())["model"] for r in runs)
    assert layers == ["mlp"] * 4

    from fmri_rdm.compare import main as compare_main

    assert compare_main([str(sweep)]) == 0
    table = (sweep / "comparison.csv").read_text()
    assert table.count("\n") == 5
    # the short form model.hidden_layers is read as the network's model.net.hidden_layers
    assert "model.net.hidden_layers" in table.splitlines()[0]
    assert (sweep / "comparison.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    "launch",
    [
        ["-m", "hydra/launcher=submitit_local", "model.hidden_layers=0,1"],
        ["hparams_search=optuna", "hydra.sweeper.n_trials=2"],
    ],
    ids=["submitit_local", "optuna"],
)
def test_other_launchers_and_sweepers(launch, tmp_path, cache_dir):
    model = [] if "hparams_search=optuna" in launch else ["model=mlp"]
    flags = [a for a in launch if a.startswith("-")]  # argparse wants flags before overrides
    overrides = [a for a in launch if not a.startswith("-")]
    args = [*flags, *TINY, "evaluation.k_folds=1", *model, *overrides]
    result = train_py(args, cache_dir, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = list((tmp_path / "multirun").glob("*/*/*/metrics.json"))
    assert len(metrics) == 2
    assert all("test" in json.loads(p.read_text()) for p in metrics)


def test_inter_subject_noise_ceiling_end_to_end(tmp_path, cache_dir):
    extra = [
        "model=rsa",
        "evaluation.noise_ceiling=inter_subject",
        "data.generate.subjects=[2,3]",
        "data.generate.n_shared=40",
        "evaluation.n_bootstrap=50",
        "evaluation.n_permutations=50",
    ]
    metrics = run(tiny_config(tmp_path, cache_dir, extra)).to_json()
    assert metrics["inter_subject"]["subjects"] == [2, 3]
    lower = metrics["noise_ceiling"]["inter_subject_lower"]["mean"]
    upper = metrics["noise_ceiling"]["inter_subject_upper"]["mean"]
    assert lower is not None and upper is not None and lower <= upper
    assert (tmp_path / "plots" / "fold_summary.png").is_file()


def test_no_validation_images_keeps_the_last_epoch(tmp_path, cache_dir):
    """evaluation.val_size=0 (the original student project's recipe): all training images fit;
    the last epoch stays."""
    extra = [*MODEL_OVERRIDES["siamese"], "evaluation.val_size=0", "evaluation.k_folds=2"]
    metrics = run(tiny_config(tmp_path, cache_dir, extra)).to_json()
    for fold in metrics["folds"]:
        assert fold["n_images_val"] == 0 and fold["n_pairs_val"] == 0
        assert fold["n_images_train"] + fold["n_images_test"] == 48
        assert fold["epochs"] == 2  # trainer.max_epochs of TINY: nothing selects another epoch


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path, cache_dir):
    """With lr=0 the weights, hence val/loss, never change: the first epoch sets the best loss and
    each later one fails to beat it, so Lightning's EarlyStopping (strict `<`, stopping once
    `patience` epochs in a row did not improve) ends the fit after patience + 1 of max 6 epochs."""
    patience = 2
    extra = [
        *MODEL_OVERRIDES["siamese"],
        f"training.early_stopping_patience={patience}",
        "training.optimizer.lr=0",
        "trainer.max_epochs=6",
        "evaluation.k_folds=2",
    ]
    metrics = run(tiny_config(tmp_path, cache_dir, extra)).to_json()
    assert [fold["epochs"] for fold in metrics["folds"]] == [patience + 1] * 2


def test_response_supervision_end_to_end(tmp_path, cache_dir) -> None:
    """The siamese with a read-out (blocks plan, metric head): its checkpoints hold the
    read-out's weights and what its predicted patterns need, and the recorded weight
    (relative: response_weight x var of the fit targets)."""
    import torch

    extra = [
        *MODEL_OVERRIDES["siamese"],
        "model.plan=blocks",
        "model.net.head=metric",
        "model.response_weight=0.3",
        "evaluation.k_folds=2",
    ]
    metrics = run(tiny_config(tmp_path, cache_dir, extra)).to_json()
    for fold in metrics["folds"]:
        assert np.isfinite(fold["test"]["pearson"])
        assert fold["plan"] == "blocks"
        ckpt = torch.load(
            tmp_path / fold["best_checkpoint"], map_location="cpu", weights_only=False
        )
        assert "readout.linear.weight" in ckpt["state_dict"]
        assert "readout.pattern_offset" in ckpt["state_dict"]
        assert 0 < ckpt["hyper_parameters"]["response_weight"] < 0.3
