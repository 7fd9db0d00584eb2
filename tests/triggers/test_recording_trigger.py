"""ConferenceRecordingTrigger run in asyncio against the fake Vobiz server over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest

from tests.compat import RunTrigger, import_string, needs_trigger_runner_3, runner_event
from tests.sensors.support import ROOM, SINCE, add_decoys, add_unusable_rows, gaps, requests_on
from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.hooks.vobiz import VobizAsyncHook
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.triggers.recording import ConferenceRecordingTrigger, VobizRecordingEventTrigger
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS
from vobiz_provider.waiting import WaitStatus, read_event

POLL = 0.2
# Timer and scheduling slack when comparing the gaps between requests with the poll interval.
SLACK = 0.03


def make_trigger(**kwargs: Any) -> ConferenceRecordingTrigger:
    settings: dict[str, Any] = {
        "deadline": time.time() + 5,
        "conference_name": ROOM,
        "since": SINCE.isoformat(),
        "poll_interval": POLL,
    }
    return ConferenceRecordingTrigger(**{**settings, **kwargs})


async def run_trigger(trigger: ConferenceRecordingTrigger, limit: float = 10) -> dict[str, Any]:
    """Run the trigger to its end; it must send exactly one event, which must read back."""
    events = [event.payload async for event in _bounded(trigger, limit)]
    assert len(events) == 1, events
    read_event(events[0])
    return events[0]  # type: ignore[no-any-return]


async def _bounded(trigger: ConferenceRecordingTrigger, limit: float) -> Any:
    run = trigger.run()
    while True:
        try:
            yield await asyncio.wait_for(anext(run), limit)
        except StopAsyncIteration:
            return


def test_serialize_round_trips_through_json() -> None:
    trigger = make_trigger(
        since="2026-11-23T15:30:00+05:30",
        until="2026-11-23T16:30:00+05:30",
        deadline="2026-11-23T18:30:00+05:30",
        max_poll_interval=3,
        poll_backoff=2,
    )
    classpath, kwargs = trigger.serialize()

    assert classpath == "vobiz_provider.triggers.recording.ConferenceRecordingTrigger"
    again = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    # Instants travel as UTC: since as ISO with Z, the deadline as epoch seconds.
    assert (kwargs["since"], kwargs["until"]) == ("2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z")
    assert kwargs["deadline"] == (SINCE + timedelta(hours=3)).timestamp()
    assert kwargs["recording_id"] is None and kwargs["recording_seen"] is False


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"conference_name": None}, "conference_name and recording_id are both empty"),
        ({"since": None}, "since is empty"),
        ({"since": "yesterday"}, "since is not an ISO-8601 time"),
        ({"until": "tomorrow"}, "until is not an ISO-8601 time"),
        ({"until": "2026-11-23T09:59:59Z"}, "until .* is before since"),
        ({"poll_interval": 0}, "poll_interval must be"),
        ({"poll_backoff": 0.5}, "poll_backoff must be"),
        ({"max_consecutive_failures": 0}, "max_consecutive_failures must be"),
        ({"deadline": None}, "deadline must be"),
        ({"first_poll_at": "soon"}, "first_poll_at is not an ISO-8601 time"),
    ],
)
def test_bad_kwargs_are_refused_naming_the_parameter(kwargs: dict[str, Any], named: str) -> None:
    # A ValueError naming the parameter at DAG parse and in the sensor, and a TypeError for the
    # triggerer, which then fails this trigger alone (the in-runner test below).
    with pytest.raises(ValueError, match=named) as refused:
        make_trigger(**kwargs)
    assert isinstance(refused.value, TypeError)


async def test_a_ready_recording_is_sent_at_once(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=3))
    started = time.monotonic()
    event = await run_trigger(make_trigger(poll_interval=30))

    # The first poll is made at once (not an interval later), and it finds the file ready.
    assert time.monotonic() - started < 30
    assert event["status"] == "success"
    recording = event["recording"]
    assert recording["recording_id"] == recording_id and recording["conference_name"] == ROOM
    assert recording["add_time"] == "2026-11-23T10:03:00+00:00"
    assert [r.route for r in vobiz_fake.requests] == ["recording.list", "media"]


async def test_by_id_not_known_yet_then_ready(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0.5, file_delay_s=0)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, ready=False)
    event = await run_trigger(make_trigger(conference_name=None, since=None, recording_id=recording_id))

    assert event["status"] == "success" and event["recording"]["recording_id"] == recording_id
    gets = requests_on(vobiz_fake, "recording.get")
    assert [r.status for r in gets][-1] == 200 and 404 in [r.status for r in gets]
    assert min(gaps(gets)) >= POLL - SLACK


async def test_a_row_whose_file_answers_404_is_waited_for_by_probing_only_the_file(
    vobiz_fake: FakeVobizServer,
) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=0.7)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, ready=False)
    event = await run_trigger(make_trigger(since="2026-01-01"))

    assert event["status"] == "success" and event["recording"]["recording_id"] == recording_id
    # The row is listed once; after that each poll is one request: a probe of the file.
    assert len(requests_on(vobiz_fake, "recording.list")) == 1
    probes = requests_on(vobiz_fake, "media")
    assert [(r.method, r.status) for r in probes][-1] == ("HEAD", 200)
    assert {(r.method, r.status) for r in probes[:-1]} == {("HEAD", 404)} and len(probes) >= 3
    assert min(gaps(probes)) >= POLL - SLACK


async def test_a_timeout_says_what_was_looked_for_and_what_was_seen(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name="Sales Call", add_time=SINCE + timedelta(minutes=31))
    for hours in (1, 25):
        vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE - timedelta(hours=hours))
    deadline = time.time() + 1.0
    event = await run_trigger(make_trigger(deadline=deadline, poll_interval=0.4))

    assert event == {
        "status": "timeout",
        "message": f"Timed out at {_iso(deadline)}: no recording of 'Team Sync' since 2026-11-23T10:00:00Z; "
        "newest seen: 'Sales Call' at 2026-11-23T10:31:00Z; 2 recordings of 'Team Sync' before since",
    }
    lists = requests_on(vobiz_fake, "recording.list")
    # Polls at 0, 0.4 and 0.8 s, and a last one at the deadline.
    assert len(lists) == 4
    assert lists[-1].received_at >= deadline - SLACK


async def test_the_last_poll_is_made_at_the_deadline_and_finds_a_file_ready_just_before(
    vobiz_fake: FakeVobizServer,
) -> None:
    # Polls are woken on a grid of a tenth of the interval (0.2 s here); start just after a grid
    # point, so a sleep stretched onto the grid would end 0.14 s past the deadline.
    loop = asyncio.get_running_loop()
    while not 0.005 <= loop.time() % 0.2 <= 0.03:
        await asyncio.sleep(0.002)
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=1.9)
    rid = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    deadline = time.time() + 2.05  # just over one interval: the second poll is the last

    event = await run_trigger(make_trigger(deadline=deadline, poll_interval=2.0))

    assert event["status"] == "success" and event["recording"]["recording_id"] == rid
    probes = requests_on(vobiz_fake, "media")
    assert [p.status for p in probes] == [404, 200]
    assert deadline - SLACK <= probes[-1].received_at <= deadline + 2 * SLACK


async def test_a_timeout_names_a_recording_whose_file_never_came(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=60)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    event = await run_trigger(make_trigger(deadline=time.time() + 0.5))

    assert event["status"] == "timeout"
    assert f"recording {recording_id!r} of 'Team Sync' (added 2026-11-23T10:00:00Z) was found" in event["message"]
    assert "its file still answered 404" in event["message"]


@pytest.mark.parametrize("list_filters", ["ignore", "honour"])
async def test_the_meetings_recording_is_chosen_among_decoys_across_pages(
    vobiz_fake: FakeVobizServer, list_filters: str
) -> None:
    vobiz_fake.configure(list_filters=list_filters, add_time_utc_offset="+05:30")
    decoys = add_decoys(vobiz_fake)
    event = await run_trigger(make_trigger(since="2026-11-23T15:30:00+05:30"))

    assert event["status"] == "success" and event["recording"]["recording_id"] == decoys.target
    assert event["recording"]["add_time"] == "2026-11-23T10:20:00+00:00"
    pages = [r.query for r in requests_on(vobiz_fake, "recording.list")]
    if list_filters == "ignore":
        # The target is on page 2 of 3; page 2 ends before since, so page 3 is not asked for.
        assert decoys.total > 200
        assert len(pages) == 2 and "offset=100" in pages[1]


async def test_the_error_budget_ends_the_wait_without_a_tight_loop(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 503, times=20)
    event = await run_trigger(make_trigger(max_consecutive_failures=3))

    assert event["status"] == "error"
    assert event["message"].startswith("Stopped waiting for a recording of 'Team Sync' since 2026-11-23T10:00:00Z")
    assert "gave up after 3 failed polls in a row; the last: list recordings: Vobiz answered 503" in event["message"]
    # No retries inside the hook: one request per poll, a poll interval apart.
    lists = requests_on(vobiz_fake, "recording.list")
    assert len(lists) == 3 and min(gaps(lists)) >= POLL - SLACK


async def test_a_poll_that_answers_restarts_the_budget(vobiz_fake: FakeVobizServer) -> None:
    async def fail_twice_more_once_answered() -> None:
        while not [r for r in requests_on(vobiz_fake, "recording.list") if r.status == 200]:
            await asyncio.sleep(0.01)
        vobiz_fake.inject("recording.list", 503, times=2)
        vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)

    vobiz_fake.inject("recording.list", 503, times=2)
    watcher = asyncio.ensure_future(fail_twice_more_once_answered())
    event = await run_trigger(make_trigger(max_consecutive_failures=3))
    await watcher

    assert event["status"] == "success"
    # Two failures, an answer (nothing yet) that restarts the count, two more failures, the match.
    assert [r.status for r in requests_on(vobiz_fake, "recording.list")] == [503, 503, 200, 503, 503, 200]


async def test_429_waits_as_long_as_vobiz_asks_and_is_not_a_failure(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 429, retry_after=0.6, times=2)
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    event = await run_trigger(make_trigger(max_consecutive_failures=1))

    assert event["status"] == "success"
    lists = requests_on(vobiz_fake, "recording.list")
    assert [r.status for r in lists] == [429, 429, 200]
    assert min(gaps(lists)) >= 0.6 - SLACK


@pytest.mark.parametrize(("route", "status"), [("recording.list", 401), ("media", 403)])
async def test_401_and_403_fail_at_once(vobiz_fake: FakeVobizServer, route: str, status: int) -> None:
    vobiz_fake.inject(route, status, times=5)
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    event = await run_trigger(make_trigger())

    assert event["status"] == "error"
    assert f"Vobiz answered {status}" in event["message"] and "Check the Auth ID and Token" in event["message"]
    assert len(requests_on(vobiz_fake, route)) == 1


async def test_a_recording_seen_before_that_answers_404_is_gone(vobiz_fake: FakeVobizServer) -> None:
    event = await run_trigger(make_trigger(recording_id="rec-deleted", recording_seen=True, conference_name=None))

    assert event["status"] == "error"
    assert "recording 'rec-deleted' was seen before and now answers 404: it was deleted" in event["message"]
    assert len(vobiz_fake.requests) == 1


async def test_a_recording_of_another_room_fails_at_once(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name="Sales Call", add_time=SINCE)
    event = await run_trigger(make_trigger(recording_id=recording_id))

    assert event["status"] == "error"
    assert "is a recording of conference 'Sales Call', not of conference_name 'Team Sync'" in event["message"]


async def test_a_missing_connection_is_an_error_event(vobiz_fake: FakeVobizServer) -> None:
    event = await run_trigger(make_trigger(vobiz_conn_id="no_such_vobiz"))

    assert event["status"] == "error" and "connection 'no_such_vobiz'" in event["message"]
    assert vobiz_fake.requests == []


async def test_the_first_poll_waits_for_first_poll_at(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    not_before = time.time() + 0.5
    event = await run_trigger(make_trigger(first_poll_at=not_before))

    assert event["status"] == "success"
    assert vobiz_fake.requests[0].received_at >= not_before - SLACK


async def test_exponential_backoff_stretches_the_interval_up_to_its_cap(vobiz_fake: FakeVobizServer) -> None:
    deadline = time.time() + 2.2
    event = await run_trigger(make_trigger(deadline=deadline, poll_interval=0.1, poll_backoff=2, max_poll_interval=0.8))

    assert event["status"] == "timeout"
    # Waits of 0.1, 0.2, 0.4, 0.8, 0.8 s, then the last poll at the deadline.
    observed = gaps(requests_on(vobiz_fake, "recording.list"))
    assert len(observed) == 5
    for gap, expected in zip(observed, [0.1, 0.2, 0.4, 0.8], strict=False):
        assert expected - SLACK <= gap <= expected + 0.1, observed


class _SessionSpy:
    """Counts the sessions VobizAsyncHook opens and closes (the real ones, on real sockets)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[Any] = []
        real = VobizAsyncHook._get_session

        async def get_session(hook: VobizAsyncHook) -> Any:
            session = await real(hook)
            if session not in self.opened:
                self.opened.append(session)
            return session

        monkeypatch.setattr(VobizAsyncHook, "_get_session", get_session)


