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

.PHONY: setup test faults lint demo fake-server bench e2e clean ui-check test-airflow lock-airflow test-oldest lock-oldest \
	test-newest-python dist

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

# Every Airflow CI tests besides the main lock (uv.lock, Airflow 3.3.2): `make test-airflow AIRFLOW=X.Y.Z` runs
# the suite in .venv-airflow-X.Y.Z on the lock .ci/airflow-X.Y.Z.txt, which `make lock-airflow AIRFLOW=X.Y.Z`
# resolves as of just after that release (uv --exclude-newer); aiohttp is the exception: the provider needs 3.14
# (October 2026), and common-compat where a version's AS_OF predates the floor (COMPAT_AS_OF_x). Each version runs on one Python it supports, so that together they cover the oldest and the
# newest Python the provider claims (pyenv's, else uv finds or fetches it). A new version: add its two lines.
# Airflow 3.2's dag.test() builds its in-process Execution API (a Cadwyn FastAPI app) anew for every task,
# about a minute per dag.test() on a loaded machine; 3.3 builds it once (apache/airflow#65235), and
# tests/conftest.py does the same on 3.2, so the whole suite runs there too.
# On 3.2.0 (not 3.2.2) dag.test() fails serialising a task whose template rendered undefined, before the
# provider's error reaches the log (tests/operators/test_recording_inputs.py).
# Airflow 2.11.2 (Python 3.10): common-compat's sdk map gives the provider and the DAG files Airflow 3's names there;
# its dag.test() writes neither the DAG nor its datasets (tests/dagrun.py does it), runs a deferred task's trigger
# inline (no trigger row) and logs through the stdlib (tests read the task log from caplog). What 2.11 lacks (the
# event trigger and its asset watcher) fails the DAG's parse naming Airflow 3.0, and its tests are skipped there.
# On 3.0.6 dag.test() writes neither the DAG nor its assets to the database (tests/dagrun.py does it there); a
# failed task's log prints the traceback with rich, coloured and wrapped at 100 columns (tests/operators/conftest.py
# reads it back as one line per message); a DAG file's first operator import loads airflow.models.baseoperator,
# which imports aiohttp through svcs (the parse-weight test leaves aiohttp out there); a rescheduled sensor's
# timeout fails under dag.test() only (the first reschedule date arrives as a string; that test is skipped);
# tests/compat.py has the flags.
PY_2.11.2 := 3.10
AS_OF_2.11.2 := 2026-03-16
PY_3.0.6 := 3.10
AS_OF_3.0.6 := 2025-09-05
COMPAT_AS_OF_3.0.6 := 2026-03-16
PY_3.1.8 := 3.12
AS_OF_3.1.8 := 2026-03-20
PY_3.2.2 := 3.10
AS_OF_3.2.2 := 2026-05-31
PY_3.4.0b2 := 3.13
AS_OF_3.4.0b2 := 2026-10-28
OLDEST_AIRFLOW := 2.11.2
AIRFLOW ?= $(OLDEST_AIRFLOW)
AIRFLOW_AS_OF = $(AS_OF_$(AIRFLOW))
AIRFLOW_VENV = .venv-airflow-$(AIRFLOW)
AIRFLOW_LOCK = .ci/airflow-$(AIRFLOW).txt
PYENV_VERSIONS ?= $(HOME)/.pyenv/versions
pyenv_python = $(or $(lastword $(sort $(wildcard $(PYENV_VERSIONS)/$(1).*/bin/python))),$(1))
AIRFLOW_PY = $(call pyenv_python,$(PY_$(AIRFLOW)))
PY_NEWEST := $(call pyenv_python,3.13)

lock-airflow:
	@test -n "$(AIRFLOW_AS_OF)" || { echo "Airflow $(AIRFLOW) has no PY_$(AIRFLOW) / AS_OF_$(AIRFLOW) in the Makefile"; exit 1; }
	$(UV) pip compile -q pyproject.toml --group dev --group bench -c <(echo apache-airflow==$(AIRFLOW)) \
		--python $(AIRFLOW_PY) --exclude-newer $(AIRFLOW_AS_OF) --exclude-newer-package aiohttp=2026-10-12 \
		--exclude-newer-package apache-airflow-providers-common-compat=$(or $(COMPAT_AS_OF_$(AIRFLOW)),$(AIRFLOW_AS_OF)) \
		--generate-hashes --custom-compile-command "make lock-airflow AIRFLOW=$(AIRFLOW)" -o $(AIRFLOW_LOCK)

test-airflow:
	@test -f $(AIRFLOW_LOCK) || { echo "no $(AIRFLOW_LOCK): make lock-airflow AIRFLOW=$(AIRFLOW)"; exit 1; }
	$(UV) venv -q --clear $(AIRFLOW_VENV) --python $(AIRFLOW_PY)
	$(UV) pip sync -q --python $(AIRFLOW_VENV)/bin/python $(AIRFLOW_LOCK)
	$(UV) pip install -q --python $(AIRFLOW_VENV)/bin/python --no-deps -e .
	$(AIRFLOW_VENV)/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/faults

# The oldest Airflow claimed (pyproject.toml's floor).
lock-oldest test-oldest: %-oldest:
	$(MAKE) $*-airflow AIRFLOW=$(OLDEST_AIRFLOW)

# The newest Python on this machine takes the main lock.
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
# The e2e deployment on Airflow 2.11 runs its components from a venv of their own, made from the lock as
# test-airflow makes its venv, plus the PostgreSQL driver (at uv.lock's version): Airflow 2 refuses SQLite with
# the LocalExecutor. A venv apart, so that `make test-airflow AIRFLOW=2.11.2` (pip sync) does not remove it.
E2E_AIRFLOW_2 := 2.11.2
E2E_AIRFLOW_2_VENV := .venv-airflow-$(E2E_AIRFLOW_2)-e2e
$(E2E_AIRFLOW_2_VENV)/.made: .ci/airflow-$(E2E_AIRFLOW_2).txt pyproject.toml
	$(UV) venv -q --clear $(E2E_AIRFLOW_2_VENV) --python $(call pyenv_python,$(PY_$(E2E_AIRFLOW_2)))
	$(UV) pip sync -q --python $(E2E_AIRFLOW_2_VENV)/bin/python .ci/airflow-$(E2E_AIRFLOW_2).txt
	$(UV) pip install -q --python $(E2E_AIRFLOW_2_VENV)/bin/python --no-deps -e . psycopg2-binary==2.9.13
	touch $@

e2e: $(STAMP) $(E2E_AIRFLOW_2_VENV)/.made
	bash e2e/system-packages.sh
	$(RUN) python -m e2e $(E2E_ARGS)

clean:
	rm -rf $(VENV) .venv-airflow-* .venv-newest .venv-dist .pytest_cache .mypy_cache .ruff_cache
