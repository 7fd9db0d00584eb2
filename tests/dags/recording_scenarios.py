"""Scenario DAGs for the stop and start operators, run with ``dag.test()`` against the fake server.

Rooms and inputs come in through ``params`` (override them with ``run_conf``), so one DAG serves
several tests. No retries except in the retry scenario: a failure shows at once.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from vobiz_provider.operators.recording import StartConferenceRecordingOperator, StopConferenceRecordingOperator

_COMMON = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "tags": ["vobiz", "scenario"],
}
ROOM = "{{ params.conference_name }}"

with DAG(
    dag_id="vobiz_scenario_stop",
    params={"conference_name": "Daily Standup"},
    default_args={"retries": 0},
    **_COMMON,
) as stop_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)

# One task per if_not_recording policy, all on the same room: for rooms with nothing to stop.
with DAG(
    dag_id="vobiz_scenario_stop_policies",
    params={"conference_name": "Daily Standup"},
    default_args={"retries": 0},
    **_COMMON,
) as stop_policies_dag:
    for policy in ("succeed", "skip", "fail"):
        StopConferenceRecordingOperator(task_id=f"stop_{policy}", conference_name=ROOM, if_not_recording=policy)

# A try whose answer is lost fails; the retry comes a second later (dag.test() checks once a second).
with DAG(
    dag_id="vobiz_scenario_stop_retry",
    params={"conference_name": "Daily Standup"},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
    **_COMMON,
) as stop_retry_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)

with DAG(
    dag_id="vobiz_scenario_start",
    params={"conference_name": "Daily Standup", "file_format": "mp3", "callback_url": ""},
    default_args={"retries": 0},
    **_COMMON,
) as start_dag:
    StartConferenceRecordingOperator(
        task_id="start",
        conference_name=ROOM,
        file_format="{{ params.file_format }}",
        callback_url="{{ params.callback_url }}",
    )

# Native rendering keeps a None param None (plain rendering would make it the text "None").
with DAG(
    dag_id="vobiz_scenario_native_none",
    params={"conference_name": None},
    default_args={"retries": 0},
    render_template_as_native_obj=True,
    **_COMMON,
) as native_none_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)
    StartConferenceRecordingOperator(task_id="start", conference_name=ROOM)
    StopConferenceRecordingOperator(task_id="stop_missing_param", conference_name="{{ params.missing }}")
