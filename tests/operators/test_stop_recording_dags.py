"""StopConferenceRecordingOperator under ``dag.test()`` against the fake Vobiz server: every outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import recording_scenarios as scenarios
from recording_scenarios import run_scenario

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = "Daily Standup"
ROOM_PATH = "/api/v1/Account/MA_FAKE0001/Conference/Daily%20Standup/Record/"


def _answered_between(stopped_at: str, before: datetime, after: datetime) -> None:
    when = datetime.fromisoformat(stopped_at)
    assert when.utcoffset() == timedelta(0), stopped_at
    assert before <= when <= after


def _stops(vobiz_fake: Any) -> list[Any]:
    return [r for r in vobiz_fake.requests if r.route == "conference.record.stop"]


def test_a_recording_room_is_stopped(vobiz_fake: Any, task_log: Callable[[], str]) -> None:
    vobiz_fake.add_room(ROOM, members=2, recording=True)
    before = datetime.now(timezone.utc)
    run = run_scenario(scenarios.stop_dag)
    after = datetime.now(timezone.utc)

    assert run.task_states == {"stop": "success"}
    result = run.xcom("stop")
    assert set(result) == {"conference_name", "status", "stopped_at", "reason"} and result["reason"] is None
    assert result["conference_name"] == ROOM and result["status"] == "stopped"
    _answered_between(result["stopped_at"], before, after)
    assert [(r.method, r.path, r.status) for r in _stops(vobiz_fake)] == [("DELETE", ROOM_PATH, 204)]
    assert f"Stopped the recording of conference '{ROOM}': Vobiz answered 204" in task_log()
    # The stop took effect: Vobiz makes the room's recording (after its processing delay).
    deadline = time.monotonic() + 3
    while not vobiz_fake.recordings and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [rec["conference_name"] for rec in vobiz_fake.recordings] == [ROOM]


def _assert_each_policy(run: Any, room: str, log: str, answered: int) -> None:
    assert run.task_states == {"stop_succeed": "success", "stop_skip": "skipped", "stop_fail": "failed"}
    succeeded = run.xcom("stop_succeed")
    assert succeeded["conference_name"] == room and succeeded["status"] == "not_recording"
    assert set(succeeded) == {"conference_name", "status", "stopped_at", "reason"}
    assert "Nothing to stop" in succeeded["reason"]
    assert run.xcom("stop_skip") is None and run.xcom("stop_fail") is None
    # The warning (succeed, skip) and the failure (fail) name the room and what Vobiz answered.
    assert log.count(f"Nothing to stop in conference '{room}'") >= 3
    assert f"Vobiz answered {answered}" in log
    assert "AirflowFailException: Nothing to stop in conference" in log
    assert "status not_recording, if_not_recording='succeed'" in log
    assert "status not_recording, if_not_recording='skip'" in log


@pytest.mark.parametrize("how", ["ended", "never existed"])
def test_an_ended_or_unknown_room_under_each_policy(vobiz_fake: Any, task_log: Callable[[], str], how: str) -> None:
    if how == "ended":
        vobiz_fake.add_room(ROOM, recording=True)
        assert vobiz_fake.end_room(ROOM) is not None  # Vobiz stopped the recording when the room ended
    run = run_scenario(scenarios.stop_policies_dag)

    _assert_each_policy(run, ROOM, task_log(), answered=404)
    assert sorted(r.status for r in _stops(vobiz_fake)) == [404, 404, 404]


def test_nothing_recording_answered_204_counts_as_stopped(vobiz_fake: Any) -> None:
    vobiz_fake.configure(stop_idle_status=204)
    vobiz_fake.add_room(ROOM, recording=False)
    run = run_scenario(scenarios.stop_policies_dag)

    # DESIGN: a 204 for a live room with nothing recording cannot be told from a real stop.
    assert set(run.task_states.values()) == {"success"}
    for task_id in ("stop_succeed", "stop_skip", "stop_fail"):
        assert run.xcom(task_id)["status"] == "stopped"


@pytest.mark.parametrize(("status", "envelope"), [(400, "plivo"), (409, "plivo"), (422, "plivo"), (409, "standard")])
def test_nothing_recording_answered_with_an_error_under_each_policy(
    vobiz_fake: Any, task_log: Callable[[], str], status: int, envelope: str
) -> None:
    vobiz_fake.configure(stop_idle_status=status, error_envelope=envelope)
    vobiz_fake.add_room(ROOM, recording=False)
    run = run_scenario(scenarios.stop_policies_dag)

    _assert_each_policy(run, ROOM, task_log(), answered=status)
    assert sorted(r.status for r in _stops(vobiz_fake)) == [status] * 3


def _clear_latency_once_stop_arrives(vobiz_fake: Any) -> threading.Thread:
    """Let only the first stop be slow: once it has arrived (and read its latency), remove the latency."""

    def watch() -> None:
        deadline = time.monotonic() + 10
        while not _stops(vobiz_fake) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        vobiz_fake.set_latency("conference.record.stop", 0)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("idle_status", "retry_status"), [(204, "stopped"), (409, "not_recording")])
def test_a_retry_after_a_lost_answer_succeeds(
    vobiz_fake: Any,
    monkeypatch: pytest.MonkeyPatch,
    task_log: Callable[[], str],
    idle_status: int,
    retry_status: str,
) -> None:
    # Try 1's stop reaches Vobiz and takes effect, but its answer comes after the hook's timeout;
    # the hook does not retry (max_retries 0), so the task's own retry sends the stop again.
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", vobiz_fake.connection_json({"timeout": 0.3, "max_retries": 0}))
    vobiz_fake.configure(stop_idle_status=idle_status)
    vobiz_fake.add_room(ROOM, recording=True)
    vobiz_fake.set_latency("conference.record.stop", 0.8)
    watcher = _clear_latency_once_stop_arrives(vobiz_fake)
    run = run_scenario(scenarios.stop_retry_dag)
    watcher.join(timeout=5)

    assert run.task_states == {"stop": "success"}
    result = run.xcom("stop")
    assert result["conference_name"] == ROOM and result["status"] == retry_status
    first, second = _stops(vobiz_fake)
    assert first.status == 204  # Vobiz did stop it; the client had given up by then
    assert second.received_at - first.received_at > 0.8  # try 2 came after the stop took effect
    assert second.status == idle_status
    log = task_log()
    assert "Read timed out" in log or "timed out" in log.lower()
    if retry_status == "not_recording":
        assert "this is try 2, so an earlier try may have stopped it" in log


@pytest.mark.parametrize(
    ("room", "segment"),
    [
        ("Q3 Review/EMEA #1", "Q3%20Review%2FEMEA%20%231"),
        ("100% done? a+b&c=d", "100%25%20done%3F%20a%2Bb%26c%3Dd"),
        ("Équipe Zürich", "%C3%89quipe%20Z%C3%BCrich"),
    ],
)
def test_odd_room_names_reach_vobiz_as_one_path_segment(vobiz_fake: Any, room: str, segment: str) -> None:
    vobiz_fake.add_room(room, recording=True)
    run = run_scenario(scenarios.stop_dag, conference_name=room)

    assert run.task_states == {"stop": "success"}
    assert run.xcom("stop")["conference_name"] == room
    assert run.xcom("stop")["status"] == "stopped"  # the server found the room by its exact name
    assert [r.path for r in _stops(vobiz_fake)] == [f"/api/v1/Account/MA_FAKE0001/Conference/{segment}/Record/"]
