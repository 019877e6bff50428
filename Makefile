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
DAGSTER_PORT ?= 3000
FEAST_UI_PORT ?= 8888
DOCS_PORT ?= 8080

.PHONY: help install lock sample features materialize train score spark-pipeline monitor rollback orchestrate feast-ui docs pipeline serve demo test test-fast lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The locks per role, each pinned from requirements/<role>.in and nested at the same versions:
# runtime (the API image) ⊂ pipeline (the pipeline image) ⊂ dev (tests, lint, browser).
LOCK_ROLES := runtime pipeline dev
LOCKS := $(foreach role,$(LOCK_ROLES),requirements/$(role).txt)
LOCK_VENVS ?= /tmp/lock-venvs

install: $(VENV)/.installed ## create .venv with the three pinned locks: runtime, pipeline, dev (fast when done)

# pip refuses the three together if they disagree on a version; PIP_CONSTRAINT pins build tools
$(VENV)/.installed: $(LOCKS) build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=build-constraints.txt $(BIN)/pip install --quiet --disable-pip-version-check $(addprefix -r ,$(LOCKS))
	touch $@

# dev first, keeping its current pins (UPGRADE=1: the newest versions the .in files allow), then
# pipeline and runtime, each in a venv of its own, constrained by dev.txt so the three agree
lock: ## re-pin requirements/{runtime,pipeline,dev}.txt from their .in files (UPGRADE=1: newest)
	@set -euo pipefail; for role in dev pipeline runtime; do \
	  venv=$(LOCK_VENVS)/$$role; rm -rf $$venv; $(PYTHON) -m venv $$venv; \
	  pins=$$([ "$$role" = dev ] && [ -n "$(UPGRADE)" ] || echo "-c requirements/dev.txt"); \
	  echo "make lock: requirements/$$role.in → requirements/$$role.txt"; \
	  PIP_CONSTRAINT=build-constraints.txt $$venv/bin/pip install --quiet --disable-pip-version-check \
	    -r requirements/$$role.in $$pins; \
	  { echo "# The $$role lock, generated from requirements/$$role.in by \`make lock\` (Python 3.11)."; \
	    echo "# Edit the .in file, then run \`make lock\`; \`make install\` installs all three locks."; \
	    $$venv/bin/pip freeze; } > requirements/$$role.txt.new; \
	  mv requirements/$$role.txt.new requirements/$$role.txt; \
	done

sample: install ## write the sample log to data/raw unless data/raw holds other data
	@if [ ! -f data/raw/transactions.parquet ] || { [ -f data/raw/.sample-args ] && \
	    [ "$$(cat data/raw/.sample-args)" != "$(CUSTOMERS) $(SEED)" ]; }; then \
	  $(BIN)/python -m ingest.generate --customers $(CUSTOMERS) --seed $(SEED) --out data/raw && \
	  echo "$(CUSTOMERS) $(SEED)" > data/raw/.sample-args; \
	else echo "data/raw already holds data; keeping it"; fi

features: install ## dbt build: staging, features, labels and their tests
	$(BIN)/dbt build

# `feast apply` prints "No project found in the repository. Using project name repeat_purchase
# defined in feature_store.yaml" on every run (Feast 0.67 looks for a feast.Project object first):
# expected, the yaml's `project:` is the one place the name lives, so none is defined in Python.
materialize: install ## feast apply + load the latest features into the online store
	$(BIN)/feast -c feature_repo apply
	$(BIN)/python -m feature_repo.materialize

train: install ## train, compare and promote a model to models/current
	$(BIN)/python -m modeling.train

score: install ## score every customer of the latest features → data/scores (SCORES_DIR)
	$(BIN)/python -m scoring

spark-pipeline: install ## the product on Spark: MASTER=spark://host:7077 RAW=… OUT=… REDIS=host:port START=YYYY-MM-DD
	$(BIN)/python -m spark_pipeline --master $(MASTER) --raw $(RAW) --out $(OUT) --redis $(REDIS) --start $(START)

monitor: install ## realized quality of past scores, drift of the latest features → data/monitoring (exit 3: drift)
	$(BIN)/python -m monitoring

rollback: install ## put back the model the last promotion replaced (API_URL=http://host:port also reloads the API)
	$(BIN)/python -m modeling.rollback $(if $(API_URL),--api-url $(API_URL))

orchestrate: install ## the pipeline as Dagster assets, daily schedule, raw-file sensor: UI on 127.0.0.1:$(DAGSTER_PORT)
	$(BIN)/python -m orchestration --port $(DAGSTER_PORT)

feast-ui: install ## browse the Feast registry (entity, feature views, service) on 127.0.0.1:$(FEAST_UI_PORT)
	@[ -f data/registry.db ] || { echo "no Feast registry yet (data/registry.db): run make materialize"; exit 1; }
	$(BIN)/feast -c feature_repo ui --host 127.0.0.1 --port $(FEAST_UI_PORT)

# dbt docs' page is self-contained (no CDN); dbt_project.yml turns off its usage tracker, which
# would otherwise load Snowplow's sp.js from cloudfront.net.
docs: install ## dbt docs: lineage raw → marts → feature service, model, API, web app on 127.0.0.1:$(DOCS_PORT)
	$(BIN)/dbt docs generate
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

pipeline: sample features materialize train score ## the whole pipeline on data/raw, every customer scored

serve: install ## serve the API and the web form on $(PORT) (2 workers, one socket each)
	API_HOST=$(HOST) API_PORT=$(PORT) API_WORKERS=2 $(BIN)/python -m api

demo: install pipeline serve ## install, run the pipeline on the sample, serve at :8000

test: lint ## lint + the whole test suite (what CI runs)
	$(BIN)/python -m pytest

# The fast lane: unit, contract and data tests (dbt builds of small samples, Feast on SQLite
# and Redis). Left to `make test`: training runs, API servers, the browser, Spark, the CLI
# --help smoke test, the whole-pipeline run, and the extra dbt builds of test_nothing_lost (a
# minute on its own), test_policies and the customer-id build (each slower than a unit test).
FAST_TESTS := tests/ingest tests/dbt tests/feature_store tests/test_no_secrets.py \
  tests/modeling/test_bgnbd.py tests/modeling/test_treeshap.py \
  tests/modeling/test_artifact_safety.py tests/modeling/test_crossval.py
FAST_SKIP := tests/dbt/test_nothing_lost.py tests/dbt/test_policies.py \
  tests/ingest/test_customer_ids.py::test_dbt_build_stores_and_rejects_ids_as_python_does \
  tests/modeling/test_crossval.py::test_cross_validation_in_metrics_follows_the_rule \
  tests/modeling/test_crossval.py::test_the_model_chosen_has_the_best_cv_fold_mean

test-fast: install ## unit, contract and data tests only (no lint; about 2 minutes)
	$(BIN)/python -m pytest -q -m "not slow" $(FAST_TESTS) $(addprefix --deselect ,$(FAST_SKIP))

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
	  data/*.duckdb data/*.db data/materialized_* data/scores data/monitoring data/serve_log \
	  data/dagster models target logs
