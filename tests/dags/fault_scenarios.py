"""Pipelines for the fault matrix (tests/faults): stop, wait, download, run with ``dag.test()``.

One DAG per sensor mode; the room, destination and sensor timeout come in through ``params``.
No task retries: a fault the provider does not absorb shows as a failed task at once.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.operators.recording import StartConferenceRecordingOperator, StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor

PARAMS: dict[str, Any] = {"conference_name": "Fault Room", "destination": "", "file_format": "mp3"}
SENSOR_TIMEOUT_S = 12
_COMMON: dict[str, Any] = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "default_args": {"retries": 0},
    "tags": ["vobiz", "scenario", "faults"],
}
_ROOM = "{{ params.conference_name }}"


def _pipeline(dag_id: str, **sensor: Any) -> DAG:
    with DAG(dag_id=dag_id, params=dict(PARAMS), **_COMMON) as dag:
        stop = StopConferenceRecordingOperator(task_id="stop", conference_name=_ROOM)
        wait = ConferenceRecordingSensor(
            task_id="wait", conference_name=_ROOM, poke_interval=0.2, timeout=SENSOR_TIMEOUT_S, **sensor
        )
        download = DownloadRecordingOperator(
            task_id="download", recording=wait.output, destination="{{ params.destination }}"
        )
        stop >> wait >> download
    return dag


poke_pipeline = _pipeline("vobiz_faults_poke", mode="poke")
reschedule_pipeline = _pipeline("vobiz_faults_reschedule", mode="reschedule")
deferrable_pipeline = _pipeline("vobiz_faults_deferrable", deferrable=True)

with DAG(dag_id="vobiz_faults_start", params=dict(PARAMS), **_COMMON) as start_dag:
    StartConferenceRecordingOperator(task_id="start", conference_name=_ROOM, file_format="{{ params.file_format }}")

# A destination template that renders to None (native rendering keeps None a None).
with DAG(
    dag_id="vobiz_faults_native", params={**PARAMS, "destination": None}, render_template_as_native_obj=True, **_COMMON
) as native_pipeline:
    stop = StopConferenceRecordingOperator(task_id="stop", conference_name=_ROOM)
    wait = ConferenceRecordingSensor(task_id="wait", conference_name=_ROOM, poke_interval=0.2, timeout=SENSOR_TIMEOUT_S)
    (
        stop
        >> wait
        >> DownloadRecordingOperator(task_id="download", recording=wait.output, destination="{{ params.destination }}")
    )

PIPELINES = {
    "poke": poke_pipeline,
    "reschedule": reschedule_pipeline,
    "deferrable": deferrable_pipeline,
    "native": native_pipeline,
    "start": start_dag,
}
