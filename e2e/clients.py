"""HTTP clients of what the suite drives: Airflow's REST API and the fake Vobiz server's ``/_fake/`` API."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import requests

TERMINAL_RUN_STATES = ("success", "failed")


class AirflowApi:
    """Airflow's public REST API, the same calls on both: Airflow 3's ``/api/v2`` with the simple auth
    manager's all-admins token, or Airflow 2's ``/api/v1`` on the webserver with basic auth.

    :param base_url: the api-server (or Airflow 2's webserver), ``http://127.0.0.1:PORT``.
    :param basic_auth: Airflow 2: the user and password of ``airflow users create``; None for Airflow 3.
    """

    def __init__(self, base_url: str, basic_auth: tuple[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: no proxy from the environment
        self.session.auth = basic_auth
        self.v1 = basic_auth is not None
        self.prefix = "/api/v1" if self.v1 else "/api/v2"

    def _ready(self) -> bool:
        if self.v1:  # an authenticated call: the webserver is up and the user exists
            return self.session.get(f"{self.base_url}/api/v1/dags?limit=1", timeout=5).ok
        reply = self.session.get(f"{self.base_url}/auth/token", timeout=5)
        if reply.ok:
            self.session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        return reply.ok

    def wait_ready(self, bound_s: float) -> None:
        """Wait until the api-server answers (Airflow 3: and hands out a token)."""
        deadline = time.monotonic() + bound_s
        while True:
            try:
                if self._ready():
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the api-server at {self.base_url} did not answer within {bound_s:.0f} s")
            time.sleep(1)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.session.request(method, f"{self.base_url}{self.prefix}{path}", timeout=60, **kwargs)
        if not reply.ok:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply.json() if reply.content else None

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        reply = self.session.get(f"{self.base_url}{self.prefix}/dags/{dag_id}", timeout=30)
        return reply.json() if reply.ok else None

    def import_errors(self) -> list[dict[str, Any]]:
        """The DAG files that failed to parse: ``filename`` and ``stack_trace`` each."""
        return list(self._call("GET", "/importErrors?limit=100")["import_errors"])

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def reparse(self, dag_id: str) -> None:
        """Ask the dag-processor to parse the DAG's file again now (asset watchers follow the paused flag
        only when the file is parsed)."""
        dag = self._call("GET", f"/dags/{dag_id}")
        self._call("PUT", f"/parseDagFile/{dag['file_token']}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any], logical_date: str | None) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "conf": conf, "logical_date": logical_date}
        if self.v1 and logical_date is None:  # Airflow 2: every run has one; it refuses null
            del body["logical_date"]
        return self._call("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")

    def mark_failed(self, dag_id: str, run_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}", json={"state": "failed"})

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=1000"
        found: list[dict[str, Any]] = self._call("GET", path)["task_instances"]
        if self.v1:
            for ti in found:
                # Airflow 2's task instances have no id; its task processes' titles hold the command
                # ``['airflow', 'tasks', 'run', DAG, TASK, RUN, ...]``: this names the task instance there.
                ti["id"] = f"'{dag_id}', '{ti['task_id']}', '{run_id}'"
        return found

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
        path += f"/{map_index}/tries" if map_index >= 0 else "/tries"
        return self._call("GET", path)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
        params: dict[str, Any] = {"map_index": map_index, "deserialize": True}
        if self.v1:
            params["stringify"] = False  # Airflow 2 gives str(value) unless told
        return self._call("GET", path, params=params)["value"]


class FakeVobiz:
    """The fake Vobiz server's control API (``/_fake/``) and its file route, over HTTP.

    :param base_url: ``http://127.0.0.1:PORT``.
    :param auth_id: the account id the server was started with.
    :param auth_token: its token.
    """

    def __init__(self, base_url: str, auth_id: str, auth_token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_id = auth_id
        self.auth_token = auth_token
        self.session = requests.Session()
        self.session.trust_env = False

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = self.session.request(method, f"{self.base_url}/_fake/{path}", json=body, timeout=30)
        if not reply.ok:
            raise RuntimeError(f"fake {method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def wait_ready(self, bound_s: float) -> None:
        deadline = time.monotonic() + bound_s
        while True:
            try:
                self._call("GET", "settings")
                return
            except (requests.RequestException, RuntimeError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the fake Vobiz server did not answer within {bound_s:.0f} s") from None
                time.sleep(0.2)

    def reset(self, **settings: Any) -> dict[str, Any]:
        self._call("POST", "reset")
        return self._call("POST", "settings", settings)

    def add_room(self, name: str, *, duration_s: float, file_format: str = "wav") -> None:
        body = {"name": name, "members": 3, "recording": True, "file_format": file_format, "duration_s": duration_s}
        self._call("POST", "rooms", body)

    def restart_recording(self, name: str, *, ago_s: float = 0.0) -> str:
        """The host stops and restarts the room's recording (``ago_s`` seconds ago): the finished part's id."""
        encoded = quote(name, safe="")
        return str(self._call("POST", f"rooms/{encoded}/restart", {"ago_s": ago_s})["recording_id"])

    def settings(self, **settings: Any) -> dict[str, Any]:
        return self._call("POST", "settings", settings)

    def add_recording(self, conference_name: str, **fields: Any) -> str:
        """A finished recording's row (``ready=False``: its file answers 404 for ``file_delay_s``); its id."""
        return str(self._call("POST", "recordings", {"conference_name": conference_name, **fields})["recording_id"])

    def set_latency(self, route: str, seconds: float) -> None:
        self._call("POST", "faults", {"route": route, "latency": seconds})

    def log(self) -> list[dict[str, Any]]:
        return self._call("GET", "log")

    def recordings(self) -> list[dict[str, Any]]:
        return self._call("GET", "recordings")

    def stops_of(self, room: str) -> list[dict[str, Any]]:
        """The stop requests the server received for ``room``."""
        encoded = quote(room, safe="")
        return [
            entry
            for entry in self.log()
            if entry["route"] == "conference.record.stop" and f"/Conference/{encoded}/" in entry["path"]
        ]

    def file_bytes(self, recording_url: str) -> bytes:
        headers = {"X-Auth-ID": self.auth_id, "X-Auth-Token": self.auth_token}
        reply = self.session.get(recording_url, headers=headers, timeout=60)
        reply.raise_for_status()
        return reply.content
