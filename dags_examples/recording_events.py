"""New recordings, event-driven: a DAG run for every recording Vobiz finishes, with no schedule.

The asset ``vobiz_new_recordings`` has an ``AssetWatcher`` whose ``VobizRecordingEventTrigger``
polls Vobiz's recordings list from the triggerer (one request a minute for every room) and emits
an asset event per new conference recording once its file can be downloaded; the event's
``extra["payload"]`` is the recording dict the sensor returns. This DAG is scheduled on the asset:
one run may carry several events (all queued since the last run), so it loops over them.

Delivery is at least once (a triggerer killed at the wrong moment emits a recording again), so
the DAG dedupes by ``recording_id``: recordings already in the catalogue table
``vobiz_recording_events`` (connection ``vobiz_catalogue_db``, SQLite by default) are skipped,
each new one is downloaded to ``<storage_root>/<room>/<date>/<recording_id>.{format}`` (named
``.wav`` or ``.mp3`` by its bytes; the download keeps an identical file) and catalogued with an
upsert keyed by ``recording_id``.
A run started by hand processes the asset's latest ``backfill_events`` events.

Deployment knobs read when the file is parsed: ``VOBIZ_WATCH_POLL_INTERVAL`` (seconds between the
watcher's polls, default 60) and ``VOBIZ_RECORDINGS_ROOT`` (the default ``storage_root``).

The watcher emits recordings added after its first start, never the account's history; see
docs/event-driven.md for the contract and for when the scheduled pipelines fit better.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, Param, get_current_context, task

from vobiz_provider.operators.download import DownloadRecordingOperator
from vobiz_provider.triggers.recording import VobizRecordingEventTrigger
from vobiz_provider.version_compat import AssetWatcher

POLL_INTERVAL = float(os.environ.get("VOBIZ_WATCH_POLL_INTERVAL", "60"))
STORAGE_ROOT = os.environ.get("VOBIZ_RECORDINGS_ROOT", "/tmp/vobiz-recordings")

# [START howto_recording_event_watcher]
# One watcher for every room: one list request per poll, however many rooms record.
NEW_RECORDINGS = Asset(
    "vobiz_new_recordings",
    watchers=[
        AssetWatcher(
            name="vobiz_new_recordings_watcher",
            trigger=VobizRecordingEventTrigger(vobiz_conn_id="vobiz_default", poll_interval=POLL_INTERVAL),
        )
    ],
)
# [END howto_recording_event_watcher]

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS vobiz_recording_events (
    recording_id TEXT PRIMARY KEY,
    conference_name TEXT,
    recorded_at TEXT,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT,
    duration_s REAL,
    run_id TEXT
)
"""
COLUMNS = (
    "recording_id",
    "conference_name",
    "recorded_at",
    "path",
    "bytes",
    "sha256",
    "format",
    "duration_s",
    "run_id",
)


def _folder_name(room: str | None) -> str:
    """A room name as one safe path segment ("Q3 Review/EMEA" -> "Q3-Review-EMEA")."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", room or "").strip("-.") or "no-room"


def _catalogue_hook(conn_id: str) -> Any:
    from airflow.providers.common.compat.sdk import Connection

    hook = Connection.get(conn_id).get_hook()
    hook.run(CREATE_TABLE)
    return hook


with DAG(
    dag_id="vobiz_recording_events",
    description="Download and catalogue every new Vobiz recording as its asset event arrives.",
    schedule=[NEW_RECORDINGS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"owner": "meetings", "retries": 3, "retry_delay": timedelta(minutes=1)},
    params={
        "storage_root": Param(STORAGE_ROOT, type="string", minLength=1),
        "catalogue_conn_id": Param("vobiz_catalogue_db", type="string", minLength=1),
        "backfill_events": Param(20, type="integer", minimum=1),
    },
    tags=["vobiz", "meetings", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_recording_event_consumer]
    @task(inlets=[NEW_RECORDINGS])
    def new_recordings() -> list[dict[str, Any]]:
        """The run's recordings not catalogued yet, once each, with where to put each file."""
        context = get_current_context()
        params = context["params"]
        events = list(context["triggering_asset_events"].get(NEW_RECORDINGS, []))
        if not events:  # started by hand
            events = list(context["inlet_events"][NEW_RECORDINGS][-int(params["backfill_events"]) :])
        hook = _catalogue_hook(params["catalogue_conn_id"])
        known = {row[0] for row in hook.get_records("SELECT recording_id FROM vobiz_recording_events")}
        todo: dict[str, dict[str, Any]] = {}
        for event in events:
            recording = (event.extra or {}).get("payload")
            if not isinstance(recording, dict) or not recording.get("recording_id"):
                continue  # an event from elsewhere, not a recording
            if recording["recording_id"] in known or recording["recording_id"] in todo:
                continue  # at-least-once delivery: emitted again, or already done by an earlier run
            day = pendulum.parse(recording["add_time"]).in_tz("UTC").to_date_string()
            folder = f"{params['storage_root']}/{_folder_name(recording['conference_name'])}/{day}"
            todo[recording["recording_id"]] = {
                "recording": recording,
                # {format} stays literal: the download names the file .wav or .mp3 by its bytes.
                "destination": f"{folder}/{recording['recording_id']}.{{format}}",
            }
        return list(todo.values())

    recordings = new_recordings()
    downloads = DownloadRecordingOperator.partial(task_id="download_recording").expand_kwargs(recordings)

    @task
    def catalogue(recordings: list[dict[str, Any]], downloads: list[dict[str, Any]]) -> int:
        """Upsert one row per recording (keyed by recording_id, so re-runs are harmless)."""
        context = get_current_context()
        by_id = {item["recording"]["recording_id"]: item["recording"] for item in recordings}
        rows = [
            {
                **{key: download[key] for key in ("recording_id", "path", "bytes", "sha256", "format", "duration_s")},
                "conference_name": by_id[download["recording_id"]]["conference_name"],
                "recorded_at": by_id[download["recording_id"]]["add_time"],
                "run_id": context["run_id"],
            }
            for download in downloads
        ]
        if rows:
            _catalogue_hook(context["params"]["catalogue_conn_id"]).insert_rows(
                "vobiz_recording_events",
                [tuple(row[column] for column in COLUMNS) for row in rows],
                target_fields=list(COLUMNS),
                replace=True,
                replace_index="recording_id",
            )
        return len(rows)

    catalogue(recordings, downloads.output)
    # [END howto_recording_event_consumer]