async def test_one_session_serves_the_whole_wait_and_is_closed(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _SessionSpy(monkeypatch)
    vobiz_fake.configure(processing_delay_s=0.5, file_delay_s=0.5)
    vobiz_fake.add_recording(conference_name=ROOM, ready=False)
    event = await run_trigger(make_trigger(since="2026-01-01"))

    assert event["status"] == "success" and len(requests_on(vobiz_fake, "recording.list", "media")) >= 4
    assert len(spy.opened) == 1 and spy.opened[0].closed


async def test_a_cancelled_wait_closes_its_session(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _SessionSpy(monkeypatch)
    task = asyncio.ensure_future(run_trigger(make_trigger()))
    while not vobiz_fake.requests:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert len(spy.opened) == 1 and spy.opened[0].closed


def test_event_statuses_are_the_documented_ones() -> None:
    assert [status.value for status in WaitStatus] == ["success", "timeout", "error"]


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    from vobiz_provider.validation import isoformat_utc

    return isoformat_utc(datetime.fromtimestamp(epoch, tz=timezone.utc).replace(microsecond=0))


async def test_the_window_bounds_the_choice_and_several_in_it_are_named_in_the_event(
    vobiz_fake: FakeVobizServer,
) -> None:
    first = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=5))
    second = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=40))
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(days=1))  # the next meeting's
    until = (SINCE + timedelta(hours=1)).isoformat()

    event = await run_trigger(make_trigger(until=until))

    assert event["status"] == "success" and event["recording"]["recording_id"] == second
    assert event["message"].startswith("2 recordings of 'Team Sync' in the meeting's window")
    assert f"not chosen: recording {first!r}" in event["message"]
    assert read_event(event).message == event["message"]


