# Everything a fresh clone needs: `make run` serves the API, `make test` checks it.
# Installs come from the hash-locked requirements/*.txt (`make lock` regenerates them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
export DATABASE_URL ?= sqlite+aiosqlite:///./data/service.db
# Several workers must sign cursors with one key: without CURSOR_SECRET, one random key per run.
ifneq ($(WORKERS),1)
ifeq ($(origin CURSOR_SECRET),undefined)
export CURSOR_SECRET := $(shell $(PYTHON) -c "import secrets; print(secrets.token_hex(32))")
endif
endif

# One stamp per lock file and content: `make run` installs only requirements/serve.txt,
# `make test` requirements/dev.txt (serve + test tools, same pins).
SERVE_LOCK := requirements/serve.txt
DEV_LOCK := requirements/dev.txt
BENCH_LOCK := requirements/bench.txt
SERVE_STAMP := $(VENV)/.serve-$(shell cksum $(SERVE_LOCK) | cut -d' ' -f1)
STAMP := $(VENV)/.dev-$(shell cksum $(DEV_LOCK) | cut -d' ' -f1)
PIP_LOCKED := $(BIN)/pip install --quiet --require-hashes

.PHONY: run serve migrate seed downloads test lint typecheck unit openapi report bench profile fuzz loadtest clean mutate \
	lock lock-upgrade wheelhouse compose-test spec-tools lint-spec lint-spec-baseline spec-diff \
	spec-release

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): $(SERVE_LOCK) | $(BIN)/python
	$(PIP_LOCKED) -r $(SERVE_LOCK)
	rm -f $(VENV)/.serve-*
	touch $@

# The dev lock holds every serving pin too, so it satisfies both stamps.
$(STAMP): $(DEV_LOCK) | $(BIN)/python
	$(PIP_LOCKED) -r $(DEV_LOCK)
	rm -f $(VENV)/.dev-* $(VENV)/.serve-*
	touch $@ $(SERVE_STAMP)

venv: $(STAMP)

migrate: $(SERVE_STAMP)
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m service.seed load

run: seed serve

serve: $(SERVE_STAMP)
	@echo "Serving on http://$(HOST):$(PORT)  (Swagger UI: http://$(HOST):$(PORT)/docs)"
	$(BIN)/uvicorn service.app:app_from_env --factory --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) --no-access-log --timeout-keep-alive 5

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) spec-tools
	$(BIN)/pytest

test: lint typecheck unit

# The committed spec and the TypeScript client's types generated from it (needs npm).
openapi: $(STAMP)
	$(BIN)/python -m service.openapi
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate

# OpenAPI linters (Redocly CLI, Spectral), pinned in tools/spec-lint/package-lock.json and
# installed with npm ci. Without npm the lint tests skip (and fail when CI is set).
SPEC_LOCK := tools/spec-lint/package-lock.json
SPEC_TOOLS := tools/spec-lint/node_modules/.installed-$(shell cksum $(SPEC_LOCK) | cut -d' ' -f1)
$(SPEC_TOOLS): $(SPEC_LOCK)
	@if command -v npm >/dev/null; then \
		cd tools/spec-lint && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error \
			&& touch $(CURDIR)/$@; \
	else echo "npm not found: the OpenAPI lint tests will be skipped"; fi

spec-tools: $(SPEC_TOOLS)

# The spec gate alone: lint findings within openapi/lint-baseline.json, no unrecorded breaking
# change against openapi/releases/ (README "Versioning policy").
lint-spec: $(STAMP) spec-tools
	$(BIN)/pytest tests/test_spec_lint.py tests/test_breaking_changes.py

# After fixing lint findings: lower openapi/lint-baseline.json and rewrite lint-baseline.md.
lint-spec-baseline: $(STAMP) spec-tools
	$(BIN)/python -m tests.spec_lint --write-baseline

# Every change from the latest release to openapi/v1.json, and the release notes still missing.
spec-diff: $(STAMP)
	$(BIN)/python -m tests.openapi_compat

