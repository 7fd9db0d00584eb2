"""Every example DAG runs end to end under ``dag.test()`` against the fake Vobiz server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.compat import asset_event_model, asset_events_of, needs_airflow_3
from tests.dagrun import add_asset_events, run_dag
from vobiz_provider.version_compat import run_after

pytestmark = pytest.mark.usefixtures("airflow_db")

STANDUP_MINUTES = 2  # keeps the WAV small; the DAG checks the duration against this


def _asset_events(asset_name: str, run_id: str) -> list[tuple[int, dict[str, Any]]]:
    """The events ``run_id`` emitted on the asset ``asset_name``, oldest first: ``(id, extra)``."""
    from airflow.utils.session import create_session

    model = asset_event_model()
    with create_session() as session:
        events = asset_events_of(session, asset_name).filter(model.source_run_id == run_id).order_by(model.id).all()
        return [(event.id, dict(event.extra or {})) for event in events]


def _asset_event_extras(asset_name: str, run_id: str) -> list[dict[str, Any]]:
    return [extra for _, extra in _asset_events(asset_name, run_id)]


def _run_standup(vobiz_fake: Any, storage: Path, *, restarted: bool = False, **when: Any) -> Any:
    """The stand-up pipeline; ``restarted``: the host paused and restarted the recording five
    minutes before the run, so part 1 (half the meeting) is ready before the stop makes part 2."""
    import standup_pipeline

    part_s = STANDUP_MINUTES * 60 / (2 if restarted else 1)
    vobiz_fake.add_room("Daily Standup", members=3, recording=True, file_format="wav", duration_s=part_s)
    if restarted:
        vobiz_fake.restart_recording("Daily Standup", ago_s=300)
    return run_dag(
        standup_pipeline.dag,
        run_conf={"storage_root": str(storage), "meeting_minutes": STANDUP_MINUTES},
        **when,
    )


def _run_after(run_id: str) -> str:
    """The run's ``run_after`` as a date, the folder the example DAGs file a recording under."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(run_id=run_id).one()
        assert run_after(run) is not None
        return str(run_after(run).date())


# A run triggered from the CLI, the REST API or the UI has no logical date unless one is given.
@pytest.mark.parametrize("when", [{"logical_date": None}, {}], ids=["manual_without_logical_date", "logical_date_now"])
def test_standup_pipeline_stops_waits_downloads_and_verifies(
    vobiz_fake: Any, tmp_path: Path, when: dict[str, Any]
) -> None:
    run = _run_standup(vobiz_fake, tmp_path, **when)

    assert run.state == "success", run.task_states
    stop = run.xcom("stop_recording")
    assert stop["conference_name"] == "Daily Standup" and stop["status"] == "stopped"
    [recording] = run.xcom("wait_for_recording")  # collect="all": every part, here one
    assert recording["conference_name"] == "Daily Standup"
    [download] = run.xcoms("download_recording")
    expected = vobiz_fake.recording_bytes(recording["recording_id"])
    assert download["recording_id"] == recording["recording_id"]
    assert download["bytes"] == len(expected)
    assert download["sha256"] == hashlib.sha256(expected).hexdigest()
    assert download["format"] == "wav"
    assert download["duration_s"] == pytest.approx(STANDUP_MINUTES * 60, abs=1)
    path = Path(download["path"])
    assert path.read_bytes() == expected
    assert path.name == f"{recording['recording_id']}.wav"  # named by its format
    # A folder dated by the run's run_after under the storage root, and nothing else beside the file.
    assert path.parent == tmp_path / "standup" / _run_after(run.run_id)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    extras = _asset_event_extras("vobiz_meeting_recordings", run.run_id)
    assert [extra["recording_id"] for extra in extras] == [recording["recording_id"]]
    assert extras[0]["sha256"] == download["sha256"]
    assert run.xcom("check_meeting_length")["parts"] == 1


