"""notebooks/quickstart.ipynb: stored without outputs (nbstripout's convention), and executed top
to bottom in a scratch folder (slow: about 3 minutes on 2 cores with a cold cache)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"cell {index} holds outputs: clear them (Jupyter: Edit > Clear outputs of all "
                "cells, or nbstripout) before committing"
            )
        assert not cell.get("attachments"), f"cell {index} holds attachments"
    assert "widgets" not in nb.metadata


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(tmp_path, cache_dir, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("FMRI_RDM_CACHE", str(cache_dir))  # the kernel inherits the environment
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows figures
    monkeypatch.delenv("FMRI_RDM_ROOT", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    finally:  # the executed notebook, to look at when a cell failed
        nbformat.write(nb, tmp_path / "executed.ipynb")
    errors = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
        if out.output_type == "error"
    ]  # fmt: skip
    assert not errors
    images = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]  # fmt: skip
    # rsa's 2 figures, siamese's, the sweep's, the group's, the new images' RDM
    assert len(images) >= 6
    assert len(list((tmp_path / "outputs" / "demo").glob("*/*/metrics.json"))) == 11
    work = tmp_path / "outputs" / "quickstart"  # beside the runs, in the ignored outputs/
    assert (work / "group" / "comparison_group.csv").is_file()
    assert (work / "new_images").is_dir()
    # nothing else in the notebook's folder (a clone's notebooks/ keeps no untracked files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed.ipynb", "outputs"]
    assert os.environ["FMRI_RDM_CACHE"] == str(cache_dir)


def test_the_sweep_says_why_it_stays_near_zero_training_and_files_go_to_outputs():
    """A first figure with the trained mlp below the zero-training line says why in its cell;
    what the notebook writes goes beside its runs (outputs/, ignored), not into notebooks/."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = [cell.source for cell in nb.cells]
    sweep = next(k for k, s in enumerate(text) if s.startswith("## 4. A small sweep"))
    assert "too little" in text[sweep] and "zero-training line" in text[sweep]
    assert "zero-training line" in text[sweep + 1]  # printed beside the scores
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'WORK = Path("outputs") / "quickstart"' in code
    assert code.count("out=WORK /") == 3 and 'new = WORK / "new_images"' in code
    assert '"comparisons/' not in code and 'generate_folder(\n    WORK / "candidates"' in code
