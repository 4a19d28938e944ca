"""`python -m fmri_rdm.compare SWEEP > file`: the full table in 100 columns, split into
tables when it is wider, no cell cut and no column (ceiling, times) left out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import sweep_metrics, write_run

SRC = Path(__file__).resolve().parents[1] / "src"


def test_piped_output_has_uncut_cells(tmp_path: Path) -> None:
    sweep = tmp_path / "multirun" / "2026-11-26" / "10-00-00-123"
    for layers in range(3):
        overrides = [f"model.hidden_layers={layers}", f"model.some_long_setting_name=v{layers}"]
        write_run(sweep / str(layers), overrides, sweep_metrics(layers))
    env = dict(
        os.environ, COLUMNS="80", PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    )
    env.pop("FORCE_COLOR", None)
    table = tmp_path / "table.txt"
    with table.open("w") as out:  # stdout is a file, as with `> table.txt`
        subprocess.run(
            [sys.executable, "-m", "fmri_rdm.analysis.compare", str(sweep)],
            stdout=out,
            env=env,
            check=True,
            timeout=120,
        )
    text = table.read_text()
    assert "…" not in text
    lines = [line for line in text.splitlines() if not line.startswith("wrote ")]
    assert 80 < max(len(line) for line in lines) <= 100
    assert "ceiling" in text and "seconds" in text and "encoding" in text
    for layers in range(3):
        m = sweep_metrics(layers)["test"]
        for name in ("pearson", "spearman", "mse"):
            assert f"{m[name]['mean']:.3f}" in text
        assert f"v{layers}" in text
    assert "\x1b[" not in text  # no colour codes in a file
