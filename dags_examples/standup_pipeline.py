"""Stand-up pipeline: collect the daily stand-up's recording when the meeting ends.

Runs on weekdays at 09:15 London time, the end of a 09:00 stand-up. It stops the room's
recording, waits (deferred, so no worker slot is held) until Vobiz has finished the file,
downloads it to a dated path in your storage (``<id>.wav`` or ``<id>.mp3``, named by its
bytes), checks its duration against the scheduled meeting length and emits an asset event
that the recording catalogue DAG picks up.

The timetable's 15-minute interval makes the run's data interval the meeting itself: the
sensor's default window (the interval, plus a margin for Vobiz to add the row) ignores the
room's earlier and later meetings, so a re-run or a backfill collects its own day's recording,
and the stop sends nothing in a run whose meeting ended over an hour ago. Files are dated by
the run's ``run_after``, which every run has (a manual run may have no logical date).

Params (defaults work against the fake Vobiz server of ``make demo``):
``conference_name`` the Vobiz room; ``storage_root`` a local folder or an object storage URL
(``s3://bucket/meetings`` with an Airflow connection); ``meeting_minutes`` the scheduled length.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset, Param

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor
from vobiz_provider.version_compat import CronTriggerTimetable

# Downstream DAGs (the recording catalogue) are scheduled on this asset.
MEETING_RECORDINGS = Asset("vobiz_meeting_recordings")

with DAG(
    dag_id="vobiz_standup_pipeline",
    description="Stop the stand-up's recording, wait for the file, download and verify it.",
    schedule=CronTriggerTimetable("15 9 * * 1-5", timezone="Europe/London", interval=timedelta(minutes=15)),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "meetings", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "conference_name": Param("Daily Standup", type="string", minLength=1),
        "storage_root": Param("/tmp/vobiz-recordings", type="string", minLength=1),
        "meeting_minutes": Param(15, type="integer", minimum=1),
    },
    tags=["vobiz", "meetings", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_stop_wait_download]
    stop_recording = StopConferenceRecordingOperator(
        task_id="stop_recording",
        conference_name="{{ params.conference_name }}",
        # The room may have ended on its own (Vobiz then stops the recording): not an error.
        if_not_recording="succeed",
    )
    wait_for_recording = ConferenceRecordingSensor(
        task_id="wait_for_recording",
        conference_name="{{ params.conference_name }}",
        deferrable=True,
        poke_interval=5,
        timeout=60 * 60,
    )
    download_recording = DownloadRecordingOperator(
        task_id="download_recording",
        recording=wait_for_recording.output,
        destination=(
            "{{ params.storage_root }}/standup/{{ dag_run.run_after | ds }}/"
            "{{ ti.xcom_pull(task_ids='wait_for_recording')['recording_id'] }}.{format}"
        ),  # {format}: wav or mp3, as the downloaded bytes say
        expected_duration="{{ params.meeting_minutes * 60 }}",
        duration_tolerance=120,
        outlets=[MEETING_RECORDINGS],
    )
    stop_recording >> wait_for_recording >> download_recording
    # [END howto_stop_wait_download]
