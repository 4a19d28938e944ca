"""Every fold writes into the run's one `checkpoints/` folder: Lightning's `Checkpoint directory
... exists and is not empty` must not fire for the other folds' files, only for a file the
fold would overwrite. `setup()` calls this hook (name-mangled in Lightning's ModelCheckpoint)."""

from __future__ import annotations

import warnings
from pathlib import Path

from fmri_rdm.models.pair_network.callbacks import FoldCheckpoint


def _warnings(callback: FoldCheckpoint, folder: Path) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        callback._ModelCheckpoint__warn_if_dir_not_empty(folder)  # type: ignore[attr-defined]
    return [str(w.message) for w in caught]


def test_other_folds_files_do_not_warn_own_file_does(tmp_path: Path) -> None:
    (tmp_path / "fold0-best.ckpt").write_text("x")
    (tmp_path / "fold0-last.ckpt").write_text("x")
    second = FoldCheckpoint(dirpath=tmp_path, filename="fold1-best", save_top_k=1)
    assert _warnings(second, tmp_path) == []
    again = FoldCheckpoint(dirpath=tmp_path, filename="fold0-best", save_top_k=1)
    assert _warnings(again, tmp_path) == [
        f"Checkpoint {tmp_path / 'fold0-best.ckpt'} exists and will be overwritten."
    ]


def test_lightning_still_calls_the_hook_by_that_name() -> None:
    """A Lightning upgrade that renames the private hook would bring the warning back."""
    import inspect

    from pytorch_lightning.callbacks import ModelCheckpoint

    assert "__warn_if_dir_not_empty" in inspect.getsource(ModelCheckpoint.setup)
