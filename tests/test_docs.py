"""Every command shown in README.md and docs/*.md is checked: `train` commands compose with
the packaged configs (a sweep's first values), the other tools' arguments parse with their own
parsers, `make` targets exist; any other command must say it needs real data or a GPU. (The demo
runs themselves are run by tests/test_wheel.py and the notebook test.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import fmri_rdm as fr

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = ("needs real data", "needs a gpu", "on a gpu machine")


def commands() -> list[tuple[str, str]]:
    """(page, command line) of every shell code block line, continuations joined."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if line.strip() and not line.strip().startswith("#"):
                    found.append((page.name, line.strip()))
    return found


def first_values(args: list[str]) -> list[str]:
    """A sweep's overrides with their first value (`a=1,2` -> `a=1`), `-m` dropped."""
    out = []
    for arg in args:
        if arg in ("-m", "--multirun"):
            continue
        key, sep, value = arg.partition("=")
        if sep and "," in value and not value.startswith("["):
            value = value.split(",")[0]
        out.append(f"{key}={value}" if sep else arg)
    return out


def check(command: str, marked: bool) -> None:
    words = shlex.split(command, comments=True)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words = words[1:]  # VAR=value prefixes
    tool, args = words[0], words[1:]
    if tool == "python" and args[:1] == ["train.py"]:
        tool, args = "fmri-rdm", ["train", *args[1:]]
    if tool == "python" and args[:1] == ["predict.py"]:
        tool, args = "fmri-rdm", ["predict", *args[1:]]
    if tool == "python" and args[:2] == ["-m", "fmri_rdm.compare"]:
        tool, args = "fmri-rdm", ["compare", *args[2:]]
    if tool == "python" and args[:2] == ["-m", "fmri_rdm.export"]:
        tool, args = "fmri-rdm", ["export", *args[2:]]
    if tool == "python" and args[:2] == ["-m", "fmri_rdm.data"]:
        tool, args = "fmri-rdm", ["data", *args[2:]]
    if tool == "fmri-rdm":
        sub, rest = args[0], args[1:]
        if sub == "train":
            overrides = [a for a in first_values(rest) if not a.startswith("hydra")]
            fr.config(*overrides)  # raises ConfigError for a wrong key, option or value
        elif sub in ("compare", "export"):
            from fmri_rdm.analysis.compare import _parser as compare_parser
            from fmri_rdm.entry.export_cli import _parser as export_parser

            (compare_parser if sub == "compare" else export_parser)().parse_args(rest)
        elif sub == "predict":
            from fmri_rdm.entry.predict import parse_args

            parse_args(rest)
        else:
            assert sub == "data" and rest[1:] in ([], ["--check"]), command  # the folder
    elif tool == "make":
        makefile = (ROOT / "Makefile").read_text()
        assert all(re.search(rf"^{t}:", makefile, re.M) for t in args), command
    elif tool == "python" and args[:2] == ["-m", "fmri_rdm.data.synthetic_time"]:
        from fmri_rdm.data.synthetic_time import parser

        parser().parse_args(args[2:])
    elif tool == "python" and args[:2] == ["-m", "fmri_rdm.data.synthetic_folder"]:
        from fmri_rdm.data.synthetic_folder import parser

        parser().parse_args(args[2:])
    elif tool == "python" and args[:2] == ["-m", "bench.full_pipeline"]:
        assert (ROOT / "bench" / "full_pipeline.py").is_file()
    else:
        assert marked or tool in ("export", "git") or words == ["source", ".venv/bin/activate"], (
            f"unchecked command: {command}"
        )


@pytest.mark.parametrize(("page", "command"), commands())
def test_documented_command_is_valid(page, command):
    check(command, marked=any(mark in command.lower() for mark in MARKED))


@pytest.mark.parametrize("page", ["README.md", "getting-started.md"])
def test_the_venv_is_activated_before_the_first_command(page):
    """After `make demo` the package lives in .venv only: the first command that needs it
    comes after `source .venv/bin/activate` (the Makefile's demo says so too)."""
    shown = [c for p, c in commands() if p == page and not c.startswith(("make ", "git "))]
    assert shlex.split(shown[0], comments=True) == ["source", ".venv/bin/activate"], shown[:2]
    assert "next: source $(VENV)/bin/activate" in (ROOT / "Makefile").read_text()
