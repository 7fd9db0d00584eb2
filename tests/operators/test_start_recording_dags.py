"""StartConferenceRecordingOperator under ``dag.test()`` against the fake Vobiz server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import recording_scenarios as scenarios
from recording_scenarios import run_scenario

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = "Daily Standup"
KEYS = {"conference_name", "started_at", "api_id", "recording_id", "url"}


def _starts(vobiz_fake: Any) -> list[Any]:
    return [r for r in vobiz_fake.requests if r.route == "conference.record.start"]


def _room_is_recording(vobiz_fake: Any, room: str) -> bool:
    """Ask the fake as a client would: with idle stops answered 409, only a real stop answers 204."""
    import requests

    vobiz_fake.configure(stop_idle_status=409)
    path = f"/api/v1/Account/{vobiz_fake.auth_id}/Conference/{quote(room, safe='')}/Record/"
    headers = {"X-Auth-ID": vobiz_fake.auth_id, "X-Auth-Token": vobiz_fake.auth_token}
    return requests.delete(vobiz_fake.base_url + path, headers=headers, timeout=5).status_code == 204


def test_start_in_current_mode_returns_no_recording_id(vobiz_fake: Any, task_log: Callable[[], str]) -> None:
    vobiz_fake.configure(start_mode="current")
    vobiz_fake.add_room(ROOM, members=3)
    before = datetime.now(timezone.utc)
    run = run_scenario(scenarios.start_dag, file_format="wav", callback_url="https://hooks.example.com/vobiz?team=ops")
    after = datetime.now(timezone.utc)

    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert set(result) == KEYS
    assert result["conference_name"] == ROOM
    assert result["api_id"]  # the fake sends a fresh one per request
    assert result["recording_id"] is None and result["url"] is None
    started_at = datetime.fromisoformat(result["started_at"])
    assert started_at.utcoffset() == timedelta(0) and before <= started_at <= after
    (start,) = _starts(vobiz_fake)
    assert start.status == 200
    body = json.loads(start.body)
    assert body["file_format"] == "wav" and body["callback_url"] == "https://hooks.example.com/vobiz?team=ops"
    log = task_log()
    assert f"Started recording conference '{ROOM}' as wav" in log and result["api_id"] in log
    assert _room_is_recording(vobiz_fake, ROOM)


def test_start_in_legacy_mode_passes_on_recording_id_and_url(vobiz_fake: Any) -> None:
    vobiz_fake.configure(start_mode="legacy")
    vobiz_fake.add_room(ROOM)
    run = run_scenario(scenarios.start_dag)

    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert set(result) == KEYS
    assert result["recording_id"] and result["api_id"]
    assert result["url"].startswith("http://") and result["recording_id"] in result["url"]
    assert result["url"].endswith(".mp3")
    assert json.loads(_starts(vobiz_fake)[0].body) == {"file_format": "mp3"}  # empty callback_url is not sent
    assert _room_is_recording(vobiz_fake, ROOM)


@pytest.mark.parametrize("status", [400, 409])
def test_already_recording_is_a_warning_and_success(vobiz_fake: Any, task_log: Callable[[], str], status: int) -> None:
    vobiz_fake.configure(start_when_recording_status=status)
    vobiz_fake.add_room(ROOM, recording=True)
    run = run_scenario(scenarios.start_dag)

    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert result["conference_name"] == ROOM and result["recording_id"] is None and result["url"] is None
    assert result["api_id"]  # the refusal's api_id, for Vobiz support
    assert [r.status for r in _starts(vobiz_fake)] == [status]
    log = task_log()
    assert f"Conference '{ROOM}' was recording already, nothing to start" in log
    assert "recording already in progress" in log


def test_start_of_a_room_nobody_joined_fails_naming_it(vobiz_fake: Any, task_log: Callable[[], str]) -> None:
    run = run_scenario(scenarios.start_dag, conference_name="Empty Room")

    assert run.task_states == {"start": "failed"}
    assert run.xcom("start") is None
    assert [r.status for r in _starts(vobiz_fake)] == [404]
    assert "start recording conference 'Empty Room': Vobiz answered 404" in task_log()


def test_start_with_an_odd_room_name(vobiz_fake: Any) -> None:
    room = "Q3 Review/EMEA #1"
    vobiz_fake.add_room(room)
    run = run_scenario(scenarios.start_dag, conference_name=room)

    assert run.task_states == {"start": "success"}
    assert run.xcom("start")["conference_name"] == room
    assert [r.path for r in _starts(vobiz_fake)] == [
        "/api/v1/Account/MA_FAKE0001/Conference/Q3%20Review%2FEMEA%20%231/Record/"
    ]
    assert _room_is_recording(vobiz_fake, room)
