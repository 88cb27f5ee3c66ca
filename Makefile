# Two commands on a fresh machine:
#   make demo   - real `pulumi up` of the root stack against the local PolarDB emulator
#   make test   - lint, type-check, and every test (unit, contract, integration, end-to-end)
#   make check  - lint, type-check, unit and contract tests: the fast loop
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check lint docs dist unit e2e pulumi clean

# pyproject.toml declares version ranges; constraints.txt holds the exact versions we test with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

pulumi:
	@scripts/install-pulumi

demo: $(STAMP)
	PULUMI_BIN="$$(scripts/install-pulumi | tail -n1)" PYTHON=$(PY) scripts/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	@# Each example is its own project with its own __main__: one mypy run each.
	for d in examples/*/; do ls $$d*.py >/dev/null 2>&1 || continue; $(VENV)/bin/mypy --strict $$d*.py || exit 1; done
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir .site
	$(VENV)/bin/shellcheck $$(grep -l '^#!/usr/bin/env bash' scripts/* .ci/run)
	@# actionlint (built from Go modules) checks .github/workflows, their run: steps with shellcheck.
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" "$$(scripts/install-actionlint | tail -n1)" -no-color

# One pytest run: unit, contract, integration and end-to-end tests (the e2e tests run the
# pulumi CLI from scripts/install-pulumi in a shell).
# pytest-xdist: one worker per core. Each test file stays on one worker (--dist loadfile), so a
# file's module-scoped servers (MariaDB-backed emulator, fleet emulator) start once, not once
# per worker. (--dist loadgroup does not group with pytest 9.2 and pytest-xdist 3.8.0.)
XDIST := -n auto --dist loadfile

test: $(STAMP) lint
	PULUMI_BIN="$$(scripts/install-pulumi | tail -n1)" $(PY) -m pytest -ra $(XDIST) $(PYTEST_ARGS)

# The fast loop: lint, types, unit and contract tests (no Pulumi CLI).
check: $(STAMP) lint
	$(PY) -m pytest -ra $(XDIST) tests/unit tests/contract $(PYTEST_ARGS)

# The documentation site (docs/, mkdocs.yml) on http://127.0.0.1:8000
docs: $(STAMP)
	$(VENV)/bin/mkdocs serve

# The release files in $(DIST): the package's sdist and wheel (checked as PyPI will render
# them), the plugin's release tarball for this machine (PyInstaller one-folder bundle), the
# source plugin directory for `pulumi package add`, and the native provider's SDKs: Python
# (wheel, sdist), npm (.tgz), Go module (sdk/go). What each is: scripts/dist.
DIST ?= dist
dist: $(STAMP)
	PYTHON=$(PY) scripts/dist $(DIST)

unit: $(STAMP)
	$(PY) -m pytest -ra -m "not e2e" $(PYTEST_ARGS)

clean:
	rm -rf .demo/root Pulumi.demo.yaml .pytest_cache .mypy_cache .ruff_cache .site