async def test_a_slow_api_cannot_hold_the_trigger_past_its_deadline(vobiz_fake: FakeVobizServer) -> None:
    # Each poll's request timeout is cut to the time left: a 3 s answer is not waited for.
    vobiz_fake.set_latency("recording.list", 3.0)
    deadline = time.time() + 1.0

    event = await run_trigger(make_trigger(deadline=deadline, poll_interval=0.4), limit=2.8)

    assert event["status"] == "timeout"
    assert "the last poll failed" in event["message"]
    await asyncio.sleep(max(0.0, deadline + 2.2 - time.time()))  # let the slow answers finish


def test_the_trigger_imports_nothing_while_it_runs(vobiz_fake: FakeVobizServer) -> None:
    # An import inside run() stalls the triggerer's shared event loop ("badly-written trigger").
    import subprocess
    import sys

    rid = vobiz_fake.add_recording(conference_name=ROOM)
    script = f"""
import asyncio, sys, threading, time
from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.triggers.recording import ConferenceRecordingTrigger, VobizRecordingEventTrigger
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS
trigger = ConferenceRecordingTrigger(deadline=time.time() + 20, recording_id={rid!r}, poll_interval=0.2)
loop_imports = set()

class OnTheLoop:  # records the modules the loop's thread imports; Airflow 3.0/3.1's connection lookup runs in a
    # worker thread, off the loop, and loads its ORM models there (which import aiohttp and providers on 3.0)
    def find_spec(self, name, path=None, target=None):
        if threading.current_thread() is threading.main_thread():
            loop_imports.add(name)
        return None

sys.meta_path.insert(0, OnTheLoop())

async def main():
    return [event.payload async for event in trigger.run()]

events = asyncio.run(main())
assert events[0]["status"] == "success", events
heavy = ("aiohttp", "yarl", "requests", "vobiz_provider", "airflow.providers", "multidict")
print(sorted(name for name in loop_imports if name.startswith(heavy)))
"""
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.strip().splitlines()[-1] == "[]"


