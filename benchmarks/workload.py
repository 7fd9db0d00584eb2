"""What the trigger benchmarks share: the fake server in its own process, the two triggers on the
same workload, and a loop that runs many of them in one asyncio loop, as a triggerer does.

Both triggers poll the fake Vobiz server for a recording id it does not know: the answer is a
404 per poll, "not ready" for both. ``ConferenceRecordingTrigger`` gets its connection from
``AIRFLOW_CONN_VOBIZ_DEFAULT``; the http provider's ``HttpSensorTrigger`` from
``AIRFLOW_CONN_HTTP_BENCH``, whose extras carry the auth headers (HttpAsyncHook sends extras as
headers).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.procs import Server, child_env

AUTH_ID, AUTH_TOKEN = "MA_BENCH0001", "bench-token-0001"
HTTP_CONN_ID = "http_bench"
TRIGGER_KINDS = ("http", "vobiz")


@contextmanager
def fake_server(workdir: Path, *, max_seconds: float = 600) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """The fake Vobiz server in its own process; yields its info and the environment of a child."""
    env = child_env(workdir / "airflow")
    with Server("fake", {"auth_id": AUTH_ID, "auth_token": AUTH_TOKEN}, env, max_seconds=max_seconds) as server:
        base_url = server.info["base_url"]
        http = {"conn_type": "http", "host": base_url, "extra": {"X-Auth-ID": AUTH_ID, "X-Auth-Token": AUTH_TOKEN}}
        connections = {"vobiz_default": server.info["connection"], HTTP_CONN_ID: json.dumps(http)}
        yield server.info, child_env(workdir / "airflow", connections)


def recording_path(recording_id: str) -> str:
    """The path of a recording's row, as both triggers request it."""
    return f"/api/v1/Account/{AUTH_ID}/Recording/{recording_id}/"


def make_trigger(kind: str, recording_id: str, interval: float, **vobiz_args: Any) -> Any:
    """A trigger that waits for ``recording_id``, polling every ``interval`` seconds."""
    if kind == "vobiz":
        from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

        return ConferenceRecordingTrigger(
            deadline=vobiz_args.pop("deadline", time.time() + 3600),
            recording_id=recording_id,
            poll_interval=interval,
            **vobiz_args,
        )
    from airflow.providers.http.triggers.http import HttpSensorTrigger

    return HttpSensorTrigger(
        endpoint=recording_path(recording_id).lstrip("/"),
        http_conn_id=HTTP_CONN_ID,
        method="GET",
        poke_interval=interval,
    )


class TriggerRun:
    """Many triggers in this process's event loop, each started after its share of one interval
    (so polls spread out as they do in a triggerer), until :meth:`stop` cancels them.

    :param make: builds trigger number ``i``.
    :param count: how many.
    :param spread: seconds over which the starts are spread.
    """

    def __init__(self, make: Callable[[int], Any], count: int, spread: float) -> None:
        self.events: list[Any] = []
        self.ended: list[float] = []  # when each event came (wall clock), in the order of events
        self.tasks = [asyncio.create_task(self._one(make, i, spread * i / count)) for i in range(count)]

    async def _one(self, make: Callable[[int], Any], number: int, delay: float) -> None:
        await asyncio.sleep(delay)
        async for event in make(number).run():
            self.events.append(event.payload)
            self.ended.append(time.time())
            return

    @property
    def waiting(self) -> int:
        """Triggers still waiting (not ended with an event, not failed)."""
        return sum(not task.done() for task in self.tasks)

    async def stop(self) -> None:
        """Cancel every trigger, as the triggerer does when a task times out; sessions close."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
