# `make demo` and `make test` work from a fresh clone with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers unit pg-test bench clean lock schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/checkin-bot demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The import-linter contracts in pyproject.toml: layers, a pure sandbox, a pure coaching package.
layers: $(STAMP)
	$(BIN)/lint-imports

# The whole suite on SQLite, then the storage and end-to-end tests again on PostgreSQL, each on
# PYTEST_WORKERS processes (pytest-xdist; `auto` is one per core, `make test PYTEST_WORKERS=0` runs
# in one process). loadfile sends each test file to one worker, so a module's fixtures (the demo's
# six-week story) run once. (loadgroup would be finer, but pytest-xdist 3.8 cannot tag the groups
# on pytest 9.2: it still writes the node id's old attribute.) The PostgreSQL run goes test by test.
export PYTEST_WORKERS ?= auto
test: $(STAMP) lint typecheck layers
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile
	bash scripts/test-postgres.sh

# Pin every runtime dependency (with hashes, for any platform) for reproducible installs; the
# Dockerfile installs from it. Run after changing `dependencies` in pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet -o requirements.lock

# The admin config's JSON Schema for editors (checkins.example.toml's first line points at it).
schema: $(STAMP)
	$(BIN)/checkin-bot config schema > docs/checkins.schema.json

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
