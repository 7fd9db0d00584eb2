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
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup test faults lint demo fake-server bench e2e clean ui-check test-oldest test-newest-python lock-oldest dist

setup: $(STAMP)

# Bytecode is compiled at install: these machines set PYTHONDONTWRITEBYTECODE and Airflow imports slowly from source.
$(STAMP): pyproject.toml uv.lock
	command -v uv >/dev/null || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --all-groups
	touch $@

lint: $(STAMP)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy vobiz_provider e2e

# The fault matrix (docs/reliability.md) runs ~70 pipelines: its own target, so `make test` stays a few minutes.
test: lint
	$(RUN) pytest -q --ignore=tests/faults

faults: $(STAMP)
	$(RUN) pytest -q tests/faults

demo: $(STAMP)
	$(RUN) python scripts/demo.py

fake-server: $(STAMP)
	$(RUN) python -m vobiz_provider.testing --port $(PORT)

# The download benchmark's baseline is `curl -o FILE` then `openssl dgst -sha256 FILE`.
bench: $(STAMP)
	command -v curl >/dev/null && command -v openssl >/dev/null || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends curl openssl; }
	$(RUN) python -m benchmarks

# --- Meet users where they are: the connection form, every supported Airflow and Python, the release ---
# The Vobiz connection form in Debian's chromium (apt, when missing), driven by playwright (no browser download).
ui-check: $(STAMP)
	test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(RUN) python scripts/ui_check.py

# The oldest Airflow claimed on the lowest Python claimed: .ci/oldest-airflow.txt, resolved as of that
# release's month (make lock-oldest), in its own venv; aiohttp is the exception: the provider needs 3.14 (October).
# Airflow 3.2's dag.test() builds its in-process Execution API (a Cadwyn FastAPI app) anew for every task,
# about a minute per dag.test() on a loaded machine; 3.3 builds it once (apache/airflow#65235), and
# tests/conftest.py does the same on 3.2, so the whole suite runs here too. No pin or setting helps: the
# lock's pydantic, cadwyn and fastapi are not the cost, the rebuild is.
# The floor is 3.2.2, not 3.2.0: on 3.2.0 dag.test() fails serialising a task whose template rendered
# undefined, before the provider's error reaches the log (tests/operators/test_recording_inputs.py).
# The newest Python on this machine takes the main lock.
PYENV_VERSIONS ?= $(HOME)/.pyenv/versions
PY_OLDEST := $(or $(lastword $(sort $(wildcard $(PYENV_VERSIONS)/3.10.*/bin/python))),3.10)
PY_NEWEST := $(or $(lastword $(sort $(wildcard $(PYENV_VERSIONS)/3.13.*/bin/python))),3.13)
OLDEST_AIRFLOW := 3.2.2
OLDEST_AS_OF := 2026-05-31
lock-oldest:
	$(UV) pip compile -q pyproject.toml --group dev --group bench -c <(echo apache-airflow==$(OLDEST_AIRFLOW)) \
		--python $(PY_OLDEST) --exclude-newer $(OLDEST_AS_OF) --exclude-newer-package aiohttp=2026-10-12 \
		--generate-hashes --custom-compile-command "make lock-oldest" -o .ci/oldest-airflow.txt

test-oldest:
	$(UV) venv -q --clear .venv-oldest --python $(PY_OLDEST)
	$(UV) pip sync -q --python .venv-oldest/bin/python .ci/oldest-airflow.txt
	$(UV) pip install -q --python .venv-oldest/bin/python --no-deps -e .
	.venv-oldest/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/faults

test-newest-python:
	UV_PROJECT_ENVIRONMENT=.venv-newest $(UV) sync -q --locked --group bench --python $(PY_NEWEST)
	.venv-newest/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/faults

# The release: wheel and sdist checked, then the wheel installed with plain pip (Airflow pinned to the
# lock's versions) into a fresh venv that lists the provider (found through its apache_airflow_provider entry
# point) and runs the stand-up pipeline.
dist: $(STAMP)
	rm -rf dist .venv-dist
	$(UV) build -q --out-dir dist
	$(RUN) twine check --strict dist/*
	python3 -m zipfile -l dist/*.whl | grep -q 'vobiz_provider/py.typed'
	$(UV) export -q --locked --no-hashes --no-emit-project --no-default-groups -o dist/constraints.txt
	python3 -m venv .venv-dist
	.venv-dist/bin/pip install -q --disable-pip-version-check -c dist/constraints.txt dist/*.whl
	AIRFLOW_HOME=$(CURDIR)/.venv-dist/airflow-home .venv-dist/bin/airflow providers list | grep airflow-provider-vobiz
	cd /tmp && $(CURDIR)/.venv-dist/bin/python $(CURDIR)/scripts/dist_smoke.py

# Real Airflow components (single machine, then PostgreSQL + Redis + Celery) against the fake server.
# E2E_ARGS passes options through, e.g. E2E_ARGS="--deployment single --case sensor_timeout --keep".
e2e: $(STAMP)
	bash e2e/system-packages.sh
	$(RUN) python -m e2e $(E2E_ARGS)

clean:
	rm -rf $(VENV) .venv-oldest .venv-newest .venv-dist .pytest_cache .mypy_cache .ruff_cache
