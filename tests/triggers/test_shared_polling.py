"""Many ConferenceRecordingTriggers on one account in one event loop, against the fake Vobiz server
over real HTTP: they share one read of the recording list per interval and one HTTP session, and
each still keeps its own pacing, deadline, failure budget and Retry-After."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.compat import import_string
from tests.sensors.support import ROOM, SINCE, gaps, requests_on
from tests.triggers.test_recording_trigger import SLACK, _SessionSpy, make_trigger, run_trigger
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.testing.settings import LoggedRequest
from vobiz_provider.triggers.recording import ConferenceRecordingTrigger
from vobiz_provider.triggers.shared_polling import accounts_in_loop


def reads(fake: FakeVobizServer) -> list[LoggedRequest]:
    """The reads of the list: requests for its first page (a read may page further)."""
    return [r for r in requests_on(fake, "recording.list") if "offset=0" in r.query]


def probes_of(fake: FakeVobizServer, recording_id: str) -> list[LoggedRequest]:
    return [r for r in requests_on(fake, "media") if recording_id in r.path]


def room(n: int) -> str:
    return f"Room {n:02d}"


async def run_all(triggers: list[ConferenceRecordingTrigger], limit: float = 20) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(run_trigger(t, limit) for t in triggers)))


def assert_nothing_left() -> None:
    """The shared account, its session's users and its reads are gone with the last wait."""
    assert accounts_in_loop() == 0
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_fifty_waits_cost_one_list_read_per_interval_and_one_probe_per_found_row(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _SessionSpy(monkeypatch)
    found = {room(n): vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(25)}
    for n in range(150):  # two pages of 100 per read
        vobiz_fake.add_recording(conference_name="Elsewhere", add_time=SINCE + timedelta(minutes=1, seconds=n))
    deadline = time.time() + 1.4
    triggers = [make_trigger(conference_name=room(n), deadline=deadline, poll_interval=0.3) for n in range(50)]

    events = await run_all(triggers)

    assert [e["status"] for e in events] == ["success"] * 25 + ["timeout"] * 25
    assert [e["recording"]["recording_id"] for e in events[:25]] == list(found.values())
    assert all("newest seen: 'Elsewhere'" in e["message"] for e in events[25:])
    # One wait on its own polls at 0, 0.3, 0.6, 0.9 and 1.2 s and a last time at the deadline (fewer
    # on a slow machine): at most six reads of two pages each serve all fifty, one per interval but
    # for the last, at the deadline.
    first_pages = reads(vobiz_fake)
    assert 2 <= len(first_pages) <= 6, [r.received_at for r in first_pages]
    assert len(requests_on(vobiz_fake, "recording.list")) == 2 * len(first_pages)
    assert min(gaps(first_pages)[:-1]) >= 0.3 - SLACK
    # Each found row's file is probed once, in the poll that found it.
    assert [len(probes_of(vobiz_fake, rec)) for rec in found.values()] == [1] * 25
    assert len(requests_on(vobiz_fake, "media")) == 25
    assert len(spy.opened) == 1 and spy.opened[0].closed
    assert_nothing_left()


async def test_waits_that_start_and_are_cancelled_at_different_times(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _SessionSpy(monkeypatch)
    vobiz_fake.configure(processing_delay_s=0.6, file_delay_s=0)
    first = asyncio.ensure_future(run_trigger(make_trigger(conference_name="Cancelled early")))
    await asyncio.sleep(0.35)
    rec = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    second = asyncio.ensure_future(run_trigger(make_trigger()))
    by_id = asyncio.ensure_future(run_trigger(make_trigger(conference_name=None, since=None, recording_id=rec)))
    await asyncio.sleep(0.2)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first

    # The others go on through the same session and find the recording once it is listed.
    assert (await second)["recording"]["recording_id"] == rec
    assert (await by_id)["recording"]["recording_id"] == rec
    assert len(spy.opened) == 1 and spy.opened[0].closed
    assert_nothing_left()

    # A wait that starts after the last one ended gets a new account and session.
    event = await run_trigger(make_trigger())
    assert event["status"] == "success" and len(spy.opened) == 2 and spy.opened[1].closed
    assert_nothing_left()


async def test_waits_with_different_intervals_keep_their_own_pace(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=1.0)
    slow_rec = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    deadline = time.time() + 1.5
    fast = make_trigger(conference_name="Nobody", deadline=deadline, poll_interval=0.2)
    slow = make_trigger(deadline=time.time() + 5, poll_interval=0.6)

    fast_event, slow_event = await run_all([fast, slow])

    assert fast_event["status"] == "timeout" and slow_event["status"] == "success"
    # The list is read at the fast wait's pace, not once per wait and interval.
    first_pages = reads(vobiz_fake)
    assert min(gaps(first_pages)[:-1]) >= 0.2 - SLACK  # the last: the fast wait's final poll, at its deadline
    assert len(first_pages) <= 1.5 / 0.2 + 2
    # The slow wait found its row in a shared read and then probed only its file, at its own pace.
    probes = probes_of(vobiz_fake, slow_rec)
    assert len(probes) >= 2 and min(gaps(probes)) >= 0.6 - SLACK
    assert_nothing_left()


async def test_a_failing_list_ends_each_wait_by_its_own_budget(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 500, times=50)
    short = make_trigger(conference_name="Short budget", max_consecutive_failures=2)
    long = make_trigger(conference_name="Long budget", max_consecutive_failures=4)

    short_event, long_event = await run_all([short, long])

    assert short_event["status"] == long_event["status"] == "error"
    assert "gave up after 2 failed polls in a row" in short_event["message"]
    assert "gave up after 4 failed polls in a row" in long_event["message"]
    # One failed read per interval served both: four reads in all, not six.
    lists = requests_on(vobiz_fake, "recording.list")
    assert [r.status for r in lists] == [500] * 4
    assert min(gaps(lists)) >= 0.2 - SLACK
    assert_nothing_left()


async def test_retry_after_pauses_the_shared_reads_for_every_wait(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 429, retry_after=0.7, times=1)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(3)]
    triggers = [make_trigger(conference_name=room(n), max_consecutive_failures=1) for n in range(3)]

    events = await run_all(triggers)

    assert [e["recording"]["recording_id"] for e in events] == recs
    lists = requests_on(vobiz_fake, "recording.list")
    assert [r.status for r in lists] == [429, 200]
    assert lists[1].received_at - lists[0].received_at >= 0.7 - SLACK
    assert_nothing_left()


async def test_a_waits_deadline_is_its_own(vobiz_fake: FakeVobizServer) -> None:
    started = time.time()
    early = make_trigger(conference_name="Early", deadline=started + 0.8, poll_interval=0.3)
    late = make_trigger(conference_name="Late", deadline=started + 2.0, poll_interval=0.3)
    ended: dict[str, float] = {}

    async def run(name: str, trigger: ConferenceRecordingTrigger) -> dict[str, Any]:
        event = await run_trigger(trigger)
        ended[name] = time.time()
        return event

    early_event, late_event = await asyncio.gather(run("early", early), run("late", late))

    assert early_event["status"] == late_event["status"] == "timeout"
    # Each ends at its own deadline, or at most one interval after it (its last poll).
    assert started + 0.8 - SLACK <= ended["early"] < started + 2.0
    assert ended["late"] >= started + 2.0 - SLACK
    assert_nothing_left()


def test_a_restarted_triggerer_re_creates_the_waits_from_their_kwargs(vobiz_fake: FakeVobizServer) -> None:
    triggers = [make_trigger(conference_name=room(n), deadline=time.time() + 30) for n in range(3)]

    async def first_triggerer() -> None:
        tasks = [asyncio.ensure_future(run_trigger(t)) for t in triggers]
        while len(reads(vobiz_fake)) < 2:
            await asyncio.sleep(0.02)
        for task in tasks:  # the triggerer dies: its waits are cancelled mid-poll
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert_nothing_left()

    asyncio.run(first_triggerer())
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(3)]
    again = [json.loads(json.dumps(t.serialize())) for t in triggers]

    async def second_triggerer() -> list[dict[str, Any]]:
        events = await run_all([import_string(path)(**kwargs) for path, kwargs in again])
        assert_nothing_left()
        return events

    events = asyncio.run(second_triggerer())
    assert [e["recording"]["recording_id"] for e in events] == recs