# Cut a release of the contract: make spec-release VERSION=1.1.0 (the spec's info.version first).
spec-release: $(STAMP)
	$(BIN)/python -m tests.openapi_compat --release $(VERSION)

# Mutation testing of filters, sorting, cursors, ETags and write validation (SQLite only): prints
# the score, fails on a survivor tests/mutation-allowlist.txt does not list with a reason.
# After code changes: .venv/bin/python -m tests.mutation_gate --write-allowlist (see that file).
mutate: $(STAMP)
	$(BIN)/python -m tests.mutation_gate

# Schemathesis, all checks and phases (stateful too), with many more examples than `make test`.
FUZZ_EXAMPLES ?= 400
fuzz: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMATHESIS_WRITE_EXAMPLES=$(FUZZ_EXAMPLES) \
		SCHEMATHESIS_STATEFUL_STEPS=20 $(BIN)/pytest tests/test_openapi.py -k "conform or sequences"

# 60 s of mixed GETs against uvicorn on a fresh SQLite copy; fails on any 5xx.
loadtest: $(STAMP)
	$(BIN)/python -m bench.loadtest

# Benchmark against Datasette and a bare Litestar app (bench/run.py; README "Benchmarks"):
# SQLite, and PostgreSQL too when a server answers on 127.0.0.1:5432 (database bench_1m) or
# BENCH_POSTGRES_URL names one (BENCH_POSTGRES_URL=off: SQLite only). The 1M-row data is built
# once per generator/migration version and cached. ~12 min with cached data;
# BENCH_ARGS="--duration 3" for a quick look. Writes bench/results/<stamp>.json and .png.
BENCH_STAMP := $(VENV)/.bench-$(shell cksum $(BENCH_LOCK) | cut -d' ' -f1)
$(BENCH_STAMP): $(BENCH_LOCK) $(STAMP)
	$(PIP_LOCKED) -r $(BENCH_LOCK)
	rm -f $(VENV)/.bench-*
	touch $@

bench: $(BENCH_STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk) \
		|| (sudo apt-get update && sudo apt-get install -y wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# py-spy on the service under a cache-miss load; top of the profile to bench/results/ (bench/profile.py).
profile: $(BENCH_STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk) \
		|| (sudo apt-get update && sudo apt-get install -y wrk)
	$(BIN)/python -m bench.profile $(PROFILE_ARGS)

# Bulk downloads of the current dataset version (Data Package + SQLite) into data/downloads/<version>/;
# the API serves the same files at /v1/downloads.
downloads: seed
	$(BIN)/python -m service.downloads --out data/downloads

report: $(SERVE_STAMP)
	$(BIN)/python -m service.seed report

# Regenerate the locks from pyproject.toml, keeping every pin that still fits (uv, PyPI, hashes
# of every file of each release). `make lock-upgrade` moves everything to the newest versions;
# one package: `make lock LOCK_ARGS="--upgrade-package ruff"`. Commit requirements/ afterwards.
UV_VERSION ?= 0.13.9
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(LOCK_ARGS) pyproject.toml
lock: | $(BIN)/python
	$(BIN)/python -m uv --version 2>/dev/null | grep -q " $(UV_VERSION) " \
		|| $(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(LOCK) --extra dev -o $(DEV_LOCK)
	$(LOCK) -c $(DEV_LOCK) -o $(SERVE_LOCK)
	$(LOCK) --extra dev --extra bench -c $(DEV_LOCK) -o $(BENCH_LOCK)

lock-upgrade:
	$(MAKE) lock LOCK_ARGS="--upgrade $(LOCK_ARGS)"

# Every locked serving dependency as a wheel (hashes checked), for offline image builds.
wheelhouse: $(SERVE_STAMP)
	$(BIN)/pip wheel --quiet --require-hashes --no-deps -r $(SERVE_LOCK) -w wheelhouse

# The whole compose stack on a local Docker engine: build, start, fail over, tear down
# (deploy/compose-test.sh; skips with a message where no Docker engine can start).
compose-test: $(STAMP)
	deploy/compose-test.sh

clean:
	rm -rf data .mypy_cache .ruff_cache .pytest_cache mutants
