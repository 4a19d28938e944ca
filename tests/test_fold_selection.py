"""Which folds a run trains (`selected_folds`), how the images are cut into them (`make_folds`),
and which fold `ckpt_path=` resumes (`resume_fold`): unit tests on small configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import DictConfig, OmegaConf

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.models import learner_class
from fmri_rdm.pipeline.selection import make_folds, resume_fold, selected_folds
from fmri_rdm.pipeline.settings import RunSettings
from fmri_rdm.rsa.splits import image_disjoint_folds, image_disjoint_split
from tests.helpers import compose_config


def _evaluation(k_folds: int, folds: list[int] | None = None, test_size: float = 0.2):
    return OmegaConf.create({"k_folds": k_folds, "folds": folds, "test_size": test_size})


# ------------------------------------------------------------------------------ selected_folds
@pytest.mark.parametrize(
    ("k_folds", "folds", "expected"),
    [(5, None, [0, 1, 2, 3, 4]), (5, [3, 1], [3, 1]), (1, None, [0])],
    ids=["all", "chosen_in_order", "one_split"],
)
def test_selected_folds(k_folds: int, folds: list[int] | None, expected: list[int]) -> None:
    assert selected_folds(_evaluation(k_folds, folds)) == expected


@pytest.mark.parametrize(
    ("folds", "fragments"),
    [
        ([0, 5], ["folds [5] do not exist", "k_folds=3", "0..2"]),
        ([-1], ["folds [-1] do not exist"]),
        ([], ["no fold selected"]),
    ],
)
def test_selected_folds_errors(folds: list[int], fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        selected_folds(_evaluation(3, folds))
    assert all(f in str(err.value) for f in fragments), err.value


# ---------------------------------------------------------------------------------- make_folds
def test_make_folds_k_folds_are_the_image_disjoint_folds() -> None:
    folds = make_folds(30, _evaluation(5), seed=7)
    expected = image_disjoint_folds(30, 5, seed=7)
    assert len(folds) == 5
    for (train, test), (ref_train, ref_test) in zip(folds, expected, strict=True):
        np.testing.assert_array_equal(train, ref_train)
        np.testing.assert_array_equal(test, ref_test)
    tests = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(tests, np.arange(30))  # every image tested exactly once


def test_make_folds_one_fold_is_one_split_with_test_size() -> None:
    ((train, test),) = make_folds(30, _evaluation(1, test_size=0.3), seed=7)
    ref_train, ref_test = image_disjoint_split(30, 0.3, seed=7)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)
    assert test.size == 9 and np.intersect1d(train, test).size == 0


def test_make_folds_largest_possible_k() -> None:
    folds = make_folds(10, _evaluation(5), seed=0)  # 2 test images a fold: one test pair each
    assert [test.size for _, test in folds] == [2] * 5


@pytest.mark.parametrize("k", [0, -1, 6])
def test_make_folds_impossible_k(k: int) -> None:
    with pytest.raises(ConfigError) as err:
        make_folds(10, _evaluation(k), seed=0)
    message = str(err.value)
    assert f"k_folds={k} is impossible with 10 images" in message and "2..5" in message


# --------------------------------------------------------------------------------- resume_fold
@pytest.fixture(scope="module")
def configs() -> dict[str, DictConfig]:
    """Composed siamese (resumable) and svm (not) configs, composed once for the module."""
    extra = ["experiment=demo", "paths.output_dir=unused"]
    return {m: compose_config([*extra, f"model={m}"]) for m in ("siamese", "svm")}


def _resume(cfg: DictConfig, selected: list[int]) -> tuple[int, Path] | None:
    """`resume_fold` as the run calls it: typed settings and the model's learner class."""
    return resume_fold(RunSettings.from_config(cfg), learner_class(cfg.model), selected)


def _with_ckpt(cfg: DictConfig, ckpt: object) -> DictConfig:
    cfg = cfg.copy()
    cfg.ckpt_path = None if ckpt is None else str(ckpt)
    return cfg


def _checkpoint(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"not read by resume_fold")
    return path


@pytest.mark.parametrize("ckpt", [None, ""])
def test_no_ckpt_path_resumes_nothing(configs, ckpt) -> None:
    assert _resume(_with_ckpt(configs["siamese"], ckpt), [0, 1]) is None


def test_the_fold_comes_from_the_file_name(configs, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "fold2-last.ckpt")
    assert _resume(_with_ckpt(configs["siamese"], path), [0, 1, 2]) == (2, path)


def test_an_unnamed_checkpoint_resumes_the_only_fold(configs, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "last.ckpt")
    assert _resume(_with_ckpt(configs["siamese"], path), [3]) == (3, path)
    with pytest.raises(ConfigError, match="cannot tell which fold"):
        _resume(_with_ckpt(configs["siamese"], path), [0, 3])


def test_home_in_ckpt_path_is_expanded(configs, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = _checkpoint(tmp_path, "fold0-last.ckpt")
    assert _resume(_with_ckpt(configs["siamese"], "~/fold0-last.ckpt"), [0]) == (0, path)


def test_a_fold_the_run_does_not_train(configs, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "fold3-last.ckpt")
    with pytest.raises(ConfigError) as err:
        _resume(_with_ckpt(configs["siamese"], path), [0, 1])
    assert "resumes fold 3" in str(err.value) and "folds [0, 1]" in str(err.value)


def test_a_missing_checkpoint(configs, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        _resume(_with_ckpt(configs["siamese"], tmp_path / "fold0-last.ckpt"), [0])


def test_a_model_without_checkpoints_cannot_resume(configs, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "fold0-last.ckpt")
    with pytest.raises(ConfigError, match="model=svm has no checkpoints"):
        _resume(_with_ckpt(configs["svm"], path), [0])
