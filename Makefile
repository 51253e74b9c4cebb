# Everything a fresh clone needs: `make run` serves the API, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite+aiosqlite:///./data/service.db

.PHONY: run serve migrate seed test lint typecheck unit openapi report bench fuzz loadtest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m service.seed load

run: seed serve

serve: $(STAMP)
	@echo "Serving on http://$(HOST):$(PORT)  (Swagger UI: http://$(HOST):$(PORT)/docs)"
	$(BIN)/uvicorn service.app:app_from_env --factory --host $(HOST) --port $(PORT) --no-access-log

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

openapi: $(STAMP)
	$(BIN)/python -m service.openapi

# Schemathesis, all checks and phases (stateful too), with many more examples than `make test`.
FUZZ_EXAMPLES ?= 400
fuzz: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMATHESIS_STATEFUL_STEPS=20 \
		$(BIN)/pytest tests/test_openapi.py -k "conforms or sequences"

# 60 s of mixed GETs against uvicorn on a fresh SQLite copy; fails on any 5xx.
loadtest: $(STAMP)
	$(BIN)/python -m bench.loadtest

# Benchmark against Datasette and a bare Litestar app (bench/run.py; README "Benchmarks").
# First run: generates 1M metrics into bench/data/ (cached). BENCH_ARGS="--duration 3" for a
# quick look; BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/h6 adds PostgreSQL.
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.bench-installed-*
	touch $@

bench: $(BENCH_STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk) \
		|| (sudo apt-get update && sudo apt-get install -y wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

report: $(STAMP)
	$(BIN)/python -m service.seed report

clean:
	rm -rf data .mypy_cache .ruff_cache .pytest_cache
