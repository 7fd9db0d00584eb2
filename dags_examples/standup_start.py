"""Start the stand-up's recording when the meeting starts: the twin of the stand-up pipeline.

Runs on weekdays at 09:00 London time. Vobiz records only rooms with at least one member, so
the task is retried for a few minutes while people join; a room that is recording already is
a warning, not a failure. The current Vobiz API returns no recording id here: the pipeline
finds the recording by room and time after the meeting.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param

from vobiz_provider.operators.recording import StartConferenceRecordingOperator
from vobiz_provider.version_compat import CronTriggerTimetable

with DAG(
    dag_id="vobiz_standup_start",
    description="Start recording the daily stand-up when it begins.",
    schedule=CronTriggerTimetable("0 9 * * 1-5", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    # Nobody may have joined yet at 09:00 (Vobiz answers 404 for an empty room): retry a while.
    default_args={"owner": "meetings", "retries": 5, "retry_delay": timedelta(minutes=1)},
    params={
        "conference_name": Param("Daily Standup", type="string", minLength=1),
        "file_format": Param("wav", enum=["mp3", "wav"]),
    },
    tags=["vobiz", "meetings", "example"],
    doc_md=__doc__,
) as dag:
    StartConferenceRecordingOperator(
        task_id="start_recording",
        conference_name="{{ params.conference_name }}",
        file_format="{{ params.file_format }}",
    )
