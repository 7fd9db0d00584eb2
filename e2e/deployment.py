"""The three deployments: one machine (SQLite, LocalExecutor), several (PostgreSQL, Redis, Celery), and one
machine on Airflow 2.11 (its scheduler, triggerer and webserver from ``.venv-airflow-2.11.2``, LocalExecutor,
PostgreSQL: Airflow 2 refuses SQLite with any executor but the sequential one).

Each lives in a temporary folder (``AIRFLOW_HOME``, DAGs, logs, databases, downloaded files) that
:meth:`Deployment.close` deletes, with every server on 127.0.0.1 at a free port.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from e2e.clients import AirflowApi, FakeVobiz
from e2e.processes import Component, Sampler, free_port, listening_addresses, stop_all

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ("standup_pipeline.py", "end_of_day_sweep.py")
AUTH_ID, AUTH_TOKEN = "MA_E2E00001", "e2e-token"
KINDS = ("single", "distributed", "single-2.11")
# Airflow 2.11's deployment runs from the venv `make e2e` builds from its lock; only the stand-up pipeline.
AIRFLOW_2_VENV = ROOT / ".venv-airflow-2.11.2-e2e"
AIRFLOW_2_DAGS = ("standup_pipeline.py",)
AIRFLOW_2_USER = ("e2e", secrets.token_hex(8))


class Deployment:
    """An Airflow deployment of real components plus the fake Vobiz server.

    :param kind: ``"single"``, ``"distributed"`` or ``"single-2.11"``.
    """

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.kind = kind
        self.airflow_2 = kind == "single-2.11"
        self.python = str(AIRFLOW_2_VENV / "bin" / "python") if self.airflow_2 else sys.executable
        self.root = Path(tempfile.mkdtemp(prefix=f"vobiz-e2e-{kind}-"))
        self.home = self.root / "airflow"
        self.logs = self.root / "process-logs"
        self.files = self.root / "files"
        for folder in (self.home / "dags", self.logs, self.files, self.root / "tmp"):
            folder.mkdir(parents=True)
        self.catalogue = self.root / "catalogue.db"
        self.components: dict[str, Component] = {}
        self.sampler = Sampler(lambda: list(self.components.values()))
        self.api_port = free_port()
        fake_port = free_port()
        self.fake = FakeVobiz(f"http://127.0.0.1:{fake_port}", AUTH_ID, AUTH_TOKEN)
        self.api = AirflowApi(f"http://127.0.0.1:{self.api_port}", AIRFLOW_2_USER if self.airflow_2 else None)
        self._fake_argv = [
            sys.executable, "-m", "vobiz_provider.testing", "--port", str(fake_port),
            "--auth-id", AUTH_ID, "--auth-token", AUTH_TOKEN,
        ]  # fmt: skip
        self.env = self._airflow_env()

    # -- environment -------------------------------------------------------------------------

    def _airflow_env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        connection = {
            "conn_type": "vobiz",
            "login": AUTH_ID,
            "password": AUTH_TOKEN,
            "host": self.fake.base_url,
            "extra": {},
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "HOME": str(self.root),
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "e2e.hostname.component_hostname",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api.base_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.api.base_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                # Tasks report to the api-server; its 5 s default fails a task on a busy machine.
                "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                # Runs start only when a case triggers one: the example DAGs keep their real
                # schedules, and unpausing them must not start a run of the scheduler's own.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                # A dead worker's task is failed (and retried) after this long without a heartbeat.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                # A triggerer silent this long is dead: another (or a restarted one) takes its triggers.
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
                "AIRFLOW_CONN_VOBIZ_DEFAULT": json.dumps(connection),
                # For recording_events.py, added by its case: its catalogue, a 2 s watcher, its files.
                "AIRFLOW_CONN_VOBIZ_CATALOGUE_DB": json.dumps({"conn_type": "sqlite", "host": str(self.catalogue)}),
                "VOBIZ_WATCH_POLL_INTERVAL": "2",
                "VOBIZ_RECORDINGS_ROOT": str(self.files / "events"),
                "NO_PROXY": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
                # Staging files for object stores go to the temp folder: the suite checks it too.
                "TMPDIR": str(self.root / "tmp"),
            }
        )
        if self.kind == "single":
            env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.root / 'airflow.db'}"
        if self.airflow_2:
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                    "AIRFLOW__CORE__PARALLELISM": "4",  # LocalExecutor starts this many workers up front
                    "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
                    "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(self.api_port),
                    "AIRFLOW__WEBSERVER__BASE_URL": self.api.base_url,
                    "AIRFLOW__WEBSERVER__WORKERS": "1",
                    "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
                    "AIRFLOW__WEBSERVER__WEB_SERVER_MASTER_TIMEOUT": "300",
                    "AIRFLOW__WEBSERVER__WEB_SERVER_WORKER_TIMEOUT": "300",
                    "AIRFLOW__WEBSERVER__WORKER_REFRESH_BATCH_SIZE": "0",  # no rolling gunicorn restarts
                    "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
                    "AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT": "True",
                    # Airflow 2's names for the heartbeat timeout above; the scheduler parses the DAG files.
                    "AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD": "20",
                    "AIRFLOW__SCHEDULER__ZOMBIE_DETECTION_INTERVAL": "5",
                    "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "600",
                }
            )
        return env

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything and wait until the DAGs are parsed; raises if something does not come up."""
        for name in AIRFLOW_2_DAGS if self.airflow_2 else EXAMPLE_DAGS:
            shutil.copy(ROOT / "dags_examples" / name, self.home / "dags" / name)
        for path in () if self.airflow_2 else (Path(__file__).parent / "dags").glob("*.py"):
            shutil.copy(path, self.home / "dags" / path.name)
        self.sampler.__enter__()
        self._add("fake-vobiz", self._fake_argv).start()
        if self.kind == "distributed":
            self._start_postgres_and_redis()
        if self.airflow_2:
            if not Path(self.python).is_file():
                raise RuntimeError(f"no {AIRFLOW_2_VENV}: make e2e builds it")
            self._start_postgres()
        airflow = [self.python, "-m", "airflow"]
        self._airflow_cli(airflow, "db", "migrate")
        if self.airflow_2:
            self._start_airflow_2(airflow)
        else:
            self._start_airflow_3(airflow)
        self.fake.wait_ready(60)
        self.api.wait_ready(300)
        for dag_id in self.dag_ids():
            self.wait_for_dag(dag_id, 300)
            self.api.unpause(dag_id)
        self.check_alive()

    def _start_airflow_3(self, airflow: list[str]) -> None:
        """Airflow 3's components: api-server, scheduler, dag-processor, triggerers (and Celery workers)."""
        self._add("api-server", [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port),
                                 "--workers", "1"]).start()  # fmt: skip
        # Log servers are skipped: every component writes task logs into the one shared folder the
        # api-server reads; no component opens a port of its own (checked by check_listening()).
        self._add("scheduler", [*airflow, "scheduler", "--skip-serve-logs"]).start()
        self._add("dag-processor", [*airflow, "dag-processor"]).start()
        triggerers = ("triggerer-1",) if self.kind == "single" else ("triggerer-1", "triggerer-2")
        for name in triggerers:
            self._add(name, [*airflow, "triggerer", "--skip-serve-logs"], hostname=name).start()
        if self.kind == "distributed":
            for name in ("worker-1", "worker-2"):
                argv = [*airflow, "celery", "worker", "--skip-serve-logs", "--concurrency", "2",
                        "--celery-hostname", f"{name}@e2e", "--without-gossip", "--without-mingle"]  # fmt: skip
                self._add(name, argv, hostname=name).start()

    def _airflow_cli(self, airflow: list[str], *args: str) -> None:
        done = subprocess.run([*airflow, *args], env=self.env, cwd=self.root, capture_output=True, text=True,
                              timeout=600)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args[:2])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def _start_airflow_2(self, airflow: list[str]) -> None:
        """Airflow 2.11's components: the webserver (REST API /api/v1, basic auth), the scheduler (it parses
        the DAG files; LocalExecutor forks the tasks) and one triggerer."""
        user, password = AIRFLOW_2_USER
        self._airflow_cli(airflow, "users", "create", "--username", user, "--password", password, "--role", "Admin",
                          "--firstname", "e2e", "--lastname", "e2e", "--email", "e2e@example.com")  # fmt: skip
        self._add("webserver", [*airflow, "webserver", "--hostname", "127.0.0.1", "--port", str(self.api_port),
                                "--workers", "1"]).start()  # fmt: skip
        self._add("scheduler", [*airflow, "scheduler", "--skip-serve-logs"]).start()
        self._add("triggerer-1", [*airflow, "triggerer", "--skip-serve-logs"], hostname="triggerer-1").start()

    def dag_ids(self) -> list[str]:
        if self.airflow_2:
            return ["vobiz_standup_pipeline"]
        ids = ["vobiz_standup_pipeline", "vobiz_end_of_day_sweep"]
        ids += [path.stem for path in (Path(__file__).parent / "dags").glob("*.py")]
        return ids

    def add_dag(self, file_name: str, dag_id: str, bound_s: float = 120.0) -> None:
        """Add an example DAG file now, wait until it is parsed, unpause it and have it parsed again
        (an asset's watchers are registered only by a parse that sees the DAG unpaused)."""
        shutil.copy(ROOT / "dags_examples" / file_name, self.home / "dags" / file_name)
        self.wait_for_dag(dag_id, bound_s)
        self.api.unpause(dag_id)
        self.api.reparse(dag_id)

    def set_job_schedule(self, enabled: bool) -> None:
        """Restart the scheduler with its own runs (schedules, asset events) switched on or off."""
        scheduler = self.components["scheduler"]
        scheduler.env = {**scheduler.env, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(enabled)}
        self.restart("scheduler")

    def wait_for_dag(self, dag_id: str, bound_s: float) -> None:
        deadline = time.monotonic() + bound_s
        while self.api.dag(dag_id) is None:
            self.check_alive()
            # Every file in the DAGs folder is one the suite put there to be parsed: a failure is final.
            failed = self.api.import_errors()
            if failed:
                raise RuntimeError(f"DAG file(s) failed to parse: {failed[0]['filename']}\n{failed[0]['stack_trace']}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG {dag_id} was not parsed within {bound_s:.0f} s")
            time.sleep(1)

    def check_alive(self, names: Sequence[str] | None = None) -> None:
        for name, component in self.components.items():
            if (names is None or name in names) and not component.alive():
                tail = component.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited ({component.process and component.process.returncode}):\n{tail}")

    def check_listening(self) -> list[str]:
        """Every listening socket of the suite's processes, as ``name addr:port``; raises on one not on loopback."""
        found = sorted(
            {f"{name} {addr}:{port}" for name, addr, port in listening_addresses(list(self.components.values()))}
        )
        outside = [entry for entry in found if " 127.0.0.1:" not in entry]
        if outside:
            raise AssertionError(f"servers listening beyond 127.0.0.1: {outside}")
        return found

    def _add(self, name: str, argv: Sequence[str], *, hostname: str | None = None, user: str | None = None,
             env: dict[str, str] | None = None) -> Component:  # fmt: skip
        component_env = dict(env if env is not None else self.env)
        if hostname:
            component_env["E2E_HOSTNAME"] = hostname
        component = Component(name, argv, component_env, self.logs, user=user, cwd=self.root)
        self.components[name] = component
        return component

    def restart(self, name: str) -> None:
        component = self.components[name]
        component.stop()
        component.restarts += 1
        component.start()

    def close(self) -> None:
        """Stop every process by its id (the suite's servers last), then delete the folder."""
        servers = ("postgres", "redis", "fake-vobiz")
        stop_all([c for name, c in self.components.items() if name not in servers])
        stop_all([c for name, c in self.components.items() if name in ("redis", "fake-vobiz")])
        if "postgres" in self.components:
            self.components["postgres"].stop(sig=signal.SIGINT)  # PostgreSQL's fast shutdown
        self.sampler.__exit__(None, None, None)

    def delete(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- PostgreSQL and Redis ----------------------------------------------------------------

    def _start_postgres_and_redis(self) -> None:
        _, pg_port = self._start_postgres()
        redis_port = free_port()
        self._add(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            env={"PATH": os.environ.get("PATH", "")},
        ).start()  # fmt: skip
        self.env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow",
                "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            }
        )

    def _start_postgres(self) -> tuple[str, int]:
        """PostgreSQL in the folder, database ``airflow`` made and set as Airflow's; its bin folder and port."""
        bindir = _postgres_bindir()
        data = self.root / "postgres"
        data.mkdir()
        user = "postgres" if os.geteuid() == 0 else None
        if user:
            shutil.chown(data, user, user)
            os.chmod(self.root, 0o755)
        pg_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": str(data)}
        subprocess.run(
            [f"{bindir}/initdb", "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8", "--no-sync"],
            env=pg_env, user=user, group=user, extra_groups=[] if user else None, cwd=data,
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        pg_port = free_port()
        self._add(
            "postgres",
            [f"{bindir}/postgres", "-D", str(data), "-h", "127.0.0.1", "-p", str(pg_port), "-k", str(data),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"],
            user=user, env=pg_env,
        ).start()  # fmt: skip
        _wait_for(lambda: _pg_ready(bindir, pg_port), 60, "PostgreSQL")
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "airflow", "airflow"],
            env=pg_env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow"
        return bindir, pg_port


def _postgres_bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run e2e/system-packages.sh (make e2e does)")
    return str(Path(found[-1]).parent)


def _pg_ready(bindir: str, port: int) -> bool:
    return (
        subprocess.run([f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode
        == 0
    )


def _wait_for(ready: object, bound_s: float, what: str) -> None:
    deadline = time.monotonic() + bound_s
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {bound_s:.0f} s")
        time.sleep(0.3)