def test_standup_pipeline_with_a_restarted_recording_lands_every_part(vobiz_fake: Any, tmp_path: Path) -> None:
    run = _run_standup(vobiz_fake, tmp_path, restarted=True)

    assert run.state == "success", run.task_states
    parts = run.xcom("wait_for_recording")
    rows = {row["recording_id"]: row for row in vobiz_fake.recordings}
    assert len(parts) == len(rows) == 2
    # Oldest first: part 1 (ready before the run), then the part this run's stop ended.
    assert [part["recording_id"] for part in parts] == sorted(rows, key=lambda rid: rows[rid]["add_time"])
    downloads = run.xcoms("download_recording")
    assert [download["recording_id"] for download in downloads] == [part["recording_id"] for part in parts]
    for download in downloads:
        expected = vobiz_fake.recording_bytes(download["recording_id"])
        path = Path(download["path"])
        assert path.name == f"{download['recording_id']}.wav" and path.read_bytes() == expected
        assert download["sha256"] == hashlib.sha256(expected).hexdigest()
    extras = _asset_event_extras("vobiz_meeting_recordings", run.run_id)
    assert sorted(extra["recording_id"] for extra in extras) == sorted(rows)
    length = run.xcom("check_meeting_length")
    assert length["parts"] == 2 and length["duration_s"] == pytest.approx(STANDUP_MINUTES * 60, abs=1)


def test_recording_catalogue_keeps_one_row_per_recording(
    vobiz_fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recording_catalogue

    database = tmp_path / "catalogue.db"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_CATALOGUE_DB", json.dumps({"conn_type": "sqlite", "host": str(database)}))
    standup = _run_standup(vobiz_fake, tmp_path / "recordings", restarted=True)
    assert standup.state == "success", standup.task_states
    downloads = standup.xcoms("download_recording")
    assert len(downloads) == 2

    first = run_dag(recording_catalogue.dag)
    # A re-run, by hand without a logical date: upserts, still one row per recording.
    second = run_dag(recording_catalogue.dag, logical_date=None)

    assert first.state == second.state == "success", (first.task_states, second.task_states)
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT recording_id, conference_name, path, bytes, sha256, duration_s FROM vobiz_recordings"
        ).fetchall()
    # A row per part of the meeting.
    for download in downloads:
        matching = [row for row in rows if row[0] == download["recording_id"]]
        assert matching == [
            (
                download["recording_id"],
                "Daily Standup",
                download["path"],
                download["bytes"],
                download["sha256"],
                pytest.approx(download["duration_s"]),
            )
        ]
    assert len(rows) == len({row[0] for row in rows})


# Airflow 3.4 makes a DAG run per asset event unless [scheduler] batch_asset_events is set; before it (and
# with it) one run carries every event queued since the last. The consumers take either.
ONE_RUN_PER_EVENT = [[0], [1]]
ONE_RUN_FOR_ALL = [[0, 1]]


@needs_airflow_3  # tests/dagrun.py links a run to its events in Airflow 3's asset tables
@pytest.mark.parametrize("runs", [ONE_RUN_PER_EVENT, ONE_RUN_FOR_ALL], ids=["one_run_per_event", "one_run_for_all"])
def test_recording_catalogue_catalogues_the_events_that_triggered_each_run(
    vobiz_fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[int]]
) -> None:
    import recording_catalogue

    database = tmp_path / "catalogue.db"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_CATALOGUE_DB", json.dumps({"conn_type": "sqlite", "host": str(database)}))
    standup = _run_standup(vobiz_fake, tmp_path / "recordings", restarted=True)  # an event per part
    assert standup.state == "success", standup.task_states
    events = _asset_events("vobiz_meeting_recordings", standup.run_id)
    assert len(events) == 2

    catalogued: list[str] = []
    for run_events in runs:
        run = run_dag(recording_catalogue.dag, triggering_events=[events[i][0] for i in run_events])

        assert run.state == "success", run.task_states
        # The run's own events, not the asset's latest (a run started by hand takes those).
        written = [row["recording_id"] for row in run.xcom("catalogue_recordings")]
        assert written == [events[i][1]["recording_id"] for i in run_events]
        catalogued += written
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT recording_id, path, sha256, source_run_id FROM vobiz_recordings").fetchall()
        assert sorted(rows) == sorted(
            (extra["recording_id"], extra["path"], extra["sha256"], standup.run_id)
            for _, extra in events
            if extra["recording_id"] in catalogued
        )
    assert sorted(catalogued) == sorted(extra["recording_id"] for _, extra in events)


