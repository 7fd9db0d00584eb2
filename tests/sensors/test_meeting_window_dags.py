"""Each run collects its own meeting: re-runs, backfills while the room is live, a zero-length
interval whose meeting ended early, and several recordings in one window, under ``dag.test()``
with real timetables against the fake Vobiz server over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import meeting_window_scenarios as scenarios
import pytest

from tests.dagrun import run_dag
from tests.sensors.support import requests_on
from vobiz_provider.testing import FakeVobizServer

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = scenarios.ROOM
STOP_ROUTE = "conference.record.stop"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _standup_end(days_ago: int) -> datetime:
    """The end of the daily 09:00-09:15 stand-up ``days_ago`` days back: a run's logical date."""
    return (_now() - timedelta(days=days_ago)).replace(hour=9, minute=15, second=0)


def _meeting_recording(fake: FakeVobizServer, end: datetime) -> str:
    """The meeting's recording: Vobiz adds the row 20 s after the stop at the interval's end."""
    return fake.add_recording(conference_name=ROOM, add_time=end + timedelta(seconds=20))


def test_rerun_of_an_old_run_collects_that_days_recording_not_a_later_one(vobiz_fake: FakeVobizServer) -> None:
    monday = _standup_end(days_ago=10)
    mondays = _meeting_recording(vobiz_fake, monday)
    for later in (2, 4, 9):  # later stand-ups of the room, each 15 minutes long too
        _meeting_recording(vobiz_fake, monday + timedelta(days=later))

    run = run_dag(scenarios.daily_standup, logical_date=monday)

    assert run.task_states == {"stop": "success", "wait": "success"}
    assert run.xcom("wait")["recording_id"] == mondays


def test_backfill_while_the_room_is_live_stops_nothing_and_collects_each_days_meeting(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str]
) -> None:
    vobiz_fake.add_room(ROOM, members=4, recording=True)  # today's stand-up, being recorded now
    days = (3, 2, 1)
    own = {days_ago: _meeting_recording(vobiz_fake, _standup_end(days_ago)) for days_ago in days}

    runs = {days_ago: run_dag(scenarios.daily_standup, logical_date=_standup_end(days_ago)) for days_ago in days}

    for days_ago, run in runs.items():
        assert run.task_states == {"stop": "success", "wait": "success"}, days_ago
        stop = run.xcom("stop")
        assert stop["status"] == "not_sent" and stop["stopped_at"] is None
        assert stop["conference_name"] == ROOM
        assert "ended at" in stop["reason"] and "stale_after" in stop["reason"]
        assert run.xcom("wait")["recording_id"] == own[days_ago]
    assert requests_on(vobiz_fake, STOP_ROUTE) == []  # no DELETE reached Vobiz
    assert "Not stopping the recording of conference 'Daily Standup'" in task_log()
    # Today's meeting is still being recorded: ending it now yields its recording.
    assert vobiz_fake.end_room(ROOM) is not None


def test_zero_length_interval_finds_a_meeting_that_ended_early(vobiz_fake: FakeVobizServer) -> None:
    # The Thursday 17:00 run of schedule="0 17 * * THU"; everyone left at 16:55 and Vobiz stopped
    # the recording itself, so the room is gone and the row is older than the run.
    run_at = _now() - timedelta(minutes=1)
    vobiz_fake.add_recording(conference_name=ROOM, add_time=run_at - timedelta(days=7))  # last week's
    early = vobiz_fake.add_recording(conference_name=ROOM, add_time=run_at - timedelta(minutes=4))

    run = run_dag(scenarios.weekly_webinar, logical_date=run_at)

    assert run.task_states == {"stop": "success", "wait": "success"}
    stop = run.xcom("stop")
    assert stop["status"] == "not_recording" and stop["stopped_at"] is not None
    assert "Nothing to stop" in stop["reason"]
    assert [r.status for r in requests_on(vobiz_fake, STOP_ROUTE)] == [404]  # a stop was sent
    assert run.xcom("wait")["recording_id"] == early


def test_several_recordings_in_the_window_return_the_newest_and_say_so(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str]
) -> None:
    run_at = _now() - timedelta(minutes=1)
    first_part = vobiz_fake.add_recording(conference_name=ROOM, add_time=run_at - timedelta(minutes=20))
    second_part = vobiz_fake.add_recording(conference_name=ROOM, add_time=run_at - timedelta(minutes=2))

    run = run_dag(scenarios.weekly_webinar, logical_date=run_at)

    assert run.task_states == {"stop": "success", "wait": "success"}
    assert run.xcom("wait")["recording_id"] == second_part
    log = task_log()
    assert "2 recordings of 'Daily Standup' in the meeting's window" in log
    assert f"chose the newest, recording {second_part!r}" in log
    assert f"not chosen: recording {first_part!r}" in log
