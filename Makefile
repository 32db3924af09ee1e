# PersonaForge developer entry points. Everything installs into .venv at the repo root.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: demo test lint install clean bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	@$(BIN)/personaforge make-video examples/hello --no-publish --quiet

test: $(STAMP)
	@scripts/ensure-test-tools
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check personaforge tests bench
	$(BIN)/ruff format --check personaforge tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/render_bench.py
	$(BIN)/python bench/estimate_bench.py

clean:
	rm -rf $(VENV) .tools examples/*/build examples/*/published
