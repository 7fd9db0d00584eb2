"""VobizRecordingEventTrigger run in asyncio against the fake Vobiz server over real HTTP.

The asset state store is a dict behind the accessor's ``aget``/``aset`` (values pass through
JSON, as they do on their way to the API server); ``make e2e`` runs the watcher in a real triggerer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.compat import import_string, needs_airflow_3
from tests.sensors.support import gaps, requests_on
from vobiz_provider.models import Recording
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.triggers import recording as triggers
from vobiz_provider.triggers.recording import VobizRecordingEventTrigger
from vobiz_provider.triggers.watermark import Watermark

pytestmark = needs_airflow_3

POLL = 0.2
SLACK = 0.03  # timer and scheduling slack when comparing gaps with the poll interval
STORED_AFTER = 2.0  # the wait before an event counts as stored, shortened from 5 s for these tests
LIMIT = 20.0  # seconds an expected event may take on a loaded machine


class StateStore:
    """The accessor methods the trigger uses, over a dict; values go through JSON like on the wire."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)

    def watermark(self) -> Watermark:
        (value,) = self.values.values()
        return Watermark.from_json(json.loads(value))


class Watch:
    """A trigger running as the triggerer runs it, its events collected as they are yielded."""

    def __init__(self, trigger: VobizRecordingEventTrigger, store: StateStore | None) -> None:
        trigger.asset_state_store = store  # type: ignore[assignment]
        self.trigger = trigger
        self.events: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.trigger.run():
            self.events.append(event.payload)

    @property
    def ids(self) -> list[str]:
        return [event["recording_id"] for event in self.events]

    async def until(self, *recording_ids: str, limit: float = LIMIT) -> None:
        deadline = time.monotonic() + limit
        while not set(recording_ids) <= set(self.ids):
            if self.task.done():
                self.task.result()
            assert time.monotonic() < deadline, f"not emitted within {limit} s: {set(recording_ids) - set(self.ids)}"
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """Cancel the trigger wherever it is, as a dying triggerer does."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def started(fake: FakeVobizServer, watch: Watch, polls: int = 1) -> None:
    """Wait until the watcher has listed ``polls`` times (its watermark is set from its first start)."""
    deadline = time.monotonic() + LIMIT
    while len(requests_on(fake, "recording.list")) < polls:
        assert time.monotonic() < deadline and not watch.task.done(), "the watcher never listed"
        await asyncio.sleep(0.05)


def make_trigger(**kwargs: Any) -> VobizRecordingEventTrigger:
    return VobizRecordingEventTrigger(**{"poll_interval": POLL, **kwargs})


@pytest.fixture(autouse=True)
def _short_store_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triggers, "EVENT_STORED_AFTER", STORED_AFTER)


# -- arguments -----------------------------------------------------------------------------------


def test_serialize_is_plain_json_deterministic_and_round_trips() -> None:
    trigger = VobizRecordingEventTrigger(conference_name="Daily Standup", recording_type="Conference", poll_interval=30)
    classpath, kwargs = trigger.serialize()

    assert classpath == "vobiz_provider.triggers.recording.VobizRecordingEventTrigger"
    assert kwargs == {
        "vobiz_conn_id": "vobiz_default",
        "conference_name": "Daily Standup",
        "recording_type": "conference",
        "poll_interval": 30.0,
    }
    again = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    # The same watcher written another way hashes the same, so Airflow finds the same trigger row.
    same = VobizRecordingEventTrigger(poll_interval=30.0, conference_name="Daily Standup")
    assert VobizRecordingEventTrigger.hash(*same.serialize()) == VobizRecordingEventTrigger.hash(classpath, kwargs)


def test_the_state_key_names_the_room_and_the_type() -> None:
    one_room = VobizRecordingEventTrigger(conference_name="Daily Standup")
    every_room = VobizRecordingEventTrigger()
    calls = VobizRecordingEventTrigger(recording_type="call")

    assert "Daily Standup" in one_room.state_key and "conference" in one_room.state_key
    assert len({one_room.state_key, every_room.state_key, calls.state_key}) == 3


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"conference_name": "  "}, "conference_name must be"),
        ({"conference_name": 7}, "conference_name must be"),
        ({"recording_type": ""}, "recording_type must be"),
        ({"poll_interval": 0}, "poll_interval must be"),
        ({"poll_interval": "60"}, "poll_interval must be"),
        ({"vobiz_conn_id": ""}, "vobiz_conn_id must be"),
    ],
)
def test_bad_kwargs_are_refused_naming_the_parameter(kwargs: dict[str, Any], named: str) -> None:
    # A ValueError naming the parameter at DAG parse and in the sensor, and a TypeError for the
    # triggerer, which then fails this trigger alone (the in-runner test below).
    with pytest.raises(ValueError, match=named) as refused:
        VobizRecordingEventTrigger(**kwargs)
    assert isinstance(refused.value, TypeError)


# -- the watermark ---------------------------------------------------------------------------------

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def _rec(recording_id: str, seconds: int) -> Recording:
    return Recording.from_api(
        {
            "recording_id": recording_id,
            "recording_url": f"http://127.0.0.1/{recording_id}.mp3",
            "conference_name": "Room",
            "recording_type": "conference",
            "add_time": (T0 + timedelta(seconds=seconds)).isoformat(),
        }
    )


def test_the_watermark_waits_at_the_oldest_recording_not_done_and_remembers_what_is_ahead() -> None:
    mark = Watermark.starting_at(T0 + timedelta(microseconds=700))
    a, b, c, d = _rec("a", 0), _rec("b", 0), _rec("c", 5), _rec("d", 9)
    assert mark.add_time == T0 and all(mark.is_new(r) for r in (a, b, c, d))

    # a and d stored, b (same instant as a) not yet: the watermark stays at a's instant.
    mark = mark.advance([a, b, c, d], stored=["a", "d"])
    assert (mark.add_time, mark.ids, mark.ahead) == (T0, {"a"}, {"d"})
    assert [r.recording_id for r in (a, b, c, d) if mark.is_new(r)] == ["b", "c"]

    mark = mark.advance([b, c, d], stored=["b", "c"])
    assert (mark.add_time, mark.ids, mark.ahead) == (T0 + timedelta(seconds=9), {"d"}, frozenset())
    assert Watermark.from_json(json.loads(json.dumps(mark.to_json()))) == mark


def test_a_stored_watermark_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="not a watermark"):
        Watermark.from_json({"add_time": "2026-01-01T00:00:00Z"})


# -- against the fake server -------------------------------------------------------------------------


async def test_recordings_appearing_over_time_are_each_emitted_once_and_history_never(
    vobiz_fake: FakeVobizServer,
) -> None:
    history = [vobiz_fake.add_recording(conference_name=f"Room {n}", add_time=T0 - timedelta(days=n)) for n in (1, 2)]
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    first = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(first)
    later = [vobiz_fake.add_recording(conference_name=room) for room in ("Design Review", "Sales Call")]
    vobiz_fake.add_recording(conference_name=None, recording_type="call")  # not a conference recording
    await watch.until(*later)
    await asyncio.sleep(6 * POLL)
    await watch.kill()

    assert sorted(watch.ids) == sorted([first, *later])
    assert not set(history) & set(watch.ids)
    event = watch.events[0]
    assert event["conference_name"] == "Daily Standup" and event["recording_type"] == "conference"
    assert Recording.from_dict(event).recording_url.endswith(".mp3")


async def test_one_room_only_and_the_list_checked_client_side(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(list_filters="ignore")
    watch = Watch(make_trigger(conference_name="Daily Standup"), StateStore())
    await started(vobiz_fake, watch)

    for room in ("Daily Standup 2", "daily standup", "Sales Call"):
        vobiz_fake.add_recording(conference_name=room)
    mine = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(mine)
    await asyncio.sleep(4 * POLL)
    await watch.kill()

    assert watch.ids == [mine]
    assert "conference_name=Daily+Standup" in requests_on(vobiz_fake, "recording.list")[-1].query


async def test_a_server_reading_the_time_filter_in_another_zone_hides_no_new_recording(
    vobiz_fake: FakeVobizServer,
) -> None:
    # "YYYY-MM-DD HH:MM:SS" read at -10:00: a watermark sent as is would start 10 hours late.
    vobiz_fake.configure(list_filters="honour", list_filter_utc_offset="-10:00")
    first_start = datetime.now(timezone.utc)
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    new = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(new, limit=5)
    await watch.kill()

    # Sent 14 hours before the watermark (the first start), in UTC without an offset, as documented.
    (sent,) = parse_qs(requests_on(vobiz_fake, "recording.list")[0].query)["add_time__gte"]
    behind = first_start - datetime.strptime(sent, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    assert abs(behind - timedelta(hours=14)) < timedelta(seconds=5)


async def test_a_recording_whose_file_is_not_ready_is_emitted_once_it_is(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0.0, file_delay_s=1.5)
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    slow = vobiz_fake.add_recording(conference_name="Webinar", ready=False)
    quick = vobiz_fake.add_recording(conference_name="Daily Standup")  # added after, ready at once
    await watch.until(slow, quick)
    await asyncio.sleep(6 * POLL)
    await watch.kill()

    assert watch.ids == [quick, slow]  # the ready one did not wait for the slow one
    probes = [r for r in requests_on(vobiz_fake, "media") if slow in r.path]
    statuses = [r.status for r in probes]
    assert 404 in statuses and statuses[-1] == 200 and statuses.index(200) == len(statuses) - 1


async def test_a_restart_from_the_state_store_neither_re_emits_nor_misses(vobiz_fake: FakeVobizServer) -> None:
    store = StateStore()
    watch = Watch(make_trigger(), store)
    await started(vobiz_fake, watch)
    before = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(before)
    await asyncio.sleep(STORED_AFTER + 4 * POLL)  # the event is stored, and the watermark saved
    await watch.kill()
    assert not store.watermark().is_new(Recording.from_dict(watch.events[0]))

    # Added while no triggerer ran, one of them (with a late file) listed but not ready at the restart.
    vobiz_fake.configure(processing_delay_s=0.0, file_delay_s=1.0)
    during = [vobiz_fake.add_recording(conference_name="Sales Call"), vobiz_fake.add_recording(conference_name="X")]
    late = vobiz_fake.add_recording(conference_name="Webinar", ready=False)
    again = Watch(make_trigger(), store)
    await again.until(*during, late)
    await asyncio.sleep(6 * POLL)
    await again.kill()

    assert sorted(again.ids) == sorted([*during, late])


async def test_a_kill_between_yield_and_storage_loses_nothing(vobiz_fake: FakeVobizServer) -> None:
    store = StateStore()
    watch = Watch(make_trigger(), store)
    await started(vobiz_fake, watch)
    lost = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(lost)
    # Polls go on after the yield, but the triggerer dies before Airflow stored the event.
    await started(vobiz_fake, watch, polls=len(requests_on(vobiz_fake, "recording.list")) + 2)
    await watch.kill()
    assert store.watermark().is_new(Recording.from_dict(watch.events[0]))

    again = Watch(make_trigger(), store)
    await again.until(lost)
    await asyncio.sleep(STORED_AFTER + 4 * POLL)
    await again.kill()
    assert again.ids == [lost]  # emitted again (at least once), and once
    assert not store.watermark().is_new(Recording.from_dict(again.events[0]))


async def test_a_first_start_without_a_state_store_watches_from_now(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name="Daily Standup", add_time=datetime.now(timezone.utc) - timedelta(hours=1))
    watch = Watch(make_trigger(), None)
    await started(vobiz_fake, watch)
    new = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(new)
    await watch.kill()

    assert watch.ids == [new]


async def test_429_and_5xx_are_paced_and_the_watch_goes_on(vobiz_fake: FakeVobizServer) -> None:
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)
    vobiz_fake.inject("recording.list", 429, retry_after=1)
    vobiz_fake.inject("recording.list", 503, times=2)
    vobiz_fake.inject("recording.list", 500)
    recording_id = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(recording_id)
    await watch.kill()

    lists = requests_on(vobiz_fake, "recording.list")
    statuses = [r.status for r in lists]
    assert statuses[1:5] == [429, 503, 503, 500], statuses
    assert min(gaps(lists)) >= POLL - SLACK
    assert gaps(lists)[1] >= 1 - SLACK  # Retry-After: 1 after the 429
    assert watch.ids == [recording_id]


async def test_bad_credentials_pause_the_watch_instead_of_hammering(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 401, times=100)
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)
    await asyncio.sleep(10 * POLL)
    await watch.kill()

    assert [r.status for r in requests_on(vobiz_fake, "recording.list")] == [401]


async def test_a_file_that_never_comes_is_skipped_after_a_day_and_holds_nothing_back(
    vobiz_fake: FakeVobizServer,
) -> None:
    now = datetime.now(timezone.utc)
    store = StateStore()
    await store.aset(make_trigger().state_key, Watermark.starting_at(now - timedelta(days=3)).to_json())
    vobiz_fake.configure(processing_delay_s=0.0, file_delay_s=3600)
    broken = vobiz_fake.add_recording(conference_name="Daily Standup", ready=False, add_time=now - timedelta(days=2))
    newer = vobiz_fake.add_recording(conference_name="Daily Standup", add_time=now - timedelta(hours=1))
    watch = Watch(make_trigger(), store)
    await watch.until(newer)
    await asyncio.sleep(STORED_AFTER + 4 * POLL)
    await watch.kill()

    assert watch.ids == [newer]
    mark = store.watermark()
    assert mark.ids == {newer} and mark.ahead == frozenset()  # the broken row holds the watermark no more
    assert len([r for r in requests_on(vobiz_fake, "media") if broken in r.path]) <= 2  # one probe (HEAD, GET)


# -- one odd recording or row holds up nothing else --------------------------------------------------


def _warnings_naming(log: str, text: str) -> list[str]:
    """The warning lines of the trigger's log (structlog writes it to stdout; Airflow 3.0 in logging's format) that
    contain ``text``."""
    return [line for line in log.splitlines() if ("[warning" in line or "} WARNING - " in line) and text in line]


@pytest.mark.parametrize("presigned", [False, True], ids=["media-host", "presigned-storage"])
async def test_a_file_that_answers_403_for_ever_is_given_up_alone_and_later_recordings_flow(
    vobiz_fake: FakeVobizServer, capfd: pytest.CaptureFixture[str], presigned: bool
) -> None:
    if presigned:  # the media host redirects to storage, which refuses a HEAD on a URL signed for GET
        if "127.0.0.3" not in vobiz_fake.listen_hosts:
            pytest.skip("127.0.0.3 is not a loopback address on this machine")
        vobiz_fake.configure(storage_host="127.0.0.3", storage_signed=True, storage_head_status=403)
    store = StateStore()
    watch = Watch(make_trigger(), store)
    await started(vobiz_fake, watch)

    # A deleted object behind a presigned URL answers 403, not 404, for ever.
    deleted = vobiz_fake.add_recording(conference_name="Webinar", file_status=403)
    later = [vobiz_fake.add_recording(conference_name=room) for room in ("Daily Standup", "Sales Call")]
    await watch.until(*later, limit=20 * POLL + LIMIT)
    last = vobiz_fake.add_recording(conference_name="Design Review")
    await watch.until(last)
    await asyncio.sleep(STORED_AFTER + 4 * POLL)
    await watch.kill()

    assert sorted(watch.ids) == sorted([*later, last])  # nothing for the refused file
    probes = [r for r in requests_on(vobiz_fake, "media", "storage") if deleted in r.path]
    assert [r.status for r in probes] == ([302, 403, 302, 403] if presigned else [403])  # one probe: given up
    log = capfd.readouterr().out
    assert len(_warnings_naming(log, f"Giving up recording {deleted!r}")) == 1
    assert "Stopped watching" not in log
    assert not store.watermark().is_new(Recording.from_dict(watch.events[-1]))  # not held back by it


async def test_a_401_on_a_file_blames_the_credentials_and_loses_no_recording(
    vobiz_fake: FakeVobizServer, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(triggers, "DEFAULT_MAX_POLL_INTERVAL", 5 * POLL)  # the pause, shortened
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    vobiz_fake.inject("media", 401)
    recording_id = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(recording_id)  # after the pause, once the credentials answer again
    await watch.kill()

    log = capfd.readouterr().out
    assert "Stopped watching Vobiz recordings for now" in log and "Giving up recording" not in log
    assert [r.status for r in requests_on(vobiz_fake, "media")][:2] == [401, 200]


async def test_a_file_that_keeps_failing_is_retried_then_given_up_alone(
    vobiz_fake: FakeVobizServer, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(triggers, "PROBE_MAX_FAILURES", 3)
    monkeypatch.setattr(triggers, "PROBE_FAILING_FOR", timedelta(seconds=2 * POLL))
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    vobiz_fake.inject("media", 503)  # one failed probe: the recording is emitted at a later poll
    flaky = vobiz_fake.add_recording(conference_name="Daily Standup")
    broken = vobiz_fake.add_recording(conference_name="Webinar", file_status=502)
    await watch.until(flaky)
    fine = vobiz_fake.add_recording(conference_name="Sales Call")
    await watch.until(fine)
    await asyncio.sleep(8 * POLL)
    await watch.kill()

    assert sorted(watch.ids) == sorted([flaky, fine])
    probes = [r for r in requests_on(vobiz_fake, "media") if broken in r.path]
    assert 3 <= len(probes) <= 4 and {r.status for r in probes} == {502}  # retried, then given up
    assert len(_warnings_naming(capfd.readouterr().out, f"Giving up recording {broken!r}")) == 1


async def test_rows_the_watcher_cannot_use_are_skipped_warned_once_and_hold_up_nothing(
    vobiz_fake: FakeVobizServer, capfd: pytest.CaptureFixture[str]
) -> None:
    watch = Watch(make_trigger(), StateStore())
    await started(vobiz_fake, watch)

    processing = vobiz_fake.add_recording(conference_name="Webinar", wire={"recording_url": None})
    malformed = vobiz_fake.add_recording(conference_name="Webinar", wire={"recording_duration_ms": "n/a"})
    after = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(after)
    await asyncio.sleep(6 * POLL)
    await watch.kill()

    assert watch.ids == [after]
    assert {r.status for r in requests_on(vobiz_fake, "recording.list")} == {200}
    log = capfd.readouterr().out
    assert "Stopped watching" not in log
    # One warning per row, not one per poll, each naming the row and the field.
    (url_less,) = _warnings_naming(log, processing)
    (bad_number,) = _warnings_naming(log, malformed)
    assert "recording_url" in url_less and "recording_duration_ms" in bad_number


async def test_a_connection_missing_at_the_start_is_a_failed_poll_and_the_watch_goes_on(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = vobiz_fake.connection_json()
    monkeypatch.delenv("AIRFLOW_CONN_VOBIZ_DEFAULT")
    watch = Watch(make_trigger(), StateStore())
    await asyncio.sleep(3 * POLL)
    assert not vobiz_fake.requests and not watch.task.done()
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", connection)
    await started(vobiz_fake, watch)

    recording_id = vobiz_fake.add_recording(conference_name="Daily Standup")
    await watch.until(recording_id)
    await watch.kill()
