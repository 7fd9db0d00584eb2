"""E2E only: a deferred wait for a recording that never appears, with a short timeout.

The example DAGs wait an hour; this one waits 20 s, so the suite can see the real triggerer end
the wait at the deadline with the provider's message.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from vobiz_provider.sensors.recording import ConferenceRecordingSensor

TIMEOUT_S = 20

with DAG(
    dag_id="vobiz_e2e_sensor_timeout",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"conference_name": Param("Never Stopped", type="string", minLength=1)},
    tags=["vobiz", "e2e"],
) as dag:
    ConferenceRecordingSensor(
        task_id="wait_for_recording",
        conference_name="{{ params.conference_name }}",
        deferrable=True,
        poke_interval=2,
        timeout=TIMEOUT_S,
        retries=0,
    )
