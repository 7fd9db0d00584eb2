"""ConferenceRecordingTrigger with ``stopped_at`` and ``collect`` (the sensor's ``after_stop`` and
``collect``), against the fake Vobiz server over real HTTP: a recording restarted mid-meeting."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.compat import import_string
from tests.sensors.support import ROOM
from tests.triggers.test_recording_trigger import make_trigger, run_trigger
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.validation import isoformat_utc, parse_instant
from vobiz_provider.waiting import STOP_CLOCK_ALLOWANCE_S, read_event

# The stop's part appears this long after the stop: the trigger's first polls see part 1 alone.
PROCESSING_S = 1.0


def _window() -> dict[str, str]:
    now = datetime.now(timezone.utc)
    return {"since": isoformat_utc(now - timedelta(minutes=30)), "until": isoformat_utc(now + timedelta(minutes=30))}


def _meeting_restarted(fake: FakeVobizServer, part1_ago_s: float = 600) -> str:
    """A room recording since the meeting began, restarted ``part1_ago_s`` ago: part 1 is listed and ready."""
    fake.add_room(ROOM, members=3, recording=True)
    part1 = fake.restart_recording(ROOM, ago_s=part1_ago_s)
    assert [row["recording_id"] for row in fake.recordings] == [part1]
    fake.configure(processing_delay_s=PROCESSING_S)
    return part1


def _stop(fake: FakeVobizServer) -> tuple[str, str]:
    """The pipeline's stop: part 2 ends now; ``stopped_at`` is stamped when the answer is in, as the operator does."""
    part2 = fake.end_room(ROOM)
    assert part2 is not None
    return part2, isoformat_utc(datetime.now(timezone.utc))


def test_serialize_round_trips_stopped_at_and_collect() -> None:
    trigger = make_trigger(stopped_at="2026-11-23T15:45:10.250000+05:30", collect="all")
    classpath, kwargs = trigger.serialize()

    assert (kwargs["stopped_at"], kwargs["collect"]) == ("2026-11-23T10:15:10.250000Z", "all")
    again = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    # A trigger row written before these arguments existed still loads: the newest, no stop.
    older = {key: value for key, value in kwargs.items() if key not in ("stopped_at", "collect")}
    _, old_kwargs = import_string(classpath)(**older).serialize()
    assert (old_kwargs["stopped_at"], old_kwargs["collect"]) == (None, "newest")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"collect": "every"}, "collect must be one of 'newest', 'all', got 'every'"),
        ({"stopped_at": "after lunch"}, "stopped_at is not an ISO-8601 time"),
        ({"recording_id": "rec-1", "collect": "all"}, "collect='all' gathers every recording"),
    ],
)
def test_bad_stopped_at_and_collect_are_refused_naming_them(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        make_trigger(**kwargs)


async def test_after_a_triggerer_restart_the_wait_is_for_the_part_the_stop_ended(vobiz_fake: FakeVobizServer) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    part2, stopped_at = _stop(vobiz_fake)
    trigger = make_trigger(stopped_at=stopped_at, **_window())
    # The triggerer restarts: the trigger is rebuilt from its row's kwargs.
    classpath, kwargs = trigger.serialize()
    rebuilt = import_string(classpath)(**json.loads(json.dumps(kwargs)))

    event = await run_trigger(rebuilt)

    assert event["status"] == "success", event
    assert event["recording"]["recording_id"] == part2  # never part 1, ready from the start
    assert "chose the part the stop ended" in event["message"] and repr(part1) in event["message"]
    assert "recordings" not in event


async def test_collect_all_sends_every_part_oldest_first_once_the_stops_part_is_ready(
    vobiz_fake: FakeVobizServer,
) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    part2, stopped_at = _stop(vobiz_fake)

    event = await run_trigger(make_trigger(stopped_at=stopped_at, collect="all", **_window()))

    assert event["status"] == "success", event
    assert [rec["recording_id"] for rec in event["recordings"]] == [part1, part2]
    outcome = read_event(event)
    assert outcome.recordings is not None and [rec.recording_id for rec in outcome.recordings] == [part1, part2]
    # Each file answered before the event: the last probe of each is a 200.
    for part in (part1, part2):
        probes = [r.status for r in vobiz_fake.requests if r.route == "media" and part in r.path]
        assert probes and probes[-1] in (200, 206)


async def test_vobiz_clock_behind_the_workers_is_allowed_for(vobiz_fake: FakeVobizServer) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    # Vobiz stamps the end 5 s behind the worker's clock: part 2 says it ended before stopped_at.
    vobiz_fake.configure(clock_offset_s=-5.0)
    part2, stopped_at = _stop(vobiz_fake)

    event = await run_trigger(make_trigger(stopped_at=stopped_at, **_window()))

    assert event["status"] == "success", event
    assert event["recording"]["recording_id"] == part2 != part1
    assert event["recording"]["end_ms"] / 1000 < parse_instant(stopped_at, field="stopped_at").timestamp()


async def test_a_part_ended_well_before_the_stop_is_never_the_recording(vobiz_fake: FakeVobizServer) -> None:
    # Part 1 ended a minute before the stop, beyond the clocks' allowance; the stop's part never comes.
    _meeting_restarted(vobiz_fake, part1_ago_s=STOP_CLOCK_ALLOWANCE_S + 30)
    stopped_at = isoformat_utc(datetime.now(timezone.utc))

    event = await run_trigger(make_trigger(stopped_at=stopped_at, deadline=time.time() + 1.5, **_window()))

    assert event["status"] == "timeout", event
    assert "the stop's part of 'Team Sync' has not been added yet" in event["message"]
    assert f"ended before the stop at {stopped_at}" in event["message"]
