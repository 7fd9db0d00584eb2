"""Scenario DAGs for the meeting window, on the timetables users schedule meetings with.

Both stop the room's recording and wait for its file, with every bound left to its default: a
daily 15-minute stand-up (``CronTriggerTimetable`` with ``interval``: the data interval is the
meeting) and a weekly webinar on a bare cron string (Airflow 3 makes it a
``CronTriggerTimetable`` without interval: a zero-length data interval). The wait polls in poke
mode with a short timeout, so a wrong window fails fast.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor
from vobiz_provider.version_compat import CronTriggerTimetable

ROOM = "Daily Standup"
_COMMON: dict[str, Any] = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "default_args": {"retries": 0},
    "tags": ["vobiz", "scenario"],
}
_WAIT: dict[str, Any] = {"conference_name": ROOM, "mode": "poke", "poke_interval": 0.2, "timeout": 5}

with DAG(
    dag_id="vobiz_scenario_daily_standup",
    schedule=CronTriggerTimetable("15 9 * * *", timezone="UTC", interval=timedelta(minutes=15)),
    **_COMMON,
) as daily_standup:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM) >> ConferenceRecordingSensor(
        task_id="wait", **_WAIT
    )

# A cron string is a CronTriggerTimetable (zero-length intervals) on Airflow 3, but a CronDataIntervalTimetable (the
# week before the run) on Airflow 2: the timetable is spelled out, so the run is the same on both.
with DAG(
    dag_id="vobiz_scenario_weekly_webinar", schedule=CronTriggerTimetable("0 17 * * THU", timezone="UTC"), **_COMMON
) as weekly_webinar:
    StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM) >> ConferenceRecordingSensor(
        task_id="wait", **_WAIT
    )
