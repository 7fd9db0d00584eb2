"""Scenario DAGs for ConferenceRecordingSensor, run with ``dag.test()`` against the fake server.

The room, ``since`` and the timeout come in through ``params``; each DAG fixes the mode. Run them
with :func:`run_scenario`, which passes every param (``dag.test()`` writes ``run_conf`` into the
DAG's own Param objects, so a value left out would leak from the previous test). Short poke
intervals and timeouts keep the tests fast; no retries, so a failure shows at once.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor

ROOM = "{{ params.conference_name }}"
PARAMS: dict[str, Any] = {"conference_name": "Team Sync", "since": ""}
TIMEOUT_S = 2
POKE_INTERVAL_S = 0.2
_COMMON: dict[str, Any] = {
    "schedule": None,
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "default_args": {"retries": 0},
    "tags": ["vobiz", "scenario"],
}
# An empty since (the default param) lets the sensor use the run's own default.
_SENSOR: dict[str, Any] = {"conference_name": ROOM, "since": "{{ params.since }}", "poke_interval": POKE_INTERVAL_S}


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, params=dict(PARAMS), **_COMMON)


# Stop the room's recording, then wait for its file: the provider's core pipeline.
with _dag("vobiz_scenario_stop_then_wait_deferrable") as stop_then_wait_deferrable:
    stop = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)
    stop >> ConferenceRecordingSensor(task_id="wait", deferrable=True, timeout=30, **_SENSOR)

with _dag("vobiz_scenario_stop_then_wait_reschedule") as stop_then_wait_reschedule:
    stop = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM)
    stop >> ConferenceRecordingSensor(task_id="wait", mode="reschedule", timeout=30, **_SENSOR)

with _dag("vobiz_scenario_wait_poke") as wait_poke:
    ConferenceRecordingSensor(task_id="wait", mode="poke", timeout=30, **_SENSOR)

# Nothing to find: the sensor times out after TIMEOUT_S.
with _dag("vobiz_scenario_timeout_deferrable") as timeout_deferrable:
    ConferenceRecordingSensor(task_id="wait", deferrable=True, timeout=TIMEOUT_S, **_SENSOR)

with _dag("vobiz_scenario_timeout_reschedule") as timeout_reschedule:
    ConferenceRecordingSensor(task_id="wait", mode="reschedule", timeout=TIMEOUT_S, **_SENSOR)

# A wait that may come to nothing: soft_fail skips it.
with _dag("vobiz_scenario_soft_fail_deferrable") as soft_fail_deferrable:
    ConferenceRecordingSensor(task_id="wait", deferrable=True, timeout=TIMEOUT_S, soft_fail=True, **_SENSOR)

with _dag("vobiz_scenario_soft_fail_poke") as soft_fail_poke:
    ConferenceRecordingSensor(task_id="wait", mode="poke", timeout=TIMEOUT_S, soft_fail=True, **_SENSOR)

# Pokes at 0, 0.75 and 1.5 s, and a last one at the 2 s timeout.
with _dag("vobiz_scenario_deadline_poke") as deadline_poke:
    ConferenceRecordingSensor(task_id="wait", mode="poke", timeout=TIMEOUT_S, **{**_SENSOR, "poke_interval": 0.75})


def run_scenario(dag: DAG, **params: Any) -> Any:
    """``dag.test()`` with every param given (the defaults, overridden by ``params``)."""
    from tests.dagrun import run_dag

    return run_dag(dag, run_conf={**PARAMS, **params})
