# On a fresh clone, `make demo` and `make test` do all the set-up (they depend on `install`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
THINGSVISION := thingsvision==2.7.3

.PHONY: install demo test test-slow lint format bench docs clean

install: $(STAMP)

# Re-runs only when pyproject.toml changes. thingsvision pins torchvision 0.15 / numpy<2 /
# tensorflow, so it goes in without its dependencies (its real runtime needs are in pyproject).
# (The grep drops this machine's pip notes about absent local index folders, nothing else.)
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	set -o pipefail; $(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v "is ignored: it is neither" || true; }
	set -o pipefail; $(PY) -m pip install -q -e '.[dev]' 2>&1 | { grep -v "is ignored: it is neither" || true; }
	set -o pipefail; $(PY) -m pip install -q --no-deps $(THINGSVISION) 2>&1 | { grep -v "is ignored: it is neither" || true; }
	touch $(STAMP)

demo: install
	$(PY) train.py experiment=demo
	@echo "next: source $(VENV)/bin/activate (once per shell), then e.g. fmri-rdm train --help"

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

test-slow: install
	$(VENV)/bin/pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench.run

# The docs site (Sphinx + MyST, docs/conf.py); any warning (a broken link or reference) fails.
docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) outputs multirun .cache .pytest_cache .mypy_cache .ruff_cache docs/_build build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