async def test_a_cancel_in_the_turn_a_poll_answers_ends_the_wait(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # asyncio.wait_for (before Python 3.12) returned the poll's answer and dropped the cancel that
    # came in the same loop turn: a cleared task's wait then polled on for ever.
    loop = asyncio.get_running_loop()
    answers: list[asyncio.Future[None]] = []
    asked = asyncio.Event()

    async def poll(*args: Any) -> None:
        answers.append(loop.create_future())
        asked.set()
        return await answers[-1]

    monkeypatch.setattr("vobiz_provider.triggers.shared_polling.poll_async", poll)
    trigger = ConferenceRecordingTrigger(deadline=time.time() + 60, recording_id="rec-1", poll_interval=0.05)
    waiting = asyncio.ensure_future(trigger.run().__anext__())
    await asyncio.wait_for(asked.wait(), 10)

    answers[-1].set_result(None)  # "not ready" and the triggerer's cancel, in one turn
    waiting.cancel()
    await asyncio.sleep(0.3)

    assert waiting.cancelled()
    assert len(answers) == 1  # no poll after the cancel


# -- in Airflow's own trigger runner ---------------------------------------------------------------


def _trigger_row(trigger_id: int, classpath: str, kwargs: dict[str, Any]) -> Any:
    """A trigger row as the triggerer hands it to its runner (kwargs encrypted as Airflow stores them)."""
    from airflow.models.trigger import Trigger

    return RunTrigger(id=trigger_id, ti=None, classpath=classpath, encrypted_kwargs=Trigger.encrypt_kwargs(kwargs))


@needs_trigger_runner_3
async def test_a_refused_trigger_row_fails_alone_and_the_triggerer_goes_on(vobiz_fake: FakeVobizServer) -> None:
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    recording_id = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=3))
    good_kwargs = make_trigger().serialize()[1]
    wait_path = "vobiz_provider.triggers.recording.ConferenceRecordingTrigger"
    watch_path = "vobiz_provider.triggers.recording.VobizRecordingEventTrigger"
    runner = TriggerRunner()
    runner.to_create.extend(
        [
            # What a restored database or a stricter provider release may hand the triggerer.
            _trigger_row(1, wait_path, {**good_kwargs, "poll_interval": 0}),
            _trigger_row(2, watch_path, {"conference_name": "  ", "poll_interval": 60.0}),
            _trigger_row(3, wait_path, {**good_kwargs, "first_poll_at": "soon"}),
            _trigger_row(4, wait_path, good_kwargs),
        ]
    )
    await runner.create_triggers()  # before the fix: VobizConfigError out of here, the triggerer's end
    try:
        failed = {trigger_id: str(error) for trigger_id, error in runner.failed_triggers}
        assert set(failed) == {1, 2, 3} and set(runner.triggers) == {4}
        assert "poll_interval must be a number of seconds > 0, got 0" in failed[1]
        assert "conference_name must be a room's name" in failed[2]
        assert "first_poll_at is not an ISO-8601 time" in failed[3]
        # The good trigger next to them runs and fires.
        deadline = time.monotonic() + 10
        while not runner.events:
            assert time.monotonic() < deadline and not runner.triggers[4]["task"].done()
            await asyncio.sleep(0.05)
        ((trigger_id, event),) = [runner_event(entry) for entry in runner.events]
        assert trigger_id == 4 and event.payload["recording"]["recording_id"] == recording_id
    finally:
        for trigger in runner.triggers.values():
            trigger["task"].cancel()
        await asyncio.gather(*(t["task"] for t in runner.triggers.values()), return_exceptions=True)


