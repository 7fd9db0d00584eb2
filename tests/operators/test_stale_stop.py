"""No stale stops: ``StopConferenceRecordingOperator.execute()`` against the fake server (real HTTP)
in runs whose meeting ended long ago, recently, or that have no data interval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.testing import FakeVobizServer

ROOM = "Daily Standup"
STOP_ROUTE = "conference.record.stop"


def _context(ended_ago: timedelta | None) -> dict[str, Any]:
    """A run whose data interval ended ``ended_ago`` ago (None: a run without a data interval)."""
    now = datetime.now(timezone.utc)
    end = None if ended_ago is None else now - ended_ago
    start = None if end is None else end - timedelta(minutes=15)
    return {
        "ti": SimpleNamespace(try_number=1),
        "data_interval_start": start,
        "data_interval_end": end,
        "logical_date": end,
        "dag_run": SimpleNamespace(run_after=end or now),
    }


def _stops(fake: FakeVobizServer) -> list[int]:
    return [entry.status for entry in fake.requests if entry.route == STOP_ROUTE]


def test_a_run_whose_meeting_ended_long_ago_sends_nothing(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_room(ROOM, members=3, recording=True)
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)

    result = op.execute(_context(ended_ago=timedelta(days=2)))

    assert result["status"] == "not_sent" and result["stopped_at"] is None
    assert "more than stale_after (1 h 00 min)" in result["reason"]
    assert "48 h 00 min ago" in result["reason"]
    assert _stops(vobiz_fake) == []
    assert vobiz_fake.end_room(ROOM) is not None  # still recording


@pytest.mark.parametrize(
    ("ended_ago", "stale_after"),
    [
        (None, timedelta(hours=1)),  # no data interval: a manual run without a logical date, an asset run
        (timedelta(minutes=2), timedelta(hours=1)),  # a run at its meeting's end
        (timedelta(minutes=50), timedelta(hours=1)),  # a late run, within the threshold
        (timedelta(hours=5), 6 * 3600),  # the DAG author's threshold, in seconds
        (timedelta(days=30), None),  # None: always send
    ],
)
def test_runs_near_their_meeting_or_without_an_interval_stop_as_usual(
    vobiz_fake: FakeVobizServer, ended_ago: timedelta | None, stale_after: Any
) -> None:
    vobiz_fake.add_room(ROOM, members=3, recording=True)
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, stale_after=stale_after)

    result = op.execute(_context(ended_ago))

    assert result["status"] == "stopped" and result["stopped_at"] is not None and result["reason"] is None
    assert _stops(vobiz_fake) == [204]


def test_the_threshold_the_author_sets_applies(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_room(ROOM, members=3, recording=True)
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, stale_after=timedelta(minutes=10))

    result = op.execute(_context(ended_ago=timedelta(minutes=20)))

    assert result["status"] == "not_sent" and "stale_after (10 min)" in result["reason"]
    assert _stops(vobiz_fake) == []


@pytest.mark.parametrize(("value", "message"), [(0, "must be positive"), ("1h", "must be a timedelta or seconds")])
def test_a_bad_threshold_is_refused_when_the_dag_is_parsed(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"stale_after {message}"):
        StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, stale_after=value)
