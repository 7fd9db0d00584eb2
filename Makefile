# Every target bootstraps .venv from nothing: Python 3.11 and the package registries are all it needs.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.synced
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --locked --no-sync
PORT ?= 8765

export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup test faults lint demo fake-server bench clean

setup: $(STAMP)

# Bytecode is compiled at install: these machines set PYTHONDONTWRITEBYTECODE and Airflow imports slowly from source.
$(STAMP): pyproject.toml uv.lock
	command -v uv >/dev/null || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --all-groups
	touch $@

lint: $(STAMP)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy vobiz_provider

# The fault matrix (docs/reliability.md) runs ~70 pipelines: its own target, so `make test` stays a few minutes.
test: lint
	$(RUN) pytest -q --ignore=tests/faults

faults: $(STAMP)
	$(RUN) pytest -q tests/faults

demo: $(STAMP)
	$(RUN) python scripts/demo.py

fake-server: $(STAMP)
	$(RUN) python -m vobiz_provider.testing --port $(PORT)

bench: $(STAMP)
	$(RUN) python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
