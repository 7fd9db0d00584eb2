"""A meeting whose recording was restarted: part 1 ready before the run, part 2 made by the
pipeline's stop. ConferenceRecordingSensor with ``after_stop`` under ``dag.test()`` against the
fake Vobiz server, in each mode, with ``collect="newest"`` and ``"all"`` (a download mapped over
the parts)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import parts_scenarios as scenarios
import pytest
from parts_scenarios import run_parts

from tests.sensors.support import ROOM, processing_finishes_after_first_look, requests_on
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.validation import parse_instant

pytestmark = pytest.mark.usefixtures("airflow_db")


def _meeting_restarted(fake: FakeVobizServer) -> str:
    """The room recording, restarted ten minutes ago: part 1 is listed and downloadable before the run."""
    fake.add_room(ROOM, members=3, recording=True)
    part1 = fake.restart_recording(ROOM, ago_s=600)
    assert [row["recording_id"] for row in fake.recordings] == [part1]
    return part1


def _part_of_the_stop(fake: FakeVobizServer, part1: str) -> str:
    rows = [row["recording_id"] for row in fake.recordings if row["recording_id"] != part1]
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("mode", list(scenarios.MODES))
def test_newest_is_the_part_the_stop_ended_not_the_earlier_part(vobiz_fake: FakeVobizServer, mode: str) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    # Vobiz adds part 2 only after the sensor has looked once (and seen part 1 alone).
    with processing_finishes_after_first_look(vobiz_fake):
        run = run_parts(scenarios.NEWEST[mode])

    assert run.task_states == {"stop": "success", "wait": "success"}
    part2 = _part_of_the_stop(vobiz_fake, part1)
    assert run.xcom("stop")["status"] == "stopped"
    assert run.xcom("wait")["recording_id"] == part2
    assert len(requests_on(vobiz_fake, "recording.list")) >= 2  # it waited past part 1


@pytest.mark.parametrize("mode", list(scenarios.MODES))
def test_all_lands_every_part_each_verified_with_a_mapped_download(
    vobiz_fake: FakeVobizServer, tmp_path: Path, mode: str
) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    with processing_finishes_after_first_look(vobiz_fake):
        run = run_parts(scenarios.ALL[mode], storage=str(tmp_path))

    part2 = _part_of_the_stop(vobiz_fake, part1)
    assert run.task_states == {"stop": "success", "wait": "success", "download[0]": "success", "download[1]": "success"}
    parts = run.xcom("wait")
    assert [part["recording_id"] for part in parts] == [part1, part2]  # oldest first
    assert parse_instant(parts[0]["add_time"]) < parse_instant(parts[1]["add_time"])
    downloads = run.xcoms("download")
    assert [download["recording_id"] for download in downloads] == [part1, part2]
    for download in downloads:
        expected = vobiz_fake.recording_bytes(download["recording_id"])
        path = Path(download["path"])
        assert path == tmp_path / f"{download['recording_id']}.wav"  # one file per part, named by its id
        assert path.read_bytes() == expected
        assert download["sha256"] == hashlib.sha256(expected).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{part}.wav" for part in (part1, part2))


def test_a_rerun_keeps_the_identical_files_of_every_part(vobiz_fake: FakeVobizServer, tmp_path: Path) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    first = run_parts(scenarios.ALL["poke"], storage=str(tmp_path))
    assert first.state == "success", first.task_states
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}

    # Everyone has left by the re-run: its stop finds no room; the window still holds both parts.
    assert vobiz_fake.end_room(ROOM) is None
    second = run_parts(scenarios.ALL["poke"], storage=str(tmp_path))

    assert second.state == "success", second.task_states
    assert second.xcom("stop")["status"] == "not_recording"
    assert [d["recording_id"] for d in second.xcoms("download")] == [part1, _part_of_the_stop(vobiz_fake, part1)]
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


def test_a_stop_that_found_nothing_recording_takes_the_newest_of_the_window(vobiz_fake: FakeVobizServer) -> None:
    # Everyone left five minutes ago: Vobiz stopped the recording itself, and the room is gone.
    vobiz_fake.add_recording(conference_name=ROOM, add_time=datetime.now(timezone.utc) - timedelta(minutes=20))
    ended = vobiz_fake.add_recording(conference_name=ROOM, add_time=datetime.now(timezone.utc) - timedelta(minutes=5))

    run = run_parts(scenarios.NEWEST["poke"])

    assert run.task_states == {"stop": "success", "wait": "success"}
    assert run.xcom("stop")["status"] == "not_recording"
    assert run.xcom("wait")["recording_id"] == ended


@pytest.mark.parametrize(
    ("after_stop", "message"),
    [
        ("the stop", "after_stop must be the stop operator's XCom"),
        ('{"status": "stoped", "stopped_at": null}', "after_stop['status'] must be one of 'stopped'"),
        ('{"status": "stopped", "stopped_at": "noon"}', "after_stop['stopped_at'] is not an ISO-8601 time"),
        ('{"status": "stopped"', "after_stop looks like a dict but is neither JSON nor a Python literal"),
    ],
)
def test_bad_after_stop_fails_before_any_request(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str], after_stop: str, message: str
) -> None:
    run = run_parts(scenarios.bad_after_stop, after_stop=after_stop)

    assert run.task_states == {"wait": "failed"}
    assert message in task_log()
    assert vobiz_fake.requests == []


def test_after_stop_as_json_text_is_read(vobiz_fake: FakeVobizServer) -> None:
    part1 = _meeting_restarted(vobiz_fake)
    part2 = vobiz_fake.end_room(ROOM)
    stop = {"conference_name": ROOM, "status": "stopped", "stopped_at": datetime.now(timezone.utc).isoformat()}

    run = run_parts(scenarios.bad_after_stop, after_stop=json.dumps(stop))

    assert run.task_states == {"wait": "success"}
    assert run.xcom("wait")["recording_id"] == part2 != part1
