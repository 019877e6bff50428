# The commands a newcomer needs: `make demo` and `make test`. Everything runs in .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 20000
SEED ?= 42
HOST ?= 0.0.0.0
PORT ?= 8000
TIER ?= s

.PHONY: help install lock sample features materialize train pipeline serve demo test lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## create .venv with the pinned requirements (fast when done)

$(VENV)/.installed: requirements.txt build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=build-constraints.txt $(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

lock: ## re-pin requirements.txt from requirements.in
	$(PYTHON) -m venv /tmp/lock-venv
	PIP_CONSTRAINT=build-constraints.txt /tmp/lock-venv/bin/pip install --quiet -r requirements.in
	{ head -2 requirements.txt; /tmp/lock-venv/bin/pip freeze; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

sample: install ## write the sample log to data/raw unless data/raw holds other data
	@if [ ! -f data/raw/transactions.parquet ] || { [ -f data/raw/.sample-args ] && \
	    [ "$$(cat data/raw/.sample-args)" != "$(CUSTOMERS) $(SEED)" ]; }; then \
	  $(BIN)/python -m ingest.generate --customers $(CUSTOMERS) --seed $(SEED) --out data/raw && \
	  echo "$(CUSTOMERS) $(SEED)" > data/raw/.sample-args; \
	else echo "data/raw already holds data; keeping it"; fi

features: install ## dbt build: staging, features, labels and their tests
	$(BIN)/dbt build

materialize: install ## feast apply + load the latest features into the online store
	$(BIN)/feast -c feature_repo apply
	$(BIN)/python -m feature_repo.materialize

train: install ## train, compare and promote a model to models/current
	$(BIN)/python -m modeling.train

pipeline: sample features materialize train ## the whole pipeline on data/raw

serve: install ## serve the API and the web form on $(PORT) (2 workers, one socket each)
	API_HOST=$(HOST) API_PORT=$(PORT) API_WORKERS=2 $(BIN)/python -m api

demo: install pipeline serve ## install, run the pipeline on the sample, serve at :8000

test: lint ## lint + the whole test suite (what CI runs)
	$(BIN)/python -m pytest

lint: install ## ruff (Python) and sqlfluff (the dbt models)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models

format: install ## ruff format + autofix, sqlfluff fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project/models

bench: install ## benchmarks of tier $(TIER) (s, m, l) → bench/results.md and results.json
	$(BIN)/python -m bench --tier $(TIER)

clean: ## remove generated data, models and dbt output (keeps .venv)
	rm -rf data/raw/*.parquet data/raw/.sample-args data/raw/set_aside data/features/*.parquet \
	  data/*.duckdb data/*.db data/materialized_* models target logs