def test_standup_start_starts_the_rooms_recording(vobiz_fake: Any) -> None:
    import standup_start

    vobiz_fake.add_room("Daily Standup", members=1, recording=False)

    run = run_dag(standup_start.dag, run_conf={"file_format": "wav"})

    assert run.state == "success", run.task_states
    started = run.xcom("start_recording")
    assert started["conference_name"] == "Daily Standup"
    assert started["recording_id"] is None and started["url"] is None  # the current API returns neither
    posts = [r for r in vobiz_fake.requests if r.route == "conference.record.start"]
    assert [r.status for r in posts] == [200]
    # The room is now recording: ending it produces a WAV recording.
    recording_id = vobiz_fake.end_room("Daily Standup")
    assert recording_id is not None


def test_end_of_day_sweep_collects_every_recording_and_skips_idle_rooms(vobiz_fake: Any, tmp_path: Path) -> None:
    import end_of_day_sweep

    vobiz_fake.configure(stop_idle_status=400)
    vobiz_fake.add_room("Sales Call", members=2, recording=True, duration_s=4)
    vobiz_fake.add_room("Design Review", members=4, recording=True, duration_s=6)
    vobiz_fake.add_room("Lobby", members=1, recording=False)

    # Triggered by hand without a logical date, as from the CLI or the REST API.
    run = run_dag(end_of_day_sweep.dag, run_conf={"storage_root": str(tmp_path)}, logical_date=None)

    assert run.state == "success", run.task_states
    assert run.xcom("live_rooms") == ["Design Review", "Lobby", "Sales Call"]
    stops = run.xcoms("sweep_room.stop_recording")
    assert sorted((s["conference_name"], s["status"]) for s in stops) == [
        ("Design Review", "stopped"),
        ("Sales Call", "stopped"),
    ]
    skipped = [key for key, state in run.task_states.items() if state == "skipped"]
    assert len(skipped) == 4, run.task_states  # Lobby's stop, wait, destination and download
    downloads = run.xcoms("sweep_room.download_recording")
    assert sorted(round(d["duration_s"]) for d in downloads) == [4, 6]
    for download in downloads:
        expected = vobiz_fake.recording_bytes(download["recording_id"])
        assert Path(download["path"]).read_bytes() == expected
        assert Path(download["path"]).suffix == f".{download['format']}"
        assert Path(download["path"]).parent == tmp_path / "eod" / _run_after(run.run_id)


async def _watcher_events(vobiz_fake: Any, rooms: list[str]) -> list[dict[str, Any]]:
    """Payloads the example's watcher trigger emits for recordings made in ``rooms`` after it started."""
    from vobiz_provider.triggers.recording import VobizRecordingEventTrigger

    run = VobizRecordingEventTrigger(poll_interval=0.2).run()
    first = asyncio.ensure_future(anext(run))
    while not any(r.route == "recording.list" for r in vobiz_fake.requests):
        await asyncio.sleep(0.05)
    for room in rooms:
        vobiz_fake.add_recording(conference_name=room, duration_s=2)
    payloads = [(await asyncio.wait_for(first, 20)).payload]
    while len(payloads) < len(rooms):
        payloads.append((await asyncio.wait_for(anext(run), 20)).payload)
    await run.aclose()
    return payloads


