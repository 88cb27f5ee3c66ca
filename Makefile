# Two commands on a fresh machine:
#   make demo   - real `pulumi up` of the root stack against the local PolarDB emulator
#   make test   - lint, type-check, and every test (unit, contract, integration, end-to-end)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit e2e pulumi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

pulumi:
	@scripts/install-pulumi

demo: $(STAMP)
	PULUMI_BIN="$$(scripts/install-pulumi | tail -n1)" $(PY) scripts/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@# Each example is its own project with its own __main__: one mypy run each.
	for d in examples/*/; do $(VENV)/bin/mypy --strict $$d*.py || exit 1; done

# End-to-end tests run in a pytest process of their own, without assertion rewriting:
# after Pulumi's inline-program runtime has run in the process, CPython 3.11.7's
# ast.parse (used by rewriting and by the hypothesis plugin's late imports) can fail
# with "AST constructor recursion depth mismatch".
test: $(STAMP) lint
	$(PY) -m pytest -ra -m "not e2e" $(PYTEST_ARGS)
	PULUMI_BIN="$$(scripts/install-pulumi | tail -n1)" $(PY) -m pytest -ra -m e2e \
		--assert=plain -p no:hypothesispytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest -ra -m "not e2e" $(PYTEST_ARGS)

clean:
	rm -rf .demo .pytest_cache .mypy_cache .ruff_cache
