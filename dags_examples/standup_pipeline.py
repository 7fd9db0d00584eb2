"""Stand-up pipeline: collect the daily stand-up's recording when the meeting ends.

Runs on weekdays at 09:15 London time, the end of a 09:00 stand-up. It stops the room's
recording, waits (deferred, so no worker slot is held) until Vobiz has finished the file of the
part that stop ended and of every earlier part of the meeting (a host who paused and restarted
the recording leaves several), downloads each part to a dated path in your storage
(``<id>.wav`` or ``<id>.mp3``, named by its id and its bytes; one mapped task per part), emits
an asset event per part that the recording catalogue DAG picks up, and checks the parts'
total duration against the scheduled meeting length.

The timetable's 15-minute interval makes the run's data interval the meeting itself: the
sensor's default window (the interval, plus a margin for Vobiz to add the row) ignores the
room's earlier and later meetings, so a re-run or a backfill collects its own day's recording,
and the stop sends nothing in a run whose meeting ended over an hour ago. Files are dated by
the run's ``run_after``, which every run has (a manual run may have no logical date); Airflow 2
has no ``run_after`` but gives every run a logical date.

Params (defaults work against the fake Vobiz server of ``make demo``):
``conference_name`` the Vobiz room; ``storage_root`` a local folder or an object storage URL
(``s3://bucket/meetings`` with an Airflow connection); ``meeting_minutes`` the scheduled length.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, Param, get_current_context, task

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor
from vobiz_provider.version_compat import AirflowFailException, CronTriggerTimetable

# Downstream DAGs (the recording catalogue) are scheduled on this asset.
MEETING_RECORDINGS = Asset("vobiz_meeting_recordings")
# Seconds the parts together may differ from the scheduled length (late start, early end).
DURATION_TOLERANCE_S = 120

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
        # Wait for the part this run's stop ended: a part the host finished earlier is ready
        # sooner, and alone it is only the first half of the meeting.
        after_stop=stop_recording.output,
        # Every part of the meeting (a list, oldest first), not only the newest.
        collect="all",
        deferrable=True,
        poke_interval=5,
        timeout=60 * 60,
    )
    # One download per part, each under its own name: {recording_id} and {format} (wav or mp3,
    # as the downloaded bytes say) are filled in by the operator.
    download_recording = DownloadRecordingOperator.partial(
        task_id="download_recording",
        destination="{{ params.storage_root }}/standup/"
        "{{ (dag_run.run_after if dag_run.run_after is defined else dag_run.logical_date) | ds }}"
        "/{recording_id}.{format}",
        outlets=[MEETING_RECORDINGS],
    ).expand(recording=wait_for_recording.output)

    @task
    def check_meeting_length(downloads: list[dict[str, Any]]) -> dict[str, Any]:
        """The parts together must last the scheduled meeting, give or take two minutes."""
        expected = int(get_current_context()["params"]["meeting_minutes"]) * 60
        parts = list(downloads)  # oldest part first, as the sensor listed them
        total = round(sum(float(download["duration_s"]) for download in parts), 3)
        if abs(total - expected) > DURATION_TOLERANCE_S:
            raise AirflowFailException(
                f"the {len(parts)} part(s) last {total:.0f} s together; the meeting was scheduled for "
                f"{expected} s (tolerance {DURATION_TOLERANCE_S} s)"
            )
        return {"parts": len(parts), "duration_s": total, "paths": [download["path"] for download in parts]}

    stop_recording >> wait_for_recording
    check_meeting_length(download_recording.output)
    # [END howto_stop_wait_download]
