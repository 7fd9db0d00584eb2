"""ConferenceRecordingSensor under ``dag.test()`` against the fake Vobiz server: stop then wait, in
each mode, timeouts, and the right recording among decoys."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest
import sensor_scenarios as scenarios
from sensor_scenarios import run_scenario

from tests.sensors.support import ROOM, SINCE, add_decoys, processing_finishes_after_first_look, requests_on
from vobiz_provider.hooks.listing import add_time_filters
from vobiz_provider.instants import parse_instant
from vobiz_provider.meeting_window import LATE_ADD, LOOK_BACK
from vobiz_provider.models import Recording
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS

pytestmark = pytest.mark.usefixtures("airflow_db")

DOCUMENTED_KEYS = {
    "recording_id",
    "recording_url",
    "conference_name",
    "recording_type",
    "recording_format",
    "call_uuid",
    "add_time",
    "duration_ms",
    "start_ms",
    "end_ms",
    "rounded_recording_duration",
}
# since is given; until is the run's default (30 minutes after a run of this unscheduled DAG).
LOOKED_FOR = "no recording of 'Team Sync' between 2026-11-23T10:00:00Z and "
SEEN = "; newest seen: 'Sales Call' at 2026-11-23T10:31:00Z; 2 recordings of 'Team Sync' before since"


def _room_recording_in_a_meeting(fake: FakeVobizServer) -> str:
    """A recording room, and last hour's recording of it (before the run's since: never the answer)."""
    fake.configure(file_delay_s=0.3)
    fake.add_room(ROOM, members=3, recording=True)
    return fake.add_recording(conference_name=ROOM, add_time=time_ago(hours=1))


def time_ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def _deferral_of(run: Any) -> tuple[str, dict[str, Any], datetime]:
    """The trigger the ``wait`` task deferred to (classpath, kwargs), and the run's data interval start."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id="wait").one()
        trigger = session.get(Trigger, ti.trigger_id)
        dag_run = session.query(DagRun).filter_by(dag_id=run.dag_id, run_id=run.run_id).one()
        return trigger.classpath, dict(trigger.kwargs), dag_run.data_interval_start


def _interval_start(run: Any) -> datetime:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(DagRun).filter_by(dag_id=run.dag_id, run_id=run.run_id).one().data_interval_start


def _made_by_the_stop(fake: FakeVobizServer, earlier: str) -> dict[str, Any]:
    rows = [row for row in fake.recordings if row["recording_id"] != earlier]
    assert len(rows) == 1, rows
    return Recording.from_api(rows[0]).to_dict()


@pytest.mark.parametrize("dag", [scenarios.stop_then_wait_deferrable, scenarios.stop_then_wait_reschedule])
def test_stop_then_wait_returns_the_stopped_recording(vobiz_fake: FakeVobizServer, dag: Any) -> None:
    earlier = _room_recording_in_a_meeting(vobiz_fake)
    # Vobiz adds the row only after the wait's first check has found nothing.
    with processing_finishes_after_first_look(vobiz_fake):
        run = run_scenario(dag)

    assert run.task_states == {"stop": "success", "wait": "success"}
    result = run.xcom("wait")
    assert result == _made_by_the_stop(vobiz_fake, earlier)
    assert set(result) >= DOCUMENTED_KEYS and result["conference_name"] == ROOM
    # The row was not there at the first check: the sensor waited (in the triggerer, or by rescheduling).
    assert len(requests_on(vobiz_fake, "recording.list")) >= 2
    if dag is scenarios.stop_then_wait_deferrable and not AIRFLOW_V_3_0_PLUS:
        # Airflow 2's dag.test() runs the trigger inline and keeps no trigger row: the trigger's list (the last one,
        # after the sensor's first check) asked for recordings since the start of the run's window.
        trigger_list = parse_qs(requests_on(vobiz_fake, "recording.list")[-1].query)
        since = add_time_filters(_interval_start(run) - LOOK_BACK)["add_time__gte"]
        assert trigger_list["add_time__gte"] == [since]
    elif dag is scenarios.stop_then_wait_deferrable:
        classpath, kwargs, interval_start = _deferral_of(run)
        assert classpath == "vobiz_provider.triggers.recording.ConferenceRecordingTrigger"
        # An unscheduled DAG's run has a zero-length interval: the window is 30 minutes either side of it.
        assert parse_instant(kwargs["since"]) == interval_start - LOOK_BACK
        assert parse_instant(kwargs["until"]) == interval_start + LATE_ADD
        # The deadline is the sensor's timeout after the task started (this loaded machine may start it late).
        assert 30 <= kwargs["deadline"] - interval_start.timestamp() < 30 + 600
    # The sensor succeeded only once the file answered.
    assert [r.status for r in requests_on(vobiz_fake, "media")][-1] == 200


