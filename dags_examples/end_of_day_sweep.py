"""End-of-day sweep: stop every live room's recording at close of business and collect each file.

Runs on weekdays at 18:00 London time. It lists the live rooms (plus the ``rooms`` param:
Vobiz warns that its list can come back empty while rooms are live), then with dynamic task
mapping (a mapped task group per room) stops each room's recording, waits for each file and
downloads it. A room that was not recording is skipped, not failed, and so are its own wait
and download.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, Param, get_current_context, task, task_group

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.operators.recording import StopConferenceRecordingOperator
from vobiz_provider.sensors.recording import ConferenceRecordingSensor
from vobiz_provider.version_compat import CronTriggerTimetable

MEETING_RECORDINGS = Asset("vobiz_meeting_recordings")

with DAG(
    dag_id="vobiz_end_of_day_sweep",
    description="Stop every live room's recording at close of business and collect the files.",
    # The 10-hour interval makes the business day the data interval: recordings before it are not today's.
    schedule=CronTriggerTimetable("0 18 * * 1-5", timezone="Europe/London", interval=timedelta(hours=10)),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "meetings", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "rooms": Param([], type="array", items={"type": "string"}, description="Rooms to sweep even if unlisted."),
        "storage_root": Param("/tmp/vobiz-recordings", type="string", minLength=1),
    },
    tags=["vobiz", "meetings", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def live_rooms(vobiz_conn_id: str = "vobiz_default") -> list[str]:
        """The rooms to sweep: Vobiz's live list plus the ``rooms`` param, without repeats."""
        from vobiz_provider.hooks.vobiz import VobizHook

        params = get_current_context()["params"]
        listed = VobizHook(vobiz_conn_id).list_conferences()
        return sorted(set(listed) | set(params["rooms"]))

    @task
    def destination_for(recording: dict[str, Any]) -> str:
        """Where one recording goes: <root>/eod/<date>/<room>-<recording id>.{format}.

        The date is the run's ``run_after`` (UTC), which every run has: a manual run may have no logical date.
        """
        context = get_current_context()
        room = re.sub(r"[^A-Za-z0-9._-]+", "-", recording.get("conference_name") or "room").strip("-")
        root = str(context["params"]["storage_root"]).rstrip("/")
        day = context["dag_run"].run_after.date().isoformat()
        # {format} stays literal here: the download names the file .wav or .mp3 by its bytes.
        return f"{root}/eod/{day}/{room}-{recording['recording_id']}.{{format}}"

    # A mapped task group keeps each room's tasks paired: a skipped stop skips only its own room.
    @task_group
    def sweep_room(room: str) -> None:
        stop = StopConferenceRecordingOperator(task_id="stop_recording", conference_name=room, if_not_recording="skip")
        recording = ConferenceRecordingSensor(
            task_id="wait_for_recording", conference_name=room, deferrable=True, poke_interval=5, timeout=60 * 60
        )
        download = DownloadRecordingOperator(
            task_id="download_recording",
            recording=recording.output,
            destination=destination_for(recording.output),
            outlets=[MEETING_RECORDINGS],
        )
        stop >> recording >> download

    sweep_room.expand(room=live_rooms())
