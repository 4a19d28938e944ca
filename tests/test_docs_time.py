"""docs/time.md's example is executed: its Python block runs as written (in a temporary
folder) and prints the lines the page shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "time.md"


def test_the_executed_example_prints_what_the_page_shows(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    text = PAGE.read_text()
    code, shown = re.findall(r"```python\n(.*?)```\n\n```\n(.*?)```", text, re.S)[0]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "__docs__"})
    assert out.getvalue() == shown
    assert (tmp_path / "time_course.png").is_file() and (tmp_path / "rdm_frames.png").is_file()
