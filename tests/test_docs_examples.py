"""The executed examples of the docs: every ```python block of the pages listed runs (in one
namespace per page, in order) and prints exactly the ```text block that follows it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["crossnobis.md"]


def examples(page: str) -> list[tuple[str, str]]:
    """(code, expected output) of each python block followed by a text block."""
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", text, re.S)


@pytest.mark.parametrize("page", PAGES)
def test_examples_print_what_the_page_shows(page: str) -> None:
    blocks = examples(page)
    assert blocks, f"{page} has no python example with its output"
    namespace: dict[str, object] = {}
    for code, expected in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, page, "exec"), namespace)  # the page's own code
        assert out.getvalue().strip() == expected.strip()