# -- rows the provider cannot use -------------------------------------------------------------------


async def test_rows_it_cannot_use_are_skipped_and_the_wait_finds_its_recording(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=3))
    add_unusable_rows(vobiz_fake)
    # Two waits in one loop: both read the shared list, as every wait on the account does.
    events = await asyncio.gather(run_trigger(make_trigger()), run_trigger(make_trigger(until=None)))

    for event in events:
        assert event["status"] == "success", event
        assert event["recording"]["recording_id"] == recording_id
    assert {r.status for r in requests_on(vobiz_fake, "recording.list")} == {200}


async def test_a_timeout_counts_the_rows_it_skipped(vobiz_fake: FakeVobizServer) -> None:
    add_unusable_rows(vobiz_fake)
    event = await run_trigger(make_trigger(deadline=time.time() + 1))

    assert event["status"] == "timeout"
    assert "3 rows of the list skipped" in event["message"]


async def test_by_id_a_row_without_its_url_yet_is_waited_for(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, wire={"recording_url": None})
    event = await run_trigger(
        make_trigger(conference_name=None, since=None, recording_id=recording_id, deadline=time.time() + 1)
    )

    assert event["status"] == "timeout"
    assert f"recording {recording_id!r} has no recording_url yet" in event["message"]
    assert len(requests_on(vobiz_fake, "recording.get")) >= 3  # waited, polling, not given up


async def test_by_id_a_row_with_a_field_that_does_not_parse_fails_naming_it(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, wire={"recording_end_ms": "soon"})
    event = await run_trigger(make_trigger(conference_name=None, since=None, recording_id=recording_id))

    assert event["status"] == "error"
    assert "recording_end_ms is not a number: 'soon'" in event["message"]
    assert len(requests_on(vobiz_fake, "recording.get")) == 1  # at once


@pytest.mark.skipif(AIRFLOW_V_3_0_PLUS, reason="Airflow 3.0 and newer have asset watchers")
def test_the_event_trigger_names_the_airflow_it_needs_on_airflow_2() -> None:
    # Built at DAG parse (an AssetWatcher's trigger): the DAG's import error says what to upgrade to.
    with pytest.raises(
        VobizConfigError, match=r"VobizRecordingEventTrigger needs Airflow 3\.0 or newer \(asset watchers\)"
    ):
        VobizRecordingEventTrigger(conference_name=ROOM)
