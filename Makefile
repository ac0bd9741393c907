# The README's commands. Everything runs from .venv, created and filled on first use.
PYTHON ?= python3
# rows of the LA 311 benchmark: make bench N=5000000
N ?= 1000000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# bqemulator, a local BigQuery API for the tests, in its own virtualenv: it loads DuckDB's
# spatial extension, which installs offline only for its own DuckDB 1.5.5 (PyPI wheels)
BQ_VENV := .venv-bq
BQ_STAMP := $(BQ_VENV)/.installed
BQ_PINS := bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 duckdb-extensions==1.5.5 numpy==2.4.6

.PHONY: setup demo test dev lint bench soak fuzz quality-report clean-home bq-emulator dictionary

# uv (from PyPI) installs the same pins several times faster than pip; pip is the fallback when
# uv cannot be had. -qq: pip shows errors only (this machine's pip.conf adds warnings about
# absent local indexes that no one can act on).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --disable-pip-version-check uv || true
	if test -x $(BIN)/uv; then \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"; \
	else \
	  $(BIN)/pip install -qq --disable-pip-version-check -e ".[dev]"; \
	fi
	touch $(STAMP)

$(BQ_STAMP): $(STAMP) Makefile
	test -x $(BQ_VENV)/bin/python || $(PYTHON) -m venv $(BQ_VENV)
	if test -x $(BIN)/uv; then \
	  $(BIN)/uv pip install --quiet --python $(BQ_VENV)/bin/python $(BQ_PINS); \
	else \
	  $(BQ_VENV)/bin/pip install -qq --disable-pip-version-check $(BQ_PINS); \
	fi
	touch $(BQ_STAMP)

bq-emulator: $(BQ_STAMP)

# dbt parses with the connection the default home's runs give it (dbt parses everything again
# when the profile's connection differs, the DuckDB path included), so that a home's first build
# starts from this parse.
PARSE_HOME := $(or $(GOURMAND_HOME),$(realpath .)/.gourmand)

# Both projects use the package dbt_shared/ (`local:` in their packages.yml), which `dbt deps`
# links into their dbt_packages/ (git-ignored; nothing is downloaded). It runs when a project's
# dbt_packages/ is missing (a new clone, `dbt clean`), older than its packages.yml, or holds a
# broken link (the checkout moved); otherwise it is skipped (dbt's start-up, ~3 s).
DBT_DEPS = test -d $(1)/dbt_packages && ! test $(1)/packages.yml -nt $(1)/dbt_packages \
	  && test -z "$$(find -L $(1)/dbt_packages -maxdepth 1 -type l)" \
	  || $(BIN)/dbt deps --project-dir $(1) --profiles-dir profiles --quiet

# The two projects parse side by side (each is one busy core for ~10 s on a slow machine).
setup: $(STAMP)
	export GOURMAND_HOME="$(PARSE_HOME)"; \
	{ $(call DBT_DEPS,dbt_oltp) && \
	  $(BIN)/dbt parse --project-dir dbt_oltp --profiles-dir profiles --quiet; } & oltp=$$!; \
	{ $(call DBT_DEPS,dbt_dwh) && \
	  $(BIN)/dbt parse --project-dir dbt_dwh --profiles-dir profiles --quiet; }; dwh=$$?; \
	wait $$oltp && test $$dwh -eq 0

demo: setup
	$(BIN)/gourmand demo

# Two workers (pytest-xdist): most of a test's time is a dbt or Dagster subprocess starting up or
# waiting on Postgres, so two tests at once keep both cores busy. A file's tests stay together
# in one worker (--dist loadfile): some share a built home through a module fixture. Files go
# out slowest first (tests/conftest.py, SLOWEST_FILES; --no-loadscope-reorder keeps that order).
TEST_WORKERS ?= 2

test: setup $(BQ_STAMP)
	.ci/ensure-chromium
	$(BIN)/python -m pytest -q --durations=25 -n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder -m "not fuzz"

# schemathesis over the read API (FUZZ_READ_CASES, 20,000) and the ingest API
# (FUZZ_INGEST_CASES, 4,000), fixed seeds: tests/fuzz. Not part of test: it runs for minutes.
fuzz: setup
	$(BIN)/python -m pytest -q -s -p no:cacheprovider -m fuzz tests/fuzz

dev: setup
	$(BIN)/gourmand dev

# Run by .ci/run before the tests: the tree stays clean.
lint: $(STAMP)
	$(BIN)/ruff check extract dagster_project expectations tests bench
	$(BIN)/ruff format --check extract dagster_project expectations tests bench
	$(BIN)/mypy
	$(BIN)/sqlfluff lint --config dbt_oltp/.sqlfluff dbt_oltp/models dbt_oltp/tests
	$(BIN)/sqlfluff lint --config dbt_dwh/.sqlfluff dbt_dwh/models dbt_dwh/tests

# docs/data-dictionary.md from the dbt manifests (tests/unit/test_dictionary.py keeps it current)
dictionary: setup
	$(BIN)/python -m extract.reports.dictionary

quality-report: setup
	$(BIN)/gourmand quality-report

# every benchmark runs (each prints its figures); the target fails if any missed a target
bench: setup
	$(BIN)/python -m bench.first_run; f=$$?; \
	$(BIN)/python -m bench.startup; a=$$?; \
	$(BIN)/python -m bench.dagster_events 2>/dev/null; d=$$?; \
	$(BIN)/python -m bench.builds; b=$$?; \
	$(BIN)/python -m bench.socrata --rows $(N); c=$$?; \
	$(BIN)/python -m bench.api; g=$$?; \
	$(BIN)/python -m bench.collector; k=$$?; \
	test $$a -eq 0 && test $$b -eq 0 && test $$c -eq 0 && test $$d -eq 0 && test $$f -eq 0 \
	  && test $$g -eq 0 && test $$k -eq 0

# The soak (bench/README.md): random runs, kills and overlaps against one home, compared with an
# in-order reference; SOAK_MINUTES (60), SOAK_SEED, SOAK_STEPS, SOAK_UNTIL_KILLS and
# SOAK_UNTIL_OVERLAPS (a goal that ends it sooner), SOAK_LANES (soaks at once, one goal). Not part
# of test or bench: it runs for an hour.
soak: setup
	SOAK_MINUTES="$(SOAK_MINUTES)" SOAK_SEED="$(SOAK_SEED)" SOAK_STEPS="$(SOAK_STEPS)" \
	  SOAK_UNTIL_KILLS="$(SOAK_UNTIL_KILLS)" SOAK_UNTIL_OVERLAPS="$(SOAK_UNTIL_OVERLAPS)" \
	  SOAK_LEAST_MINUTES="$(SOAK_LEAST_MINUTES)" SOAK_LANES="$(SOAK_LANES)" \
	  $(BIN)/python -m bench.soak

clean-home:
	-$(BIN)/gourmand sandbox --stop
	-$(BIN)/gourmand postgres --stop
	rm -rf .gourmand
