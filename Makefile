# Two commands for a newcomer: `make demo` and `make test`. Everything else is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install install-dev demo test test-fast lint format bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "outagesync needs Python >= 3.11 (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make demo`: with the telemetry extras (traces, Sentry, Rollbar: docs/observability.md)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[telemetry]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/outagesync sync --sandbox

lint: install-dev
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

# Branch coverage of the whole suite, subprocesses included (pyproject: [tool.coverage]), gated by fail_under.
test: lint
	@rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -n auto
	@$(BIN)/coverage combine -q
	$(BIN)/coverage report

test-fast: install-dev
	$(BIN)/pytest tests/unit -q

bench: install-dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_sandbox.py --json benchmarks/results/sandbox.json
	$(BIN)/python benchmarks/bench_api.py --json benchmarks/results/api.json

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage .coverage.*
