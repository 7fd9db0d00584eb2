"""The fake Vobiz server's ``/_fake/`` control API, from another process (standard library only)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


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
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        self._call("POST", "reset")

    def configure(self, **settings: Any) -> None:
        self._call("POST", "settings", settings)

    def add_recording(self, **fields: Any) -> str:
        recording_id: str = self._call("POST", "recordings", fields)["recording_id"]
        return recording_id

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
