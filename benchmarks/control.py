"""The fake Vobiz server's ``/_fake/`` control API, from another process (standard library only)."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

LOG_SIZE = 1000  # the fake server keeps the last 1000 requests


class FakeControl:
    """Drive a fake Vobiz server running in another process.

    :param base_url: the server's base URL, e.g. ``http://127.0.0.1:8765``.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_fake/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        self._call("POST", "reset")

    def configure(self, **settings: Any) -> None:
        self._call("POST", "settings", settings)

    def add_recording(self, **fields: Any) -> str:
        recording_id: str = self._call("POST", "recordings", fields)["recording_id"]
        return recording_id

    def finish_processing(self) -> list[str]:
        """Rows still being processed appear now (their files as long after as they would have)."""
        finished: list[str] = self._call("POST", "recordings/finish-processing")["recording_ids"]
        return finished

    def set_latency(self, route: str, seconds: float) -> None:
        """Delay every answer on ``route`` (``"*"``: every route) by ``seconds``."""
        self._call("POST", "faults", {"route": route, "latency": seconds})

    def recordings(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "recordings")
        return rows

    def inject(self, route: str, status: int, *, times: int, retry_after: float | None = None) -> None:
        self._call("POST", "faults", {"route": route, "status": status, "times": times, "retry_after": retry_after})

    def inject_malformed_json(self, route: str, *, times: int) -> None:
        self._call("POST", "faults", {"route": route, "malformed": True, "times": times})

    def log(self) -> list[dict[str, Any]]:
        """The last 1000 requests, oldest first (``received_at`` is wall-clock time)."""
        entries: list[dict[str, Any]] = self._call("GET", "log")
        return entries

    def clear_log(self) -> None:
        self._call("DELETE", "log")


class LogCollector:
    """Every request the fake server logs while a ``with`` block runs, although its log keeps only
    the last 1000: a thread reads the log every ``period`` seconds and keeps each entry once.

    :param control: the server's control API.
    :param period: seconds between reads; fewer than 1000 requests may arrive in one.
    """

    def __init__(self, control: FakeControl, period: float = 1.0) -> None:
        self.control = control
        self.period = period
        self.arrivals: dict[tuple[float, str, str], dict[str, Any]] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-log-collector", daemon=True)
        self._error: Exception | None = None

    def __enter__(self) -> LogCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self._collect()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while not self._done.wait(self.period):
            try:
                self._collect()
            except OSError:
                continue  # a busy server answered too slowly: read again (a lost entry is detected)
            except Exception as err:  # reported when the block ends
                self._error = err
                return

    def _collect(self) -> None:
        log = self.control.log()
        newest = max((key[0] for key in self.arrivals), default=None)
        if newest is not None and len(log) >= LOG_SIZE and log[0]["received_at"] > newest:
            raise RuntimeError("more requests arrived between two reads than the fake server's log keeps")
        for entry in log:
            self.arrivals[(entry["received_at"], entry["path"], entry["query"])] = entry

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        """The requests that arrived in ``[start, end)`` (wall-clock seconds), oldest first."""
        return sorted(
            (entry for (received, _, _), entry in self.arrivals.items() if start <= received < end),
            key=lambda entry: entry["received_at"],
        )
