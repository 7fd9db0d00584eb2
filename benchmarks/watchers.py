"""Watching many rooms: requests per poll interval, one watcher per room vs one for every room.

``VobizRecordingEventTrigger`` runs in a child process against the fake Vobiz server for a window
of several poll intervals, idle (no new recordings: the steady state) with history rows in every
room. Per-room watchers (``conference_name`` set, one asset each) send one list request each per
interval; one watcher for every room (``conference_name=None``) sends one in all. Target: the
all-rooms watcher makes at most one list request per interval, whatever the number of rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.procs import child_env, run_child
from benchmarks.report import Row, Table, at_most

if TYPE_CHECKING:
    from vobiz_provider.testing import FakeVobizServer

FULL: dict[str, Any] = {"rooms": [1, 10, 50], "interval": 1.0, "intervals": 5}
QUICK: dict[str, Any] = {"rooms": [1, 10], "interval": 0.25, "intervals": 4}


async def _requests_per_interval(
    server: FakeVobizServer, rooms: list[str | None], interval: float, intervals: int
) -> float:
    """Run one watcher per entry of ``rooms`` for ``intervals`` poll intervals; list requests per interval."""
    from vobiz_provider.triggers.recording import VobizRecordingEventTrigger

    async def drain(trigger: VobizRecordingEventTrigger) -> None:
        async for _ in trigger.run():
            pass

    tasks = [
        asyncio.create_task(drain(VobizRecordingEventTrigger(conference_name=room, poll_interval=interval)))
        for room in rooms
    ]
    await asyncio.sleep(interval / 2)  # every watcher made its first poll
    started = _list_requests(server)
    await asyncio.sleep(interval * intervals)
    counted = _list_requests(server) - started
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return counted / intervals


def _list_requests(server: FakeVobizServer) -> int:
    return sum(1 for r in server.requests if r.route == "recording.list")


def measure(rooms: list[int], interval: float, intervals: int) -> list[dict[str, float]]:
    """In a child (the watchers' log lines stay out of the report): per room count, list requests
    per interval with one watcher per room and with one watcher for every room."""
    from vobiz_provider.testing import FakeVobizServer

    results = []
    with FakeVobizServer() as server:
        os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = server.connection_json()
        for count in rooms:
            server.reset()
            names = [f"Room {n}" for n in range(count)]
            for name in names:  # history: listed on every poll's page, never emitted
                server.add_recording(conference_name=name, add_time=datetime.now(timezone.utc) - timedelta(days=1))
            per_room = asyncio.run(_requests_per_interval(server, list(names), interval, intervals))
            server.clear_log()
            shared = asyncio.run(_requests_per_interval(server, [None], interval, intervals))
            results.append({"rooms": count, "per_room": per_room, "shared": shared})
    return results


def run(quick: bool, workdir: Path) -> Table:
    sizes = QUICK if quick else FULL
    interval, intervals = float(sizes["interval"]), int(sizes["intervals"])
    table = Table("Event watchers: list requests per poll interval, idle")
    timeout = 60 + 3 * len(sizes["rooms"]) * interval * (intervals + 1)
    for result in run_child("watchers:measure", sizes, child_env(workdir / "airflow"), timeout=timeout):
        count = int(result["rooms"])
        table.add(Row(f"{count} rooms, one watcher per room", result["per_room"], "requests per interval"))
        table.add(
            at_most(
                f"{count} rooms, one watcher for every room", result["shared"], 1.0, "requests per interval", "<= 1.0"
            )
        )
    table.notes.append(f"poll interval {interval} s, {intervals} intervals per measurement, fake server in the child")
    return table