# -- one wait far behind, the filters sent, the clock ------------------------------------------------

WEEK_AGO = SINCE - timedelta(days=7)


def _filter_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def shared_lists(fake: FakeVobizServer) -> list[LoggedRequest]:
    """Requests of the shared reads: they name no room."""
    return [r for r in requests_on(fake, "recording.list") if "conference_name=" not in r.query]


def own_lists(fake: FakeVobizServer, name: str) -> list[LoggedRequest]:
    return [r for r in requests_on(fake, "recording.list") if parse_qs(r.query).get("conference_name") == [name]]


@pytest.mark.parametrize("list_filters", ["ignore", "honour"])
async def test_a_wait_for_last_weeks_meeting_reads_on_its_own_and_the_shared_reads_stay_one_page(
    vobiz_fake: FakeVobizServer, list_filters: str
) -> None:
    vobiz_fake.configure(list_filters=list_filters)
    for n in range(300):  # a week of other rooms' recordings: three pages and more back to last week
        vobiz_fake.add_recording(conference_name="Elsewhere", add_time=SINCE - timedelta(minutes=1 + 33 * n))
    found = {
        room(n): vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE + timedelta(minutes=n))
        for n in range(10)
    }
    deadline = time.time() + 1.5
    recent = [make_trigger(conference_name=room(n), deadline=deadline, poll_interval=0.3) for n in range(20)]
    far = make_trigger(
        conference_name="Backfill",
        since=(WEEK_AGO - timedelta(hours=1)).isoformat(),
        until=(WEEK_AGO + timedelta(hours=1)).isoformat(),
        deadline=time.time() + 5,
        poll_interval=0.3,
    )

    async def last_weeks_meeting_listed_after_two_reads_of_its_own() -> str:
        while len([r for r in own_lists(vobiz_fake, "Backfill") if "offset=0" in r.query]) < 2:
            await asyncio.sleep(0.01)
        return vobiz_fake.add_recording(conference_name="Backfill", add_time=WEEK_AGO)

    listed = asyncio.ensure_future(last_weeks_meeting_listed_after_two_reads_of_its_own())
    *events, far_event = await run_all([*recent, far])
    searched_alone = listed.done()
    listed.cancel()
    assert searched_alone, "the far-back wait never searched its own room"
    backfill = listed.result()

    assert far_event["status"] == "success" and far_event["recording"]["recording_id"] == backfill
    assert [e["recording"]["recording_id"] for e in events[:10]] == list(found.values())
    assert [e["status"] for e in events[10:]] == ["timeout"] * 10
    # The recent waits' reads: one page each (the recent band), one read per interval, with the
    # type and the widened since as filters.
    shared = shared_lists(vobiz_fake)
    assert all("offset=0" in r.query for r in shared), [r.query for r in shared]
    assert 2 <= len(shared) <= 7
    queries = [parse_qs(r.query) for r in shared]
    assert all(q["recording_type"] == ["conference"] for q in queries)
    assert all(q["add_time__gte"] == [_filter_time(SINCE - timedelta(hours=14))] for q in queries)
    # The far-back wait paid for its own reads, of its own room and window, at its own pace.
    own = own_lists(vobiz_fake, "Backfill")
    own_reads = [r for r in own if "offset=0" in r.query]
    assert len(own_reads) >= 2 and min(gaps(own_reads)) >= 0.3 - SLACK
    bounds = {
        (q["add_time__gte"][0], q["add_time__lte"][0], q["recording_type"][0])
        for q in map(parse_qs, (r.query for r in own))
    }
    assert bounds == {
        (_filter_time(WEEK_AGO - timedelta(hours=15)), _filter_time(WEEK_AGO + timedelta(hours=15)), "conference")
    }
    if list_filters == "honour":
        assert len(own) == len(own_reads)  # one page per read: the server did the bounding
    assert_nothing_left()