@pytest.mark.parametrize(
    ("dag", "prefix"),
    [(scenarios.timeout_deferrable, "Timed out at "), (scenarios.timeout_reschedule, "Timed out after 2 s: ")],
)
def test_a_timeout_fails_saying_what_was_looked_for_and_seen(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str], dag: Any, prefix: str
) -> None:
    vobiz_fake.add_recording(conference_name="Sales Call", add_time=SINCE + timedelta(minutes=31))
    for hours in (1, 25):
        vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE - timedelta(hours=hours))
    started = time.monotonic()
    run = run_scenario(dag, since=SINCE.isoformat())

    assert run.task_states == {"wait": "failed"} and run.xcom("wait") is None
    log = task_log()
    assert "AirflowSensorTimeout" in log and LOOKED_FOR in log and SEEN in log and prefix in log
    assert time.monotonic() - started >= scenarios.TIMEOUT_S
    # It stopped looking at the timeout: no more checks than fit in it (a loaded machine makes fewer),
    # counting the first at once, the sensor's own before deferring and a last one at the deadline.
    checks = len(requests_on(vobiz_fake, "recording.list"))
    assert 1 <= checks <= scenarios.TIMEOUT_S / scenarios.POKE_INTERVAL_S + 3


def test_poke_chooses_the_meetings_recording_among_decoys_with_offsets(vobiz_fake: FakeVobizServer) -> None:
    # Vobiz writes add_time in the account's zone ("2026-11-23 15:50:00+05:30"); since comes in another form.
    vobiz_fake.configure(add_time_utc_offset="+05:30", list_filters="ignore")
    decoys = add_decoys(vobiz_fake)
    assert vobiz_fake.recordings[0]["add_time"].endswith("+05:30")
    run = run_scenario(scenarios.wait_poke, since="2026-11-23T15:30:00+05:30")

    assert run.task_states == {"wait": "success"}
    result = run.xcom("wait")
    assert result["recording_id"] == decoys.target
    assert result["add_time"] == "2026-11-23T10:20:00+00:00"
    assert [r.query.count("offset=100") for r in requests_on(vobiz_fake, "recording.list")] == [0, 1]


def test_a_slow_api_fails_the_deferred_wait_near_its_timeout(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str]
) -> None:
    # Each answer takes 6 s, the sensor's timeout is 2 s: the worker's first check and the
    # trigger's last poll are cut to the time left, not their full 30 s request timeout.
    vobiz_fake.set_latency("recording.list", 6.0)

    run = run_scenario(scenarios.timeout_deferrable, since=SINCE.isoformat())

    assert run.task_states == {"wait": "failed"}
    log = task_log()
    assert "AirflowSensorTimeout" in log and "the last poll failed" in log
    check, last_poll = (entry.received_at for entry in requests_on(vobiz_fake, "recording.list"))
    # Had the first check waited for its answer, the trigger's poll would come 6 s or more later.
    assert last_poll - check < 6.0
    time.sleep(max(0.0, last_poll + 6.2 - time.time()))  # let the slow answers finish


def test_a_maintenance_page_is_waited_out_in_poke_mode(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=5))
    page = "<html><body>Down for maintenance</body></html>"
    vobiz_fake.inject("recording.list", 200, body=page, headers={"Content-Type": "text/html"})

    run = run_scenario(scenarios.wait_poke, since=SINCE.isoformat())

    assert run.task_states == {"wait": "success"}
    assert [r.status for r in requests_on(vobiz_fake, "recording.list")][:2] == [200, 200]


@pytest.mark.parametrize("dag", [scenarios.soft_fail_deferrable, scenarios.soft_fail_poke])
def test_a_fatal_answer_at_the_first_check_skips_a_soft_fail_sensor(
    vobiz_fake: FakeVobizServer, task_log: Callable[[], str], dag: Any
) -> None:
    # The worker's check before deferring, and a poke: a 403 is fatal, and soft_fail skips the task
    # as Airflow does for a timeout or the trigger's error event.
    vobiz_fake.inject("recording.list", 403, times=5)

    run = run_scenario(dag, since=SINCE.isoformat())

    assert run.task_states == {"wait": "skipped"}
    assert "Skipping due to soft_fail" in task_log() and "answered 403" in task_log()
    assert len(requests_on(vobiz_fake, "recording.list")) == 1


def test_the_last_poke_is_made_at_the_timeout_and_finds_a_file_ready_just_before(vobiz_fake: FakeVobizServer) -> None:
    # The recording is added 0.2 s before the timeout (timed from the sensor's first request).
    done = threading.Event()
    added: list[str] = []

    def add_just_before_the_timeout() -> None:
        while not done.wait(0.01):
            lists = requests_on(vobiz_fake, "recording.list")
            if lists and time.time() >= lists[0].received_at + scenarios.TIMEOUT_S - 0.2:
                added.append(vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE + timedelta(minutes=5)))
                return

    adder = threading.Thread(target=add_just_before_the_timeout, daemon=True)
    adder.start()
    try:
        run = run_scenario(scenarios.deadline_poke, since=SINCE.isoformat())
    finally:
        done.set()
        adder.join()

    assert run.task_states == {"wait": "success"} and run.xcom("wait")["recording_id"] == added[0]
    lists = requests_on(vobiz_fake, "recording.list")
    # Pokes at 0, 0.75 and 1.5 s, then the last at the timeout (2 s), not one interval on (2.25 s).
    assert len(lists) == 4
    assert lists[-1].received_at - lists[0].received_at <= scenarios.TIMEOUT_S + 0.1
