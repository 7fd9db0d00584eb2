"""The choice among a meeting's parts, pure: what ``after_stop`` and ``collect`` make of a search."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.hooks.api import RecordingSearch
from vobiz_provider.models import Recording
from vobiz_provider.waiting import STOP_CLOCK_ALLOWANCE_S, RecordingTarget, RecordingWait, stop_time

ROOM = "Team Sync"
SINCE = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
STOP = SINCE + timedelta(minutes=15)


def _part(rid: str, ended: datetime, *, end_ms: bool = True) -> Recording:
    return Recording(
        recording_id=rid,
        recording_url=f"http://127.0.0.1/{rid}.wav",
        conference_name=ROOM,
        recording_type="conference",
        recording_format="wav",
        call_uuid=None,
        add_time=ended + timedelta(seconds=2),
        duration_ms=1000.0,
        start_ms=None,
        end_ms=ended.timestamp() * 1000 if end_ms else None,
        rounded_recording_duration=None,
    )


def _wait(*parts: Recording, **target: Any) -> RecordingWait:
    wait = RecordingWait(
        RecordingTarget.from_inputs(conference_name=ROOM, recording_id=None, since=SINCE, until=None, **target)
    )
    search = RecordingSearch(ROOM, SINCE)
    search.index.add_rows(sorted(parts, key=lambda rec: rec.add_time, reverse=True))
    wait.note_search(search)
    return wait


def test_without_end_ms_the_add_time_is_the_end() -> None:
    part = _part("p", STOP, end_ms=False)
    assert part.ended_at == part.add_time == STOP + timedelta(seconds=2)


def test_the_stops_part_is_the_first_to_end_after_the_stop_less_the_allowance() -> None:
    part1 = _part("p1", STOP - timedelta(seconds=STOP_CLOCK_ALLOWANCE_S + 1))  # just outside the allowance
    part2 = _part("p2", STOP - timedelta(seconds=STOP_CLOCK_ALLOWANCE_S - 1))  # just inside
    part3 = _part("p3", STOP + timedelta(minutes=5))  # a recording restarted after the stop
    assert _wait(part1, part2, part3, stopped_at=STOP).row == part2
    assert _wait(part1, stopped_at=STOP).row is None
    assert _wait(part1, part2, part3).row == part3  # no stop: the newest


def test_collect_all_waits_for_the_stops_part_then_takes_every_part_oldest_first() -> None:
    part1 = _part("p1", STOP - timedelta(minutes=10))
    part2 = _part("p2", STOP)
    assert _wait(part1, stopped_at=STOP, collect="all").collected() == []
    wait = _wait(part2, part1, stopped_at=STOP, collect="all")
    assert wait.collected() == [part1, part2] and wait.files_to_probe() == [part1, part2]
    wait.note_file(part1, True)
    assert wait.ready() is None and wait.files_to_probe() == [part2]
    wait.note_file(part2, True)
    assert wait.ready() == part2
    assert wait.several_in_window() is None  # nothing is left out: no warning


@pytest.mark.parametrize(
    ("after_stop", "expected"),
    [
        (None, None),
        ("", None),
        ({"status": "not_recording", "stopped_at": "2026-11-23T09:15:00Z"}, None),
        ({"status": "not_sent", "stopped_at": None}, None),
        ({"status": "stopped", "stopped_at": "2026-11-23T14:45:00+05:30"}, STOP),
        ('{"status": "stopped", "stopped_at": "2026-11-23T09:15:00Z"}', STOP),
        ("{'status': 'stopped', 'stopped_at': '2026-11-23 09:15:00'}", STOP),
    ],
)
def test_after_stop_is_read_from_the_stops_xcom(after_stop: Any, expected: datetime | None) -> None:
    assert stop_time(after_stop) == expected


@pytest.mark.parametrize(
    ("after_stop", "message"),
    [
        (42, "after_stop must be the stop operator's XCom"),
        ({"stopped_at": "2026-11-23T09:15:00Z"}, r"after_stop\['status'\] must be one of"),
        ({"status": "stopped", "stopped_at": None}, "after_stop says 'stopped' but its stopped_at is empty"),
        ({"status": "stopped", "stopped_at": "noon"}, r"after_stop\['stopped_at'\] is not an ISO-8601 time"),
    ],
)
def test_bad_after_stop_names_after_stop(after_stop: Any, message: str) -> None:
    with pytest.raises(VobizConfigError, match=message):
        stop_time(after_stop)
