"""User errors end to end: one readable line `error: ...` on stderr, exit status 2, no traceback
(unless HYDRA_FULL_ERROR=1), and the failure recorded in metrics.json.

A few cases run the real `train.py` process; the others call `cli.run_training` in-process on a
composed config (the same code path minus Hydra's start-up) on a broken copy of the small
synthetic dataset.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from fmri_rdm.entry.train import run_training, user_error
from tests.helpers import compose_config, train_py

SUBJ = Path("subj01")
FMRI = SUBJ / "training_split" / "training_fmri"
IMAGES = SUBJ / "training_split" / "training_images"
MASKS = SUBJ / "roi_masks"
# Real Algonauts loading on a tiny budget: random-init small CLIP, 2 folds, 1 epoch.
FAST = [
    "logger=none",
    "data=algonauts",
    "embeddings.model_name=ViT-S-32-alt",
    "embeddings.pretrained=null",
    "embeddings.num_workers=0",
    "evaluation.k_folds=2",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "training.batch_size=256",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Embedding cache shared by this module (copies keep the images' mtimes: cache hits)."""
    return tmp_path_factory.mktemp("errors_cache")


@pytest.fixture
def data(synthetic_root: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic dataset, free to break."""
    return Path(shutil.copytree(synthetic_root, tmp_path / "algonauts"))


def one_error_line(stderr: str) -> str:
    """The single `error:` line of stderr (warnings of libraries may precede it in-process)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    assert len(lines[0]) > len("error: ") + 20
    return lines[0]


def fail_in_process(
    root: Path, extra: list[str], out: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run the experiment like train.py does; expect exit 2 and return the error line."""
    base = FAST
    if "embeddings=file" in extra:  # the clip settings do not exist there
        base = [o for o in FAST if not o.startswith("embeddings.")]
    overrides = [*base, f"data.root={root}", *extra]
    cfg = compose_config([*overrides, f"paths.output_dir={out}", f"paths.cache_dir={cache}"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_training(cfg)
    assert info.value.code == 2
    line = one_error_line(capsys.readouterr().err)
    recorded = json.loads((out / "metrics.json").read_text())
    assert recorded["status"] == "failed" and line[len("error: ") :] in recorded["error"]
    return line


# ------------------------------------------------------------------ through the train.py process
def _exit_2_one_line(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (  # the suggestion first, then Hydra's words without its config search path
            "model=siamse",
            "error: model=siamse: did you mean 'siamese'? In 'config': Could not find "
            "'model/siamse' Available options in 'model': encoding frrsa mlp rdm rsa siamese "
            "siamese_cnn svm weighted",
        ),
        (  # our suggestion, not Hydra's `+model.dropuot=0.1` (the schema would reject it)
            "model.dropuot=0.1",
            "error: model.dropuot: did you mean 'model.net.dropout'? 'model' has no key 'dropuot'",
        ),
        (
            "model.net.dropuot=0.1",
            "error: model.net.dropuot: did you mean 'model.net.dropout'? 'model.net' has no key "
            "'dropuot'",
        ),
        (  # case is ignored
            "roi=ffa-1",
            "error: roi=ffa-1: did you mean 'FFA-1'? In 'config': Could not find 'roi/ffa-1' ",
        ),
    ],
)
def test_override_typo_is_one_line_exit_2(override, expected, tmp_path):
    line = _exit_2_one_line(train_py(["logger=none", override], tmp_path / "cache", tmp_path))
    assert line.startswith(expected)
    assert "search path" not in line and "+model" not in line


def test_network_value_of_the_wrong_type_is_one_line_exit_2(data, tmp_path):
    """`model.dropout` is short for `model.net.dropout`, checked against the network's
    constructor before any data is read."""
    args = [*FAST, f"data.root={data}", "model.dropout=high"]
    result = train_py(args, tmp_path / "cache", tmp_path)
    line = _exit_2_one_line(result)
    assert "model.net.dropout" in line and "Float" in line


def test_missing_data_root_through_train_py(tmp_path):
    missing = tmp_path / "nowhere"
    result = train_py([*FAST, f"data.root={missing}"], tmp_path / "cache", tmp_path)
    line = _exit_2_one_line(result)
    assert str(missing) in line and "data.root" in line


def test_truncated_npy_through_train_py(data, tmp_path):
    fmri = data / FMRI / "lh_training_fmri.npy"
    fmri.write_bytes(fmri.read_bytes()[: fmri.stat().st_size // 2])
    result = train_py([*FAST, f"data.root={data}"], tmp_path / "cache", tmp_path)
    line = _exit_2_one_line(result)
    assert str(fmri) in line and "truncated" in line


def test_full_error_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    result = train_py(["logger=none", "model=siamse"], tmp_path / "cache", tmp_path)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "error: " in result.stderr
    assert "'model/siamse'" in result.stderr and "did you mean 'siamese'" in result.stderr


# ------------------------------------------------------------------ composition errors in-process
@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("roi=V9", ["'roi/V9'", "V1v", "floc-faces", "prf-visualrois"]),
        ("model.net.dropuot=1", ["model.net.dropuot", "did you mean 'model.net.dropout'"]),
        ("model.log10_alpha_max=10", ["'model' has no key 'log10_alpha_max'", "its keys"]),
        ("evaluation.k_folds=five", ["evaluation.k_folds=five", "Integer"]),
        ("trainer=gpux", ["'trainer/gpux'", "did you mean 'gpu'"]),
    ],
)
def test_composition_errors_are_one_line(override, fragments):
    with pytest.raises(Exception) as info:
        compose_config([override])
    found = user_error(info.value)
    assert found is not None and "\n" not in found[1]
    for fragment in fragments:
        assert fragment in found[1]


def test_a_bug_keeps_its_traceback(synthetic_root, tmp_path, cache):
    """An exception that is not a user error propagates (exit 1 with its traceback)."""
    overrides = [*FAST, f"data.root={synthetic_root}", "trainer._target_=builtins.dict"]
    out = tmp_path / "out"
    cfg = compose_config([*overrides, f"paths.output_dir={out}", f"paths.cache_dir={cache}"])
    with pytest.raises(AttributeError, match="fit") as info:
        run_training(cfg)  # a dict has no .fit(): our code's fault, not the user's
    assert user_error(info.value) is None


def test_interpolation_errors_while_running_are_user_errors(synthetic_root, tmp_path, capsys):
    extra = ["data.root=${oc.env:FMRI_RDM_NO_SUCH_VARIABLE}"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", tmp_path / "cache", capsys)
    assert "FMRI_RDM_NO_SUCH_VARIABLE" in line


# ------------------------------------------------------------------ broken data in-process
def test_subject_folder_missing(data, tmp_path, cache, capsys):
    line = fail_in_process(data, ["subject=subj02"], tmp_path / "out", cache, capsys)
    assert "subj02" in line and "subj01" in line


def test_unknown_roi_lists_the_valid_ones(data, tmp_path, cache, capsys):
    line = fail_in_process(data, ["roi.name=V9"], tmp_path / "out", cache, capsys)
    assert "'V9'" in line and "V1v" in line and "FFA-1" in line and "floc-faces" in line


def test_roi_absent_for_this_subject(data, tmp_path, cache, capsys):
    for hemi in ("lh", "rh"):  # FFA-1 (code 2 of floc-faces) erased in both hemispheres
        path = data / MASKS / f"{hemi}.floc-faces_challenge_space.npy"
        mask = np.load(path)
        np.save(path, np.where(mask == 2, 0, mask))
    line = fail_in_process(data, ["roi=FFA-1"], tmp_path / "out", cache, capsys)
    assert "'FFA-1'" in line and "no vertices" in line and "FFA-2" in line


def test_images_and_fmri_rows_differ(data, tmp_path, cache, capsys):
    sorted(p for p in (data / IMAGES).iterdir())[-1].unlink()
    line = fail_in_process(data, [], tmp_path / "out", cache, capsys)
    assert "59 training images but 60 fMRI rows" in line


def test_mask_length_differs_from_vertex_count(data, tmp_path, cache, capsys):
    path = data / MASKS / "lh.prf-visualrois_challenge_space.npy"
    np.save(path, np.load(path)[:-7])
    line = fail_in_process(data, ["roi=V1v"], tmp_path / "out", cache, capsys)
    assert str(path) in line and "vertices" in line


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_responses(bad, data, tmp_path, cache, capsys):
    for hemi in ("lh", "rh"):
        path = data / FMRI / f"{hemi}_training_fmri.npy"
        np.save(path, np.full_like(np.load(path), bad))
    line = fail_in_process(data, ["roi=V1v"], tmp_path / "out", cache, capsys)
    assert "NaN/inf" in line and "V1v" in line


def test_truncated_image(data, tmp_path, cache, capsys):
    image = sorted((data / IMAGES).iterdir())[3]
    image.write_bytes(image.read_bytes()[:100])
    line = fail_in_process(data, [], tmp_path / "out", cache, capsys)
    assert image.name in line and "image" in line


class _Evil:
    """Unpickling this would run a shell command that leaves a file behind."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_mapping_that_is_not_a_dict_of_ints_to_str(data, tmp_path, cache, capsys):
    marker = tmp_path / "pwned"
    mapping = data / MASKS / "mapping_floc-faces.npy"
    np.save(mapping, np.array({2: _Evil(marker)}, dtype=object), allow_pickle=True)
    line = fail_in_process(data, ["roi=FFA-1"], tmp_path / "out", cache, capsys)
    assert str(mapping) in line and not marker.exists()
    with mapping.open("wb") as fp:  # a plain pickle of a list: not a dict
        pickle.dump([1, 2], fp)
    line = fail_in_process(data, ["roi=FFA-1"], tmp_path / "out2", cache, capsys)
    assert str(mapping) in line


# ------------------------------------------------------------------ impossible settings
def test_colors_with_too_few_coloured_images(synthetic_root, tmp_path, cache, capsys):
    extra = ["distribution=colors", "data.n_images=5"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "red=1, blue=0" in line and "distribution.threshold" in line


def test_more_folds_than_images(synthetic_root, tmp_path, cache, capsys):
    extra = ["evaluation.k_folds=100", "data.n_images=20"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "evaluation.k_folds=100" in line and "20 images" in line


def test_folds_that_do_not_exist(synthetic_root, tmp_path, cache, capsys):
    extra = ["evaluation.folds=[0,5]"]  # FAST has k_folds=2
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "folds [5] do not exist" in line and "0..1" in line


def test_balanced_without_mid_range_pairs(synthetic_root, tmp_path, cache, capsys):
    extra = ["distribution=balanced", "distribution.n_per_image=2", "distribution.mid_band=1e-9"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "mid-range" in line and "mid_band" in line


def test_argument_the_trainer_rejects(synthetic_root, tmp_path, cache, capsys):
    line = fail_in_process(synthetic_root, ["+trainer.foo=1"], tmp_path / "out", cache, capsys)
    # Hydra's words: the target, the argument it rejects and the config key
    assert "Error in call to target" in line and "Trainer" in line and "'foo'" in line
    assert "full_key: trainer" in line


def test_embeddings_file_with_wrong_row_count(synthetic_root, tmp_path, cache, capsys):
    path = tmp_path / "emb.npy"
    np.save(path, np.ones((7, 4), np.float32))
    extra = ["embeddings=file", f"embeddings.path={path}"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert str(path) in line and "7 rows" in line and "60 images" in line


def test_no_pretrained_weights_offline(synthetic_root, tmp_path, cache, capsys, monkeypatch):
    from huggingface_hub import constants

    from fmri_rdm.embeddings import weights

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty_hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    weights.load_open_clip.cache_clear()
    extra = ["embeddings.model_name=ViT-B-32", "embeddings.pretrained=openai"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "offline" in line and "embeddings.pretrained=null" in line


def test_target_that_does_not_import(synthetic_root, tmp_path, cache, capsys):
    extra = ["trainer._target_=pytorch_lightning.NoSuchTrainer"]
    line = fail_in_process(synthetic_root, extra, tmp_path / "out", cache, capsys)
    assert "pytorch_lightning.NoSuchTrainer" in line and "trainer" in line
