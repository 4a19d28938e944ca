"""The V4 recipe of docs/datasets.md, executed as written on a miniature of the repository's
files: images at the top of the zip or in a folder (its sessions differ), then checked."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fmri_rdm.cli import main as cli_main

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def _v4_recipe() -> str:
    text = DOC.read_text()
    start = text.index("**Macaque V4**")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


@pytest.mark.parametrize("inside", ["", "images_190923/"])
def test_v4_recipe_runs_on_either_zip_layout(tmp_path, monkeypatch, capsys, inside):
    raw = tmp_path / "V4_compact_models" / "data_V4_responses"
    (raw / "images").mkdir(parents=True)
    (raw / "responses_repeat_averaged").mkdir()
    with zipfile.ZipFile(raw / "images" / "images_190923.zip", "w") as z:
        for k in range(1, 7):
            png = tmp_path / f"image{k:04d}.png"
            Image.new("RGB", (8, 8), (k * 30, 0, 0)).save(png)
            z.write(png, f"{inside}image{k:04d}.png")
    rng = np.random.default_rng(0)
    np.save(raw / "responses_repeat_averaged" / "responses_190923.npy", rng.random((4, 6)))
    monkeypatch.chdir(tmp_path)
    exec(compile(_v4_recipe(), str(DOC), "exec"), {})
    assert cli_main(["data", "v4_cowley", "--check"]) == 0
    assert cli_main(["data", "v4_cowley"]) == 0
    out = capsys.readouterr().out
    assert "monkey-190923: 6 stimuli" in out and "V4: responses, 4 units" in out
