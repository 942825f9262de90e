# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv when missing.
# `make lint` runs ruff and mypy (CI runs it before `make test`).
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

# The demo's dbt project runs with dbt from its own venv (pyproject's `demo` extra, plus .venv's
# DuckDB version): dbt-core 1.11 pins pathspec<0.13, mypy 2.4 needs >=1.0 (demo/dbt_run.py).
DBT_VENV := .venv-dbt
$(DBT_VENV)/.installed: $(VENV)/.installed
	$(PYTHON) -m venv $(DBT_VENV)
	$(BIN)/python -m athena_catalog.demo.dbt_run requirements > $(DBT_VENV)/requirements.txt
	$(DBT_VENV)/bin/pip install --quiet -r $(DBT_VENV)/requirements.txt
	touch $@

# The instance config lives in the repo; Dagster reads it from $DAGSTER_HOME.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

demo: install $(DBT_VENV)/.installed $(DAGSTER_HOME)/dagster.yaml
	ATHENA_CATALOG_ENGINE=local $(BIN)/athena-catalog demo

# `dg dev` loads the project from pyproject.toml's [tool.dg]; `dagster dev -w workspace.yaml`
# serves the same code location. VIRTUAL_ENV tells dg the project's venv is the active one.
ui: install $(DAGSTER_HOME)/dagster.yaml
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg dev

test: install-dev $(DBT_VENV)/.installed
	$(BIN)/python -m pytest -n 2 --dist loadfile

# CI runs it before the tests. mypy reads its settings and files from pyproject.toml.
lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install-dev
	$(BIN)/python benchmarks/crawl.py

clean:
	rm -rf $(VENV) $(DBT_VENV) .athena_catalog .dagster_home
