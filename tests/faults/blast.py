"""The blast-radius section of the fault matrix as data: one :class:`BlastCase` per row of
docs/reliability.md's second table.

Every case runs the same scene: 50 waits (``ConferenceRecordingTrigger``: 40 by room, 10 by
recording id, each for its own recording) and one watcher (``VobizRecordingEventTrigger`` for
every room) on one connection, created and run by Airflow's own ``TriggerRunner`` in one event
loop, as the triggerer runs them, against the fake Vobiz server over real HTTP. One odd thing is
added per case; every other wait must succeed with its own recording and the watcher must emit
every other new recording, as in the case without it (``blast-none``). The suite is
tests/faults/test_blast_radius.py; ``python -m tests.faults.table`` renders the table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.testing.settings import LoggedRequest
from vobiz_provider.validation import isoformat_utc

WAITS = 50
BY_ID = 10  # the last ten waits ask by recording id
POLL_S = 0.2  # every wait's and the watcher's poll interval
ROWS_APPEAR_S = 1.0  # the rows appear this long after the scene starts (the watcher is running)
FILE_AFTER_S = 0.3  # and their files this long after that
DEADLINE_S = 5.0  # every wait's deadline, from the scene's start
# Every other wait succeeds, and the watcher emits every other recording, this long after the files are ready.
SETTLED_S = 2.5
SLOW_HOST = "127.0.0.2"  # the slow media host: a second fake server, in auth_hosts
SLOW_S = 1.0  # its latency per answer (the connection's timeout is 2 s)
HISTORY_ROWS = 1000  # a week of other rooms' rows, for the far-back window (10 pages of 100)
FAR_POLL_S = 4.0  # the far-back wait (a backfill's sensor) polls at its own, slower pace


@dataclass
class Wait:
    """One wait of the scene: its trigger's kwargs and the recording it must return.

    :param kwargs: the trigger row's kwargs, as the sensor would write them.
    :param recording_id: its own recording.
    :param odd: the case's odd wait: its own outcome is the case's to check, not a success.
    """

    kwargs: dict[str, Any]
    recording_id: str | None
    odd: bool = False


@dataclass
class Scene:
    """What one case runs: the waits, the fake server and the recordings the watcher must emit.

    :param fake: the fake Vobiz server (the API and the media host).
    :param start: when the scene started (seconds since the epoch).
    """

    fake: FakeVobizServer
    start: float = field(default_factory=time.time)
    waits: list[Wait] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # what a case's check needs from its arrange

    @property
    def since(self) -> str:
        return isoformat_utc(datetime.fromtimestamp(self.start - 60, tz=timezone.utc))

    @property
    def deadline(self) -> float:
        return self.start + DEADLINE_S

    def add_wait(
        self, *, odd: bool = False, by_id: bool = False, ready: bool = True, **recording: Any
    ) -> tuple[Wait, str]:
        """A wait for a new recording of its own room (it appears ``ROWS_APPEAR_S`` after the start);
        ``ready=False`` adds no recording. Returns the wait and its room."""
        n = len(self.waits)
        room = f"Blast {n:02d}"
        rid = str(uuid.uuid4())
        if ready:
            self.fake.add_recording(conference_name=room, recording_id=rid, ready=False, **recording)
        kwargs: dict[str, Any] = {"deadline": self.deadline, "poll_interval": POLL_S}
        if by_id:
            kwargs["recording_id"] = rid
        else:
            kwargs.update(conference_name=room, since=self.since)
        wait = Wait(kwargs, rid if ready else None, odd=odd)
        self.waits.append(wait)
        return wait, room

    def fill(self) -> None:
        """Add the ordinary waits up to :data:`WAITS`, the last :data:`BY_ID` by recording id."""
        while len(self.waits) < WAITS:
            self.add_wait(by_id=len(self.waits) >= WAITS - BY_ID)

    def add_row(self, **recording: Any) -> str:
        """A row no wait asks for, appearing with the others."""
        return self.fake.add_recording(ready=False, **recording)

    @property
    def expected(self) -> list[Wait]:
        return [wait for wait in self.waits if not wait.odd]


@dataclass
class Run:
    """What the triggerer did: each trigger's events, the triggers it refused, whether it stopped.

    :param events: trigger index (the waits in order, then the watcher) -> event payloads.
    :param event_times: trigger index -> when each event arrived (seconds since the epoch).
    :param failed: trigger index -> the error Airflow failed that trigger with (a ``TypeError``).
    :param stopped: the error that stopped the trigger runner itself, if any.
    """

    events: dict[int, list[dict[str, Any]]]
    event_times: dict[int, list[float]]
    failed: dict[int, BaseException]
    stopped: BaseException | None
    requests: list[LoggedRequest]


# -- the odd things ----------------------------------------------------------------------------------------


def _none(scene: Scene) -> None:
    pass


def _file_403(scene: Scene) -> None:
    # The first row to appear: the watcher meets it before every other one.
    scene.add_wait(odd=True, file_status=403)


def _check_file_403(scene: Scene, run: Run) -> None:
    (event,) = run.events[0]
    assert event["status"] == "error" and "403" in event["message"], event


def _url_less_row(scene: Scene) -> None:
    scene.add_row(conference_name="Blast processing", wire={"recording_url": None})


def _malformed_row(scene: Scene) -> None:
    scene.add_row(conference_name="Blast malformed", wire={"add_time": "not a time", "duration_ms": "abc"})


def _far_back(scene: Scene) -> None:
    # A backfill's sensor for last week's meeting, which has no recording yet: it waits to its
    # deadline. A week of other rooms' rows lies between it and the others.
    week_ago = datetime.fromtimestamp(scene.start, tz=timezone.utc) - timedelta(days=7)
    for n in range(HISTORY_ROWS):
        scene.fake.add_recording(conference_name="Blast history", add_time=week_ago + timedelta(minutes=9 * n + 90))
    wait, _ = scene.add_wait(odd=True, ready=False)
    wait.kwargs.update(since=isoformat_utc(week_ago), until=isoformat_utc(week_ago + timedelta(hours=1)))
    wait.kwargs["poll_interval"] = FAR_POLL_S


def _check_far_back(scene: Scene, run: Run) -> None:
    (event,) = run.events[0]
    assert event["status"] == "timeout", event
    # The far-back wait pays for its own reads (at its own pace, a whole week each at worst); the
    # reads the others share stay in the recent band: no read at their 0.2 s pace pages through the week.
    deep = [r for r in run.requests if r.route == "recording.list" and "offset=0" not in r.query]
    pages_per_read = HISTORY_ROWS // 100
    own_reads = int(DEADLINE_S // FAR_POLL_S) + 2
    assert len(deep) <= pages_per_read * own_reads, f"{len(deep)} list pages past the first"


def _refused_trigger(scene: Scene) -> None:
    # A trigger row whose kwargs the provider refuses (a stricter check after an upgrade, a
    # restored database): in the middle of the rows, so the runner creates some before it.
    scene.fill()
    scene.waits[WAITS // 2].kwargs["poll_interval"] = 0
    scene.waits[WAITS // 2].odd = True


def _check_refused(scene: Scene, run: Run) -> None:
    index = WAITS // 2
    if index in run.failed:  # Airflow failed that one trigger (a TypeError from the constructor)
        assert "poll_interval" in str(run.failed[index])
    else:  # or it sent one error event naming the parameter
        (event,) = run.events[index]
        assert event["status"] == "error" and "poll_interval" in event["message"], event


def _slow_media_host(scene: Scene) -> None:
    # One recording's file is served by a slow host (another fake server, in auth_hosts).
    slow: FakeVobizServer = scene.extra["slow_host"]
    slow.set_latency("media", SLOW_S)
    wait, room = scene.add_wait(odd=True, ready=False)
    rid = str(uuid.uuid4())
    slow.add_recording(conference_name=room, recording_id=rid)
    (row,) = slow.recordings
    scene.fake.add_recording(
        conference_name=room, recording_id=rid, ready=False, wire={"recording_url": row["recording_url"]}
    )
    wait.recording_id = rid


def _check_slow(scene: Scene, run: Run) -> None:
    (event,) = run.events[0]
    assert event["status"] == "success" and event["recording"]["recording_id"] == scene.waits[0].recording_id


@dataclass(frozen=True)
class BlastCase:
    """One row of the blast-radius table.

    :param id: the pytest id and the doc row's first column.
    :param odd: the odd thing, for the doc.
    :param arrange: adds it to the scene (before the ordinary waits are filled in).
    :param own_outcome: what the odd wait itself comes to, for the doc.
    :param check: asserts the odd wait's own outcome (and anything else the case promises).
    :param slow_host: the case needs the slow media host.
    """

    id: str
    odd: str
    arrange: Callable[[Scene], None]
    own_outcome: str
    check: Callable[[Scene, Run], None] | None = None
    slow_host: bool = False


BLAST_CASES: list[BlastCase] = [
    BlastCase("blast-none", "nothing: the baseline", _none, "-"),
    BlastCase(
        "blast-file-403",
        "one recording's file answers 403 for ever (a deleted object behind a presigned URL)",
        _file_403,
        "its wait fails (error event naming the 403)",
        _check_file_403,
    ),
    BlastCase(
        "blast-url-less-row",
        "a row without `recording_url` (a recording still being processed)",
        _url_less_row,
        "skipped: no wait asks for it, the watcher does not emit it",
    ),
    BlastCase(
        "blast-malformed-row",
        "a row with an unparseable `add_time` and `duration_ms`",
        _malformed_row,
        "skipped: no wait asks for it, the watcher does not emit it",
    ),
    BlastCase(
        "blast-far-back-window",
        f"a wait whose window lies a week back, polling every {FAR_POLL_S:g} s, behind {HISTORY_ROWS} rows",
        _far_back,
        "times out at its deadline; the reads shared by the others never page through the week",
        _check_far_back,
    ),
    BlastCase(
        "blast-refused-trigger",
        "a trigger row whose kwargs the provider refuses (`poll_interval` 0)",
        _refused_trigger,
        "that trigger alone fails (a `TypeError` Airflow fails it with, or an error event naming `poll_interval`)",
        _check_refused,
    ),
    BlastCase(
        "blast-slow-media-host",
        f"one recording's file on another media host that answers after {SLOW_S:g} s",
        _slow_media_host,
        "its wait succeeds, later",
        _check_slow,
        slow_host=True,
    ),
]
