# Two commands for a newcomer: `make demo` and `make test`. Everything else is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Pinned versions of every dependency, extras included (`make lock` writes it; rerun after any change to
# the dependencies in pyproject.toml). Installs use it as constraints; pyproject.toml keeps ranges.
LOCK   := requirements.lock
PIP_INSTALL := $(BIN)/pip install --quiet --constraint $(LOCK)
UV_COMPILE  := $(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
               --custom-compile-command 'make lock' --quiet
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install install-dev demo test test-fast test-min lint lint-deploy lock lock-check format bench bench-fleet \
        container-test clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "outagesync needs Python >= 3.11 (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make demo`: with the telemetry extras (traces, Sentry, Rollbar: docs/observability.md)
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP_INSTALL) -e '.[telemetry]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/outagesync sync --sandbox

lint: install-dev lint-deploy lock-check
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

# The deployment files: Dockerfile (hadolint), compose.yaml (the Compose specification's schema), the CI
# workflow (GitHub's workflow schema, then actionlint).
lint-deploy: install-dev
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml
	$(BIN)/actionlint .github/workflows/ci.yml

# requirements.lock from pyproject.toml (every extra, every supported Python and platform). Versions already
# in the lock are kept unless the ranges exclude them; `make lock UPGRADE=1` moves everything to the newest.
lock: install-dev
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) -o $(LOCK)

# Fails when pyproject.toml changed without `make lock` (resolving again with the lock's versions preferred
# must give the same file).
lock-check: install-dev
	@cp $(LOCK) $(VENV)/lock-check.txt
	@$(UV_COMPILE) -o $(VENV)/lock-check.txt
	@diff -u $(LOCK) $(VENV)/lock-check.txt >/dev/null || { diff -u $(LOCK) $(VENV)/lock-check.txt | head -40; \
	  echo "error: $(LOCK) is out of date with pyproject.toml: run \`make lock\` and commit it"; exit 1; }

format: install-dev
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

# Datadog's test agent (tests/e2e/test_datadog_agent.py), in a venv of its own: it pins an older
# opentelemetry-proto than the exporter of outagesync[otel] needs.
DDAGENT := $(VENV)/ddagent/bin/ddapm-test-agent
$(DDAGENT): | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/ddagent
	$(VENV)/ddagent/bin/pip install --quiet 'ddapm-test-agent>=1.20'

# Branch coverage of the whole suite, subprocesses included (pyproject: [tool.coverage]), gated by fail_under.
# --dist loadgroup: the browser tests (xdist_group "browser") share one worker, one browser, one server.
test: lint $(DDAGENT)
	@rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -n auto --dist loadgroup
	@$(BIN)/coverage combine -q
	$(BIN)/coverage report
	@if $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
	  $(MAKE) --no-print-directory test-min; \
	else echo "test-min: the lowest versions are checked on Python 3.11, the lowest supported one"; fi

# The declared minimum versions: a separate venv resolved with the lowest version each direct dependency
# allows (uv --resolution lowest-direct; the extras that the product uses, not lint/bench), running a smoke
# subset that goes through every dependency (CLI, REST API, storage, client, config, SSM). Deprecation
# warnings of old versions are not failures there; anything else is. On Python 3.11 only (in `make test`):
# the oldest releases have no wheels for newer Pythons.
MIN_VENV  := .venv-min
SSM_TESTS := tests/e2e/test_ssm_secrets.py
MIN_TESTS := tests/unit/test_config.py tests/unit/test_error_tables.py tests/e2e/test_cli_sync.py \
             tests/e2e/test_api_sync.py tests/e2e/test_cli_hardening.py \
             $(SSM_TESTS)::test_an_api_key_read_from_ssm_gets_an_accepted_post_and_is_shown_nowhere \
             $(SSM_TESTS)::test_a_missing_parameter_exits_2_naming_it
$(MIN_VENV)/.installed: pyproject.toml | $(VENV)/.installed-dev
	rm -rf $(MIN_VENV)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(MIN_VENV)
	$(BIN)/uv pip install --quiet --python $(MIN_VENV)/bin/python --resolution lowest-direct \
	  -e ".[$$($(BIN)/python .ci/extras.py --except lint,bench,dev)]"
	@touch $@

test-min: $(MIN_VENV)/.installed
	$(MIN_VENV)/bin/python -m pytest $(MIN_TESTS) -q -p no:cacheprovider -n 2 \
	  -W ignore::DeprecationWarning -W ignore::PendingDeprecationWarning

# Builds the image with podman and runs it (see docs/deploy.md); installs podman if it is missing. Not in
# `make test`: it needs root and takes minutes.
container-test:
	bash .ci/container-test

test-fast: install-dev
	$(BIN)/pytest tests/unit -q

bench: install-dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_sandbox.py --json benchmarks/results/sandbox.json
	$(BIN)/python benchmarks/bench_api.py --json benchmarks/results/api.json
	$(BIN)/python benchmarks/bench_startup.py --json benchmarks/results/startup.json
	$(BIN)/python benchmarks/bench_ui.py
	$(MAKE) --no-print-directory bench-fleet

# The queue (issue 15, docs/scale-out.md): 10,000 sites drained by 1, 2 and 4 workers, and a chaos run; needs
# PostgreSQL on 127.0.0.1:5432 (OUTAGESYNC_TEST_POSTGRES_URL). About 8 minutes on 2 cores.
bench-fleet: install-dev
	$(BIN)/python benchmarks/bench_fleet.py --json benchmarks/results/fleet.json --plot docs/performance-fleet.png

clean:
	rm -rf $(VENV) $(MIN_VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage .coverage.*
