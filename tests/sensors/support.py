"""Helpers shared by the sensor and trigger tests: rooms full of decoys, request-log queries, and
Vobiz's processing held until a sensor has looked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise

from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.testing.settings import LoggedRequest

ROOM = "Team Sync"
SINCE = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@dataclass
class Decoys:
    """The recording that must be chosen, and how many rows surround it."""

    target: str
    total: int


def add_decoys(fake: FakeVobizServer, room: str = ROOM, since: datetime = SINCE, newer: int = 150) -> Decoys:
    """The meeting's recording (20 minutes after ``since``) among rows that must not be chosen:

    ``newer`` rows added after it (other rooms, a room whose name contains this one, the same name
    in another case, call recordings, one of them named for this room), so that a list of 100 per
    page shows it only on page 2; an earlier recording of the same room after ``since`` (a valid
    match, but not the newest); and 60 recordings of the room before ``since``, one a second before,
    so the list has three pages and the last is not needed.
    """
    target = fake.add_recording(conference_name=room, add_time=since + timedelta(minutes=20))
    fake.add_recording(conference_name=room, add_time=since + timedelta(minutes=5))
    others = ("Sales Call", f"{room} 2", room.lower(), None)
    for n in range(newer):
        when = since + timedelta(minutes=21, seconds=n)
        name = others[n % len(others)]
        fake.add_recording(conference_name=name, add_time=when, recording_type="call" if name is None else "conference")
    fake.add_recording(conference_name=room, add_time=since + timedelta(minutes=22), recording_type="call")
    fake.add_recording(conference_name=room, add_time=since - timedelta(seconds=1))
    for n in range(59):
        fake.add_recording(conference_name=room, add_time=since - timedelta(days=1, minutes=n))
    return Decoys(target, newer + 64)


def add_unusable_rows(fake: FakeVobizServer, since: datetime = SINCE) -> list[str]:
    """Rows of other rooms, newer than the meeting's, that the provider cannot use: one still being
    processed (no recording_url), one with a number that does not parse, one without add_time."""
    when = since + timedelta(minutes=30)
    return [
        fake.add_recording(conference_name="Webinar", add_time=when, wire={"recording_url": None}),
        fake.add_recording(conference_name="Sales Call", add_time=when, wire={"recording_duration_ms": "n/a"}),
        fake.add_recording(conference_name=None, recording_type="call", add_time=when, wire={"add_time": None}),
    ]


def requests_on(fake: FakeVobizServer, *routes: str) -> list[LoggedRequest]:
    return [entry for entry in fake.requests if entry.route in routes]


def gaps(entries: list[LoggedRequest]) -> list[float]:
    """Seconds between consecutive requests."""
    return [later.received_at - earlier.received_at for earlier, later in pairwise(entries)]


@contextmanager
def processing_finishes_after_first_look(fake: FakeVobizServer) -> Iterator[None]:
    """A stopped recording's row appears only once a recordings list after the stop has been answered.

    So the first look of a sensor waiting for it finds nothing, however slowly the machine runs
    the tasks in between (a fixed processing delay may pass before the sensor starts).
    """
    fake.configure(processing_delay_s=3600)
    done = threading.Event()

    def finish_after_first_look() -> None:
        while not done.wait(0.02):
            stops = requests_on(fake, "conference.record.stop")
            if stops and any(
                entry.status and entry.received_at > stops[-1].received_at
                for entry in requests_on(fake, "recording.list")
            ):
                fake.finish_processing()
                return

    watcher = threading.Thread(target=finish_after_first_look, name="finish-processing", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
