"""The servers ``make ui-check`` drives: Airflow's API server and the fake Vobiz server, on loopback.

Each runs in its own process group started here and is stopped by that id, on failure too.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
USER = "uicheck"
FAKE_AUTH_ID, FAKE_AUTH_TOKEN = "MA_DEMO0001", "demo-token"


@dataclass(frozen=True)
class Stack:
    airflow_url: str
    vobiz_url: str
    password: str
    home: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _airflow_env(home: Path, port: int, password_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        }
    )
    return env


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group this script started (uvicorn's workers included), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited ({process.returncode}); log:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s; log:\n{log.read_text()[-4000:]}")


@contextmanager
def running_stack() -> Iterator[Stack]:
    """A temporary Airflow home with a migrated database, the API server and the fake Vobiz server."""
    home = Path(tempfile.mkdtemp(prefix="vobiz-ui-check-"))
    (home / "dags").mkdir()
    password = secrets.token_urlsafe(12)
    password_file = home / "passwords.json"
    password_file.write_text(json.dumps({USER: password}))
    airflow_port, vobiz_port = free_port(), free_port()
    env = _airflow_env(home, airflow_port, password_file)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        vobiz_log, airflow_log = home / "fake-vobiz.log", home / "api-server.log"
        fake = [sys.executable, "-m", "vobiz_provider.testing", "--port", str(vobiz_port)]
        fake += ["--auth-id", FAKE_AUTH_ID, "--auth-token", FAKE_AUTH_TOKEN]
        processes.append(_start(fake, env, vobiz_log))
        api = [sys.executable, "-m", "airflow", "api-server", "--host", HOST, "--port", str(airflow_port)]
        processes.append(_start(api, env, airflow_log))
        vobiz_url, airflow_url = f"http://{HOST}:{vobiz_port}", f"http://{HOST}:{airflow_port}"
        _wait_for(f"{vobiz_url}/", processes[0], vobiz_log)
        _wait_for(f"{airflow_url}/api/v2/monitor/health", processes[1], airflow_log)
        yield Stack(airflow_url=airflow_url, vobiz_url=vobiz_url, password=password, home=home)
    finally:
        for process in reversed(processes):
            _stop(process)
