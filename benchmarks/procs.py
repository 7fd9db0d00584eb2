"""Subprocesses of a benchmark: measured children and loopback servers, each bounded in time.

Every measurement runs in a fresh interpreter (``python -m benchmarks.child``) so its CPU time
and memory are its own; servers run in their own processes so they do not share its CPU
accounting, and they exit when their parent closes their stdin, or at a time limit.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-RESULT "
READY_MARK = "BENCH-READY "
GATE_MARK = "BENCH-GATE"


class ChildError(RuntimeError):
    """A child process failed; the message holds the end of its stderr."""


def child_env(home: Path, connections: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: its own AIRFLOW_HOME (nothing touches ~/airflow) and connections."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False", PYTHONUNBUFFERED="1")
    for conn_id, value in (connections or {}).items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = value
    return env


def _dump_and_kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGUSR1)
    time.sleep(2)
    proc.kill()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_at_gate() -> None:
    """In a child: tell the parent this process is ready, and wait for its go (see ``on_gate``)."""
    print(GATE_MARK, flush=True)
    sys.stdin.readline()


def run_child(
    function: str,
    args: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    timeout: float,
    on_gate: Callable[[], None] | None = None,
) -> Any:
    """Run ``benchmarks.<module>.<function>(**args)`` in a fresh interpreter and return its JSON result.

    :param on_gate: called when the child reaches :func:`wait_at_gate`, just before it is let go.
    """
    log = Path(env["AIRFLOW_HOME"]) / f"{function.replace(':', '.')}.stderr"
    command = [sys.executable, "-m", "benchmarks.child", function, json.dumps(args)]
    results: list[str] = []
    with (
        open(log, "w") as stderr,
        subprocess.Popen(
            command, cwd=REPO, env=dict(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        # A hung child is asked for its stacks (benchmarks/child.py), then killed: its stdout
        # closes and the loop below ends.
        killer = threading.Timer(timeout, _dump_and_kill, (proc,))
        killer.start()
        try:
            for line in proc.stdout:
                if line.startswith(GATE_MARK):
                    if on_gate is not None:
                        on_gate()
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                elif line.startswith(RESULT_MARK):
                    results.append(line[len(RESULT_MARK) :])
            returncode = proc.wait()
        finally:
            killer.cancel()
    if returncode != 0 or not results:
        raise ChildError(f"{function} exited with {returncode} (timeout {timeout:.0f} s)\n{_tail(log, 80)}")
    return json.loads(results[-1])


class Server:
    """A server from :mod:`benchmarks.servers` in its own process, for a ``with`` block.

    :param kind: ``"files"`` or ``"fake"``.
    :param args: the server's arguments (JSON-able).
    :param env: its environment.
    :param max_seconds: it exits by itself after this long, whatever happens here.
    """

    def __init__(self, kind: str, args: Mapping[str, Any], env: Mapping[str, str], *, max_seconds: float) -> None:
        self.kind = kind
        self.args = {**args, "max_seconds": max_seconds}
        self.env = dict(env)
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Server:
        log = Path(self.env["AIRFLOW_HOME"]) / f"server-{self.kind}.stderr"
        command = [sys.executable, "-m", "benchmarks.servers", self.kind, json.dumps(self.args)]
        with open(log, "w") as stderr:
            self._proc = proc = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            line = proc.stdout.readline() if ready else ""
            if line.startswith(READY_MARK):
                self.info = json.loads(line[len(READY_MARK) :])
                return self
            if proc.poll() is not None:
                break
        self.__exit__(None, None, None)
        raise ChildError(f"the {self.kind} server did not start\n{_tail(log)}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
