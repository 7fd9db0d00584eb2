"""Fixtures for the hook tests: one driver for the sync hook and its async twin, and log capture.

Tests that apply to both hooks take the ``kind`` fixture (``"sync"``/``"async"``) and build
their hook with ``make_hook(kind, ...)``; :class:`Twin` runs a method of either and returns the
plain result, so one test table covers both transports.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.hooks.support import FAST, Twin
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Run the test once with ``VobizHook`` and once with ``VobizAsyncHook``."""
    return str(request.param)


@pytest.fixture
def make_hook() -> Iterator[Callable[..., Twin]]:
    """``make_hook(kind, conn_id="vobiz_default", **hook_kwargs)``; every hook is closed afterwards."""
    made: list[Twin] = []

    def make(kind: str, conn_id: str = "vobiz_default", **kwargs: Any) -> Twin:
        twin = Twin(kind, conn_id, **{**FAST, **kwargs})
        made.append(twin)
        return twin

    yield make
    for twin in made:
        twin.close()


@pytest.fixture
def use_connection(vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Point a connection at the fake server: ``use_connection(extra=..., conn_id=..., **fields)``.

    Fields (``login``, ``password``, ``host``) override the fake's; returns the connection id.
    """

    def use(extra: dict[str, Any] | None = None, conn_id: str = "vobiz_default", **fields: Any) -> str:
        conn = json.loads(vobiz_fake.connection_json(extra))
        conn.update(fields)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return use


class Logs:
    """Everything logged while a test ran: structlog events (Airflow's hook loggers) and stdlib records."""

    def __init__(self, events: list[dict[str, Any]], caplog: pytest.LogCaptureFixture) -> None:
        self._events = events
        self._caplog = caplog

    def warnings(self) -> list[str]:
        structured = [str(e["event"]) for e in self._events if e.get("log_level") == "warning"]
        return structured + [r.getMessage() for r in self._caplog.records if r.levelno == logging.WARNING]

    def text(self) -> str:
        return "\n".join([json.dumps(self._events, default=str), self._caplog.text])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    """Capture logs; create hooks inside the test so their loggers bind to the capture."""
    caplog.set_level(logging.DEBUG)
    if not AIRFLOW_V_3_0_PLUS:  # Airflow 2 logs through the stdlib only (no structlog)
        yield Logs([], caplog)
        return
    import structlog.testing

    with structlog.testing.capture_logs() as events:
        yield Logs(events, caplog)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
