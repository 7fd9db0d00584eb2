"""pytest plugin: fixtures that run the fake Vobiz server. Opt-in: enable it with
``pytest_plugins = ["vobiz_provider.testing.pytest_plugin"]`` in a top-level ``conftest.py``, or
``pytest -p vobiz_provider.testing.pytest_plugin``.

``vobiz_fake_server`` (session): one running server for the whole session.
``vobiz_fake`` (function): that server after ``reset()``, with short delays (0.2 s) and
``AIRFLOW_CONN_VOBIZ_DEFAULT`` pointing at it for the test's duration.

Only pytest is imported here; the server (and aiohttp) is imported when a fixture is first used.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vobiz_provider.testing.server import FakeVobizServer

FAST_DELAY_S = 0.2
_EXTRA_HOSTS = ("127.0.0.2", "127.0.0.3")


def _can_bind(host: str) -> bool:
    # 127.0.0.2+ are loopback on Linux but not on macOS without an alias.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, 0))
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def vobiz_fake_server() -> Iterator[FakeVobizServer]:
    """A fake Vobiz server shared by the session, on 127.0.0.1 (and 127.0.0.2/3 where possible)."""
    from vobiz_provider.testing.server import FakeVobizServer

    hosts = ("127.0.0.1", *_EXTRA_HOSTS) if all(map(_can_bind, _EXTRA_HOSTS)) else ("127.0.0.1",)
    with FakeVobizServer(listen_hosts=hosts) as server:
        yield server


@pytest.fixture
def vobiz_fake(vobiz_fake_server: FakeVobizServer, monkeypatch: pytest.MonkeyPatch) -> FakeVobizServer:
    """The shared fake server, reset, with 0.2 s delays; ``vobiz_default`` points at it."""
    vobiz_fake_server.reset()
    vobiz_fake_server.configure(processing_delay_s=FAST_DELAY_S, file_delay_s=FAST_DELAY_S)
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", vobiz_fake_server.connection_json())
    return vobiz_fake_server
