# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export ATHENA_CATALOG_HOME ?= $(CURDIR)/.athena_catalog
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test ui install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The instance config lives in the repo; Dagster reads it from $DAGSTER_HOME.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

demo: install $(DAGSTER_HOME)/dagster.yaml
	ATHENA_CATALOG_ENGINE=local $(BIN)/athena-catalog demo

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install-dev
	$(BIN)/python benchmarks/crawl.py

clean:
	rm -rf $(VENV) .athena_catalog .dagster_home
