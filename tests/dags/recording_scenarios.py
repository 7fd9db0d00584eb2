"""Scenario DAGs for the stop and start operators, run with ``dag.test()`` against the fake server.

Rooms and inputs come in through ``params``, so one DAG serves several tests: run them with
:func:`run_scenario`. No retries except in the retry scenario: a failure shows at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from vobiz_provider.operators.recording import StartConferenceRecordingOperator, StopConferenceRecordingOperator

_COMMON: dict[str, Any] = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "tags": ["vobiz", "scenario"],
}
ROOM = "{{ params.conference_name }}"
STOP_PARAMS = {"conference_name": "Daily Standup"}
START_PARAMS = {"conference_name": "Daily Standup", "file_format": "mp3", "callback_url": ""}

with DAG(dag_id="vobiz_scenario_stop", params=dict(STOP_PARAMS), default_args={"retries": 0}, **_COMMON) as stop_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)

# One task per if_not_recording policy, all on the same room: for rooms with nothing to stop.
with DAG(
    dag_id="vobiz_scenario_stop_policies", params=dict(STOP_PARAMS), default_args={"retries": 0}, **_COMMON
) as stop_policies_dag:
    for policy in ("succeed", "skip", "fail"):
        StopConferenceRecordingOperator(task_id=f"stop_{policy}", conference_name=ROOM, if_not_recording=policy)

# A try whose answer is lost fails; the retry comes a second later (dag.test() checks once a second).
with DAG(
    dag_id="vobiz_scenario_stop_retry",
    params=dict(STOP_PARAMS),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
    **_COMMON,
) as stop_retry_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)

with DAG(dag_id="vobiz_scenario_start", params=dict(START_PARAMS), default_args={"retries": 0}, **_COMMON) as start_dag:
    StartConferenceRecordingOperator(
        task_id="start",
        conference_name=ROOM,
        file_format="{{ params.file_format }}",
        callback_url="{{ params.callback_url }}",
    )

# Native rendering keeps a None param None (plain rendering makes it the text "None").
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

# Plain rendering refuses a missing param while rendering, before execute() runs.
with DAG(dag_id="vobiz_scenario_missing_param", default_args={"retries": 0}, **_COMMON) as missing_param_dag:
    StopConferenceRecordingOperator(task_id="stop", conference_name="{{ params.missing }}")

_DEFAULTS: dict[str, dict[str, Any]] = {
    stop_dag.dag_id: STOP_PARAMS,
    stop_policies_dag.dag_id: STOP_PARAMS,
    stop_retry_dag.dag_id: STOP_PARAMS,
    start_dag.dag_id: START_PARAMS,
    native_none_dag.dag_id: {"conference_name": None},
    missing_param_dag.dag_id: {},
}


def run_scenario(dag: DAG, **params: Any) -> Any:
    """``dag.test()`` with every param given: in-process runs write ``run_conf`` into the DAG's own
    Param objects (Airflow's ``process_params`` shares them), so a value left out would leak from
    the previous test."""
    from tests.dagrun import run_dag

    return run_dag(dag, run_conf={**_DEFAULTS[dag.dag_id], **params})
