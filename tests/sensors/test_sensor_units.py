"""ConferenceRecordingSensor's methods called directly, against the fake Vobiz server over real HTTP:
input checks, the poke result, the check before deferring, and reading the trigger's event."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from tests.compat import DAG_FILE_IMPORTS
from tests.sensors.support import ROOM, SINCE, add_unusable_rows, requests_on
from vobiz_provider.exceptions import VobizAuthError
from vobiz_provider.meeting_window import LOOK_BACK
from vobiz_provider.models import Recording
from vobiz_provider.sensors.recording import DEFERRAL_GRACE, ConferenceRecordingSensor, default_since
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.triggers.recording import ConferenceRecordingTrigger
from vobiz_provider.version_compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    PokeReturnValue,
    TaskDeferred,
)
from vobiz_provider.waiting import error_event, success_event, timeout_event

# A run whose data interval is the hour after SINCE: the default window is [SINCE, SINCE + 1 h 30 min].
CONTEXT: dict[str, Any] = {
    "data_interval_start": SINCE,
    "data_interval_end": SINCE + timedelta(hours=1),
    "logical_date": SINCE,
}


def sensor(**kwargs: Any) -> ConferenceRecordingSensor:
    settings: dict[str, Any] = {"task_id": "wait", "conference_name": ROOM, "poke_interval": 0.5, "timeout": 30}
    return ConferenceRecordingSensor(**{**settings, **kwargs})


def deferral(wait: ConferenceRecordingSensor) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as deferred:
        wait.execute(CONTEXT)
    return deferred.value


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conference_name": None}, "conference_name and recording_id are both empty"),
        ({"conference_name": "None"}, "conference_name rendered to 'None'"),
        ({"conference_name": "   "}, "conference_name must not be empty"),
        ({"recording_id": 42}, "recording_id must be a string, got int 42"),
        ({"since": "last tuesday"}, "since is not an ISO-8601 time: 'last tuesday'"),
        ({"since": "2026-02-30T10:00:00Z"}, "since is not a valid time"),
        ({"until": "after the meeting"}, "until is not an ISO-8601 time: 'after the meeting'"),
        ({"until": 1700000000}, "until must be an ISO-8601 string or a datetime, got int"),
        (
            {"since": "2026-11-23T10:00:00Z", "until": "2026-11-23T09:00:00Z"},
            r"until \(2026-11-23T09:00:00Z\) is before since \(2026-11-23T10:00:00Z\): the window is empty",
        ),
        # A default bound counts too: an until before the run's interval.
        ({"until": "2026-11-22T10:00:00Z"}, "until .* is before since"),
    ],
)
@pytest.mark.parametrize("deferrable", [False, True])
def test_bad_inputs_fail_before_any_request(
    vobiz_fake: FakeVobizServer, kwargs: dict[str, Any], message: str, deferrable: bool
) -> None:
    with pytest.raises(AirflowFailException, match=message):
        sensor(deferrable=deferrable, **kwargs).execute(CONTEXT)
    assert vobiz_fake.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_consecutive_failures": 0}, "max_consecutive_failures must be an integer >= 1, got 0"),
        ({"poke_interval": 0}, "poke_interval must be a number of seconds > 0, got 0"),  # as the author wrote it
    ],
)
def test_a_deferrable_sensor_refuses_pacing_that_could_not_work_at_parse_time(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sensor(deferrable=True, **kwargs)


def test_poke_is_not_done_until_the_file_answers_then_returns_the_recording(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=0.4)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    wait = sensor()

    first = wait.poke(CONTEXT)
    assert isinstance(first, PokeReturnValue) and not first.is_done and first.xcom_value is None
    time.sleep(0.5)
    done = wait.poke(CONTEXT)

    assert done.is_done
    assert done.xcom_value == Recording.from_api(vobiz_fake.recordings[0]).to_dict()
    assert done.xcom_value["recording_id"] == recording_id
    assert json.loads(json.dumps(done.xcom_value)) == done.xcom_value
    # The row is listed once; the second poke only probes its file.
    assert [r.route for r in vobiz_fake.requests] == ["recording.list", "media", "media"]


def test_poke_by_id_of_a_recording_of_another_room_fails_without_retries(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name="Sales Call", add_time=SINCE)
    with pytest.raises(AirflowFailException, match="is a recording of conference 'Sales Call'"):
        sensor(recording_id=recording_id).poke(CONTEXT)


def test_a_deferrable_sensor_returns_a_ready_recording_without_deferring(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    result = sensor(deferrable=True).execute(CONTEXT)

    assert result == Recording.from_api(vobiz_fake.recordings[0]).to_dict()


@pytest.mark.parametrize("deferrable", [False, True])
def test_rows_of_the_list_it_cannot_use_do_not_fail_the_wait(vobiz_fake: FakeVobizServer, deferrable: bool) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=3))
    add_unusable_rows(vobiz_fake)

    if deferrable:  # the worker's check finds it, without deferring
        result = sensor(deferrable=True).execute(CONTEXT)
    else:
        poked = sensor().poke(CONTEXT)
        assert poked.is_done
        result = poked.xcom_value
    assert result["recording_id"] == recording_id


def test_poke_by_id_waits_for_a_row_still_without_its_url(vobiz_fake: FakeVobizServer) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, wire={"recording_url": None})
    wait = sensor(conference_name=None, recording_id=recording_id)

    assert not wait.poke(CONTEXT).is_done
    assert wait._get_wait(CONTEXT).describe() == (
        f"recording {recording_id!r} has no recording_url yet (Vobiz is still processing it?)"
    )


def test_a_deferrable_sensor_checks_once_then_defers_with_plain_json_kwargs(vobiz_fake: FakeVobizServer) -> None:
    before = time.time()
    deferred = deferral(sensor(deferrable=True, since="2026-11-23T15:30:00+05:30", exponential_backoff=True))

    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == timedelta(seconds=30) + DEFERRAL_GRACE
    trigger = deferred.trigger
    assert isinstance(trigger, ConferenceRecordingTrigger)
    _, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["since"] == "2026-11-23T10:00:00Z" and kwargs["conference_name"] == ROOM
    assert kwargs["until"] == "2026-11-23T11:30:00Z"  # the run's default: interval end + 30 min
    assert before + 30 <= kwargs["deadline"] <= time.time() + 30
    assert before + 0.5 <= kwargs["first_poll_at"] <= time.time() + 0.5
    assert (kwargs["poll_interval"], kwargs["poll_backoff"]) == (0.5, 2.0)
    assert kwargs["recording_seen"] is False
    assert len(vobiz_fake.requests) == 1


def test_a_row_seen_by_the_worker_is_passed_on(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=30)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, ready=False)
    deferred = deferral(sensor(deferrable=True, conference_name=None, recording_id=recording_id))

    assert deferred.trigger.serialize()[1]["recording_seen"] is True
    assert [(r.route, r.status) for r in vobiz_fake.requests] == [("recording.get", 200), ("media", 404)]


def test_a_transient_failure_on_the_worker_defers_after_one_request(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 429, retry_after=4, times=5)
    before = time.time()
    deferred = deferral(sensor(deferrable=True))

    # No retries on the worker; the trigger's first poll waits as long as Vobiz asked.
    assert len(requests_on(vobiz_fake, "recording.list")) == 1
    assert before + 4 <= deferred.trigger.serialize()[1]["first_poll_at"] <= time.time() + 4


def test_401_on_the_worker_fails_at_once(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.inject("recording.list", 401, times=5)
    with pytest.raises(VobizAuthError, match="Vobiz answered 401"):
        sensor(deferrable=True).execute(CONTEXT)
    assert len(vobiz_fake.requests) == 1


def test_execute_complete_returns_what_the_poke_path_returns() -> None:
    recording = Recording.from_api(
        {
            "recording_id": "rec-1",
            "recording_url": "https://media.vobiz.ai/rec-1.mp3",
            "conference_name": ROOM,
            "recording_type": "conference",
            "add_time": "2026-11-23 15:50:00.5+05:30",
            "recording_duration_ms": "10080.00000",
        }
    )
    event = json.loads(json.dumps(success_event(recording)))

    assert sensor().execute_complete(CONTEXT, event) == recording.to_dict()


def test_execute_complete_fails_with_the_events_message() -> None:
    with pytest.raises(AirflowSensorTimeout, match=r"^Timed out at X: no recording$"):
        sensor().execute_complete(CONTEXT, timeout_event("Timed out at X: no recording"))
    with pytest.raises(AirflowException, match=r"^Stopped waiting: 401$") as failed:
        sensor().execute_complete(CONTEXT, error_event("Stopped waiting: 401"))
    assert not isinstance(failed.value, AirflowSensorTimeout)


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (None, "must be a dict, got NoneType"),
        ({"status": "done"}, "status must be one of 'success', 'timeout', 'error', got 'done'"),
        ({"status": "success"}, "must carry the recording as a dict, got None"),
        ({"status": "success", "recording": {"recording_id": "x"}}, "recording cannot be read"),
        ({"status": "error"}, "the error event must carry a message, got None"),
    ],
)
def test_an_event_of_unknown_shape_is_refused_clearly(event: Any, problem: str) -> None:
    with pytest.raises(AirflowException, match="wait cannot read the trigger's event: ") as refused:
        sensor().execute_complete(CONTEXT, event)
    assert problem in str(refused.value)


def test_since_defaults_to_the_data_interval_then_around_the_logical_date_then_run_after() -> None:
    later, latest = SINCE + timedelta(hours=1), SINCE + timedelta(hours=2)
    dag_run = SimpleNamespace(run_after=latest)
    interval = {"data_interval_start": SINCE, "data_interval_end": later}
    assert default_since({**interval, "logical_date": later, "dag_run": dag_run}) == SINCE  # type: ignore[typeddict-item]
    assert default_since({"logical_date": later, "dag_run": dag_run}) == later - LOOK_BACK  # type: ignore[typeddict-item]
    assert default_since({"logical_date": None, "dag_run": dag_run}) == latest - LOOK_BACK  # type: ignore[typeddict-item]


def test_the_default_since_is_used_when_since_renders_empty(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE - timedelta(seconds=1))
    start = datetime(2026, 11, 23, 15, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    context = {"data_interval_start": start, "data_interval_end": start + timedelta(hours=1)}
    result = sensor(since="", until="").poke(context)  # type: ignore[arg-type]

    assert not result.is_done


def test_a_recording_added_after_until_belongs_to_a_later_meeting(vobiz_fake: FakeVobizServer) -> None:
    mine = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=50))
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(days=2))  # a later meeting's
    wait = sensor(mode="poke")

    assert wait.poke(CONTEXT).xcom_value["recording_id"] == mine  # the default until: SINCE + 1 h 30 min
    narrow = sensor(mode="poke", until=SINCE + timedelta(minutes=40))
    assert not narrow.poke(CONTEXT).is_done
    assert "2 recordings of 'Team Sync' after until (later meetings)" in narrow._get_wait(CONTEXT).describe()


def test_until_on_its_own_keeps_the_default_since(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE - timedelta(minutes=1))  # before the interval
    wait = sensor(until="2026-11-23T12:00:00+00:00")
    target = wait._get_wait(CONTEXT).target
    assert (target.since, target.until) == (SINCE, SINCE + timedelta(hours=2))
    assert not wait.poke(CONTEXT).is_done


def test_the_module_stays_light_at_dag_parse_time() -> None:
    heavy = ("aiohttp", "requests", "airflow.triggers.base", "vobiz_provider.hooks.vobiz", "vobiz_provider.triggers")
    # Measured against what a DAG file imports anyway (Airflow 3.1's airflow.sdk loads airflow.triggers.base).
    code = (
        f"{DAG_FILE_IMPORTS}; before = set(sys.modules); import vobiz_provider.sensors.recording; "
        f"print([name for name in {heavy!r} if name in set(sys.modules) - before])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
