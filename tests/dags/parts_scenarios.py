"""Scenario DAGs for a meeting whose recording was restarted: the stop, then the sensor with
``after_stop`` (``collect="newest"``, or ``"all"`` with a download mapped over the parts), in
each sensor mode. Run them with :func:`run_parts`; no retries, so a failure shows at once.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor

PARAMS: dict[str, Any] = {"conference_name": "Team Sync", "storage": "/tmp/vobiz-parts", "after_stop": ""}
_COMMON: dict[str, Any] = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "default_args": {"retries": 0},
    "tags": ["vobiz", "scenario"],
}
MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke"},
    "reschedule": {"mode": "reschedule"},
    "deferrable": {"deferrable": True},
}


def _pipeline(dag_id: str, mode: str, collect: str) -> DAG:
    with DAG(dag_id=dag_id, params=dict(PARAMS), **_COMMON) as dag:
        stop = StopConferenceRecordingOperator(task_id="stop", conference_name="{{ params.conference_name }}")
        wait = ConferenceRecordingSensor(
            task_id="wait",
            conference_name="{{ params.conference_name }}",
            after_stop=stop.output,
            collect=collect,
            poke_interval=0.2,
            timeout=30,
            **MODES[mode],
        )
        if collect == "all":
            DownloadRecordingOperator.partial(
                task_id="download", destination="{{ params.storage }}/{recording_id}.{format}"
            ).expand(recording=wait.output)
    return dag


NEWEST = {mode: _pipeline(f"vobiz_scenario_parts_newest_{mode}", mode, "newest") for mode in MODES}
ALL = {mode: _pipeline(f"vobiz_scenario_parts_all_{mode}", mode, "all") for mode in MODES}

# after_stop from a param: bad values fail the sensor before any request.
with DAG(dag_id="vobiz_scenario_parts_bad_after_stop", params=dict(PARAMS), **_COMMON) as bad_after_stop:
    ConferenceRecordingSensor(
        task_id="wait",
        conference_name="{{ params.conference_name }}",
        after_stop="{{ params.after_stop }}",
        poke_interval=0.2,
        timeout=5,
    )


def run_parts(dag: DAG, **params: Any) -> Any:
    """``dag.test()`` with every param given (the defaults, overridden by ``params``)."""
    from tests.dagrun import run_dag

    return run_dag(dag, run_conf={**PARAMS, **params})
