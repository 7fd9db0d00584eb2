"""Helpers shared by the hook tests: a driver for either hook, and request-log queries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from vobiz_provider.hooks.vobiz import VobizAsyncHook, VobizHook
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.testing.settings import LoggedRequest

FAST = {"retry_backoff": 0.01}


class Twin:
    """A sync or async hook behind one calling convention (async calls run on a private loop)."""

    def __init__(self, kind: str, conn_id: str = "vobiz_default", **kwargs: Any) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop() if kind == "async" else None
        self.hook: VobizHook | VobizAsyncHook = (
            VobizAsyncHook(conn_id, **kwargs) if kind == "async" else VobizHook(conn_id, **kwargs)
        )

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.hook, method)(*args, **kwargs)
        return self.loop.run_until_complete(result) if self.loop else result

    def session(self) -> Any:
        """The hook's HTTP session object (requests.Session or aiohttp.ClientSession)."""
        if isinstance(self.hook, VobizAsyncHook):
            assert self.loop is not None
            return self.loop.run_until_complete(self.hook._get_session())
        return self.hook.get_conn()

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self.hook.close())  # type: ignore[arg-type]
            self.loop.close()
        else:
            self.hook.close()  # type: ignore[union-attr]


def api_requests(server: FakeVobizServer, route: str) -> list[LoggedRequest]:
    """The logged requests on one route key, once their statuses are known.

    The fake logs a streamed answer's status (files) only after the body went out, so a client
    can see the answer a moment before the log does: wait up to a second for it.
    """
    deadline = time.monotonic() + 1.0
    while True:
        entries = [entry for entry in server.requests if entry.route == route]
        if all(entry.status for entry in entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)
