"""Scenario DAGs for DownloadRecordingOperator, run with ``dag.test()`` against the fake server.

The recording, destination and duration check come in through ``params`` (run them with
:func:`run_download`). No retries: a failure shows at once.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, task
from airflow.providers.openlineage.utils.selective_enable import enable_lineage

from vobiz_provider.operators.download import DownloadRecordingOperator

_COMMON: dict[str, Any] = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "default_args": {"retries": 0},
    "tags": ["vobiz", "scenario"],
}
PARAMS: dict[str, Any] = {"recording": "", "destination": "", "expected_duration": None, "duration_tolerance": None}
RECORDINGS = Asset("vobiz_scenario_recordings")


def _download(task_id: str, **kwargs: Any) -> DownloadRecordingOperator:
    kwargs.setdefault("recording", "{{ params.recording }}")
    return DownloadRecordingOperator(
        task_id=task_id,
        destination="{{ params.destination }}",
        expected_duration="{{ params.expected_duration }}",
        duration_tolerance="{{ params.duration_tolerance }}",
        **kwargs,
    )


with DAG(dag_id="vobiz_scenario_download", params=dict(PARAMS), **_COMMON) as download_dag:
    _download("download", outlets=[RECORDINGS])

with DAG(dag_id="vobiz_scenario_download_overwrite", params=dict(PARAMS), **_COMMON) as overwrite_dag:
    _download("download", overwrite=True)


# Only this DAG emits OpenLineage events (the test session sets [openlineage] selective_enable).
with DAG(dag_id="vobiz_scenario_download_lineage", params=dict(PARAMS), **_COMMON) as lineage_dag:
    _download("download")
enable_lineage(lineage_dag)


@task
def look_up(recording_id: str) -> dict[str, Any]:
    """What the sensor hands on: the recording as its XCom dict."""
    from vobiz_provider.hooks.vobiz import VobizHook

    return VobizHook().get_recording(recording_id).to_dict()


# The recording arrives as the upstream task's XCom dict, as from ConferenceRecordingSensor.
with DAG(dag_id="vobiz_scenario_download_from_xcom", params=dict(PARAMS), **_COMMON) as from_xcom_dag:
    _download("download", recording=look_up("{{ params.recording }}"))


def run_download(dag: DAG, **params: Any) -> Any:
    """``dag.test()`` with every param given (in-process runs keep the previous run's values otherwise)."""
    from tests.dagrun import run_dag

    return run_dag(dag, run_conf={**PARAMS, **params})
