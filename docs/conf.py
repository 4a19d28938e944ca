"""Sphinx configuration of the docs site (`make docs`: warnings are errors).

Sphinx because the field's libraries document themselves with it (rsatoolbox, himalaya and
Net2Brain on Read the Docs), so users know its search and API pages; the pages stay Markdown
through MyST, and the API reference is generated from the docstrings by autodoc.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

project = "fmri-rdm"
author = "the fmri-rdm developers"
copyright = "2026, the fmri-rdm developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "measurements", "**/README.md"]
myst_heading_anchors = 3  # [text](#a-section-title) links within and across pages
myst_enable_extensions = ["colon_fence"]

html_theme = "furo"
html_title = "fmri-rdm"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_typehints = "description"
autodoc_member_order = "bysource"
