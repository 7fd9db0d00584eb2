"""A fake Vobiz API server for tests and demos: stateful, in memory, real HTTP on loopback.

>>> from vobiz_provider.testing import FakeVobizServer
>>> with FakeVobizServer() as srv:  # doctest: +SKIP
...     srv.add_room("Daily Standup", members=3, recording=True)

Also a pytest plugin that users enable themselves (``pytest_plugins =
["vobiz_provider.testing.pytest_plugin"]``; fixtures ``vobiz_fake`` and ``vobiz_fake_server``)
and a command: ``python -m vobiz_provider.testing --port 8765``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vobiz_provider.testing.ports import RefusingPort, refusing_port
    from vobiz_provider.testing.proxy import CountingProxy
    from vobiz_provider.testing.server import FakeVobizServer
    from vobiz_provider.testing.settings import ROUTE_KEYS, FakeSettings, LoggedRequest

__all__ = [
    "ROUTE_KEYS",
    "CountingProxy",
    "FakeSettings",
    "FakeVobizServer",
    "LoggedRequest",
    "RefusingPort",
    "refusing_port",
]

# Resolved on first use: importing the package (e.g. for the pytest plugin) must not import aiohttp.
_EXPORTS = {
    "FakeVobizServer": "vobiz_provider.testing.server",
    "FakeSettings": "vobiz_provider.testing.settings",
    "LoggedRequest": "vobiz_provider.testing.settings",
    "ROUTE_KEYS": "vobiz_provider.testing.settings",
    "RefusingPort": "vobiz_provider.testing.ports",
    "CountingProxy": "vobiz_provider.testing.proxy",
    "refusing_port": "vobiz_provider.testing.ports",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
