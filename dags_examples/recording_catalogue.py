"""Recording catalogue: one database row per downloaded recording, so the team keeps its ids.

Scheduled on the ``vobiz_meeting_recordings`` asset: every download in the stand-up pipeline or
the end-of-day sweep emits an asset event whose ``extra`` carries the recording id, path, size,
sha256 and duration; a meeting recorded in parts (the host paused and restarted the recording)
gives one event per part, from the stand-up pipeline's mapped download. This DAG writes one row
per recording, so one per part (the parts of one meeting share ``source_run_id``, the run that
downloaded them), into the table ``vobiz_recordings``
through the Airflow connection ``vobiz_catalogue_db`` (any SQL database with a common-sql hook;
SQLite by default: ``AIRFLOW_CONN_VOBIZ_CATALOGUE_DB='sqlite:////var/lib/meetings/catalogue.db'``).

Rows are keyed by ``recording_id`` and written with upsert semantics, so re-runs and manual runs
are harmless. A run started by hand (no triggering events) catalogues the asset's latest
``backfill_events`` events instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, Param, get_current_context, task

MEETING_RECORDINGS = Asset("vobiz_meeting_recordings")
COLUMNS = (
    "recording_id",
    "conference_name",
    "path",
    "format",
    "bytes",
    "sha256",
    "duration_s",
    "recorded_at",
    "downloaded_at",
    "source_dag_id",
    "source_run_id",
)
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS vobiz_recordings (
    recording_id TEXT PRIMARY KEY,
    conference_name TEXT,
    path TEXT NOT NULL,
    format TEXT,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    duration_s REAL,
    recorded_at TEXT,
    downloaded_at TEXT NOT NULL,
    source_dag_id TEXT,
    source_run_id TEXT
)
"""

with DAG(
    dag_id="vobiz_recording_catalogue",
    description="Keep one row per downloaded Vobiz recording in a SQL table.",
    schedule=[MEETING_RECORDINGS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"owner": "meetings", "retries": 3, "retry_delay": timedelta(minutes=1)},
    params={
        "catalogue_conn_id": Param("vobiz_catalogue_db", type="string", minLength=1),
        "backfill_events": Param(20, type="integer", minimum=1),
    },
    tags=["vobiz", "meetings", "example"],
    doc_md=__doc__,
) as dag:

    @task(inlets=[MEETING_RECORDINGS])
    def catalogue_recordings() -> list[dict[str, Any]]:
        """Upsert a row per asset event; returns the rows written."""
        from airflow.providers.common.compat.sdk import Connection

        context = get_current_context()
        params = context["params"]
        events = list(context["triggering_asset_events"].get(MEETING_RECORDINGS, []))
        if not events:
            events = list(context["inlet_events"][MEETING_RECORDINGS][-int(params["backfill_events"]) :])
        rows = []
        for event in events:
            extra = event.extra or {}
            if not extra.get("recording_id"):
                continue  # an event from elsewhere without our extras: nothing to catalogue
            rows.append(
                {
                    "recording_id": extra["recording_id"],
                    "conference_name": extra.get("conference_name"),
                    "path": extra["path"],
                    "format": extra.get("format"),
                    "bytes": int(extra["bytes"]),
                    "sha256": extra["sha256"],
                    "duration_s": extra.get("duration_s"),
                    "recorded_at": extra.get("add_time"),
                    "downloaded_at": event.timestamp.isoformat(),
                    "source_dag_id": event.source_dag_id,
                    "source_run_id": event.source_run_id,
                }
            )
        hook = Connection.get(params["catalogue_conn_id"]).get_hook()
        hook.run(CREATE_TABLE)
        if rows:
            hook.insert_rows(
                "vobiz_recordings",
                [tuple(row[column] for column in COLUMNS) for row in rows],
                target_fields=list(COLUMNS),
                replace=True,
                replace_index="recording_id",
            )
        return rows

    catalogue_recordings()