@needs_airflow_3
def test_recording_events_downloads_and_catalogues_each_new_recording_once(
    vobiz_fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recording_events

    database = tmp_path / "catalogue.db"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_CATALOGUE_DB", json.dumps({"conn_type": "sqlite", "host": str(database)}))
    conf = {"storage_root": str(tmp_path / "files")}
    idle = run_dag(recording_events.dag, run_conf=conf)  # no events yet: nothing to do
    assert idle.state == "success", idle.task_states
    assert idle.xcom("new_recordings") == []

    payloads = asyncio.run(_watcher_events(vobiz_fake, ["Daily Standup", "Q3 Review/EMEA"]))
    # The first recording arrives twice: delivery is at least once.
    add_asset_events("vobiz_new_recordings", [{"from_trigger": True, "payload": p} for p in [payloads[0], *payloads]])

    run = run_dag(recording_events.dag, run_conf=conf)
    again = run_dag(recording_events.dag, run_conf=conf)

    assert run.state == again.state == "success", (run.task_states, again.task_states)
    downloads = run.xcoms("download_recording")
    assert sorted(d["recording_id"] for d in downloads) == sorted(p["recording_id"] for p in payloads)
    for payload in payloads:
        (download,) = [d for d in downloads if d["recording_id"] == payload["recording_id"]]
        day = payload["add_time"][:10]
        room = {"Daily Standup": "Daily-Standup", "Q3 Review/EMEA": "Q3-Review-EMEA"}[payload["conference_name"]]
        named = f"{payload['recording_id']}.{download['format']}"
        assert download["path"] == str(tmp_path / "files" / room / day / named)
        assert Path(download["path"]).read_bytes() == vobiz_fake.recording_bytes(payload["recording_id"])
    assert again.xcom("new_recordings") == []  # all catalogued: the re-run downloads nothing
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT recording_id, conference_name, sha256 FROM vobiz_recording_events").fetchall()
    assert sorted(rows) == sorted(
        (d["recording_id"], p["conference_name"], d["sha256"]) for d, p in _pairs(downloads, payloads)
    )


# Recordings A, B, then A again (at-least-once delivery): a run per event, or one run for the three.
@needs_airflow_3
@pytest.mark.parametrize("runs", [[[0], [1], [2]], [[0, 1, 2]]], ids=["one_run_per_event", "one_run_for_all"])
def test_recording_events_downloads_each_recording_of_the_triggering_events_once(
    vobiz_fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[int]]
) -> None:
    import recording_events

    database = tmp_path / "catalogue.db"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_CATALOGUE_DB", json.dumps({"conn_type": "sqlite", "host": str(database)}))
    conf = {"storage_root": str(tmp_path / "files")}
    payloads = asyncio.run(_watcher_events(vobiz_fake, ["Daily Standup", "Sales Call"]))
    delivered = [payloads[0], payloads[1], payloads[0]]
    event_ids = add_asset_events("vobiz_new_recordings", [{"from_trigger": True, "payload": p} for p in delivered])

    downloaded: dict[str, str] = {}  # recording id: the run that downloaded it
    for run_events in runs:
        run = run_dag(recording_events.dag, run_conf=conf, triggering_events=[event_ids[i] for i in run_events])

        assert run.state == "success", run.task_states
        new = [delivered[i]["recording_id"] for i in run_events if delivered[i]["recording_id"] not in downloaded]
        assert [item["recording"]["recording_id"] for item in run.xcom("new_recordings")] == list(dict.fromkeys(new))
        for download in run.xcoms("download_recording"):
            assert download["recording_id"] not in downloaded
            assert Path(download["path"]).read_bytes() == vobiz_fake.recording_bytes(download["recording_id"])
            downloaded[download["recording_id"]] = run.run_id
    assert sorted(downloaded) == sorted(p["recording_id"] for p in payloads)
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT recording_id, run_id FROM vobiz_recording_events").fetchall()
    assert sorted(rows) == sorted(downloaded.items())


def _pairs(
    downloads: list[dict[str, Any]], payloads: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_id = {p["recording_id"]: p for p in payloads}
    return [(d, by_id[d["recording_id"]]) for d in downloads]