async def test_shared_reads_drop_nothing_when_the_server_reads_the_time_filter_in_another_zone(
    vobiz_fake: FakeVobizServer,
) -> None:
    # "YYYY-MM-DD HH:MM:SS" read at -10:00: a since sent as is would start 10 hours late.
    vobiz_fake.configure(list_filters="honour", list_filter_utc_offset="-10:00")
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE + timedelta(minutes=1)) for n in range(3)]
    deadline = time.time() + 1.0
    events = await run_all([make_trigger(conference_name=room(n), deadline=deadline) for n in range(3)])

    assert [e.get("recording", {}).get("recording_id") for e in events] == recs
    assert_nothing_left()


async def test_a_wall_clock_step_back_does_not_stretch_a_429_pause(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _ClockStep(monkeypatch)
    vobiz_fake.inject("recording.list", 429, retry_after=1.0, times=1)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(3)]
    triggers = [make_trigger(conference_name=room(n), deadline=time.time() + 30) for n in range(3)]

    async def step_back_once_paused() -> None:
        while not [r for r in requests_on(vobiz_fake, "recording.list") if r.status == 429]:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # the 429 has been read, and the pause set
        step.back(3600)

    stepper = asyncio.ensure_future(step_back_once_paused())
    events = await run_all(triggers, limit=6)
    await stepper

    # The pause ends when Vobiz asked (1 s on the loop's clock), not an hour later by the wall clock.
    assert [e["recording"]["recording_id"] for e in events] == recs
    assert [r.status for r in requests_on(vobiz_fake, "recording.list")] == [429, 200]
    assert_nothing_left()


async def test_a_wall_clock_step_back_starts_no_read_per_wait(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _ClockStep(monkeypatch)
    triggers = [make_trigger(conference_name=room(n), deadline=time.time() + 30, poll_interval=0.3) for n in range(10)]

    async def step_back_then_add_the_recordings() -> list[str]:
        await asyncio.sleep(0.45)
        step.back(3600)
        await asyncio.sleep(0.75)
        return [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(10)]

    later = asyncio.ensure_future(step_back_then_add_the_recordings())
    started = asyncio.get_running_loop().time()
    events = await run_all(triggers, limit=6)
    elapsed = asyncio.get_running_loop().time() - started

    assert [e["recording"]["recording_id"] for e in events] == await later
    # Still one read per interval for all ten (the fake's log times are the stepped clock's: counted, not timed).
    assert len(reads(vobiz_fake)) <= elapsed / 0.3 + 2
    assert_nothing_left()


class _ClockStep:
    """The wall clock (``time.time``) stepped back, as NTP or an operator may; the loop's clock runs on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def back(self, seconds: float) -> None:
        self.offset -= seconds
