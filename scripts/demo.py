"""``make demo``: run the stand-up pipeline end to end, then the recording catalogue.

Against the embedded fake Vobiz server by default: it starts seeded with a live room that is
recording and whose host paused and restarted the recording five minutes ago (so the meeting is
in two parts: part 1 is ready before the run, the pipeline's stop ends part 2), ``vobiz_default``
points at it, and both DAGs run with ``airflow dags test`` (the
sensor's deferral included). With ``AIRFLOW_CONN_VOBIZ_DEFAULT`` set in the environment the
demo runs against that connection instead: that STOPS A REAL RECORDING of the room named by
``VOBIZ_DEMO_ROOM`` (default "Daily Standup").

Everything it writes stays under ``.demo/`` in the repository. Exit code 0 only on success.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
ROOM = os.environ.get("VOBIZ_DEMO_ROOM", "Daily Standup")
MEETING_MINUTES = 15
PIPELINE, CATALOGUE = "vobiz_standup_pipeline", "vobiz_recording_catalogue"


def _prepare_environment() -> dict[str, str]:
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "recordings").mkdir(parents=True)
    home = DEMO / "airflow_home"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
        "AIRFLOW_CONN_VOBIZ_CATALOGUE_DB": json.dumps({"conn_type": "sqlite", "host": str(DEMO / "catalogue.db")}),
    }
    os.environ.update(env)
    return env


def _start_fake_server() -> Any:
    from vobiz_provider.testing import FakeVobizServer

    server = FakeVobizServer(auth_id="MA_DEMO0001", auth_token="demo-token").start()
    server.configure(processing_delay_s=1.0, file_delay_s=1.0)
    # Two parts of half the meeting each: the first finished five minutes ago, the stop ends the second.
    server.add_room(ROOM, members=3, recording=True, file_format="wav", duration_s=MEETING_MINUTES * 60 / 2)
    server.restart_recording(ROOM, ago_s=300)
    os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = server.connection_json()
    return server


def _airflow(log_name: str, *args: str) -> None:
    """Run the Airflow CLI; its output goes to .demo/<log_name>.log and is shown only on failure."""
    command = [sys.executable, "-m", "airflow", *args]
    print(f"\n$ airflow {' '.join(args)}", flush=True)
    result = subprocess.run(command, env=os.environ.copy(), cwd=ROOT, capture_output=True, text=True)
    log = DEMO / f"{log_name}.log"
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        print(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {result.returncode}); full log: {log}")
    print(f"  ok (log: {log.relative_to(ROOT)})")


def _xcoms(dag_id: str) -> dict[str, Any]:
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id=dag_id).order_by(DagRun.id.desc()).first()
        if run is None:
            raise SystemExit(f"no run of {dag_id} was recorded")
        if str(getattr(run.state, "value", run.state)) != "success":
            raise SystemExit(f"{dag_id} finished in state {run.state}")
        rows = (
            session.query(XComModel)
            .filter_by(dag_id=dag_id, run_id=run.run_id, key="return_value")
            .order_by(XComModel.map_index)
            .all()
        )
        values: dict[str, Any] = {}
        for row in rows:  # a mapped task's values as a list, by map index
            if row.map_index < 0:
                values[row.task_id] = row.value
            else:
                values.setdefault(row.task_id, []).append(row.value)
        return values


def _catalogue_row(recording_id: str) -> dict[str, Any]:
    with sqlite3.connect(DEMO / "catalogue.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM vobiz_recordings WHERE recording_id = ?", (recording_id,)).fetchone()
    if row is None:
        raise SystemExit(f"the catalogue has no row for recording {recording_id}")
    return dict(row)


def main() -> int:
    _prepare_environment()
    server = None
    if os.environ.get("AIRFLOW_CONN_VOBIZ_DEFAULT"):
        print(f"AIRFLOW_CONN_VOBIZ_DEFAULT is set: running against it. This stops the recording of {ROOM!r}.")
    else:
        server = _start_fake_server()
        print(f"Fake Vobiz server at {server.base_url}; room {ROOM!r} is live and recording.")
    try:
        _airflow("db-migrate", "db", "migrate")
        conf = json.dumps(
            {"conference_name": ROOM, "storage_root": str(DEMO / "recordings"), "meeting_minutes": MEETING_MINUTES}
        )
        _airflow(PIPELINE, "dags", "test", PIPELINE, "--conf", conf)
        _airflow(CATALOGUE, "dags", "test", CATALOGUE)
    finally:
        if server is not None:
            server.stop()

    pipeline = _xcoms(PIPELINE)
    stop, downloads, length = (
        pipeline["stop_recording"],
        pipeline["download_recording"],
        pipeline["check_meeting_length"],
    )
    summary = {
        "room": stop["conference_name"],
        "stop status": stop["status"],
        "parts": f"{len(downloads)}, {length['duration_s']:.1f} s together (scheduled {MEETING_MINUTES} min)",
    }
    for number, download in enumerate(downloads, start=1):
        row = _catalogue_row(download["recording_id"])
        summary[f"part {number}"] = (
            f"{download['recording_id']}: {download['format']}, {download['bytes']:,} bytes, "
            f"{download['duration_s']:.1f} s, sha256 {download['sha256'][:16]}..."
        )
        summary[f"part {number} file"] = download["path"]
        summary[f"part {number} catalogue row"] = (
            f"{row['recording_id']} | {row['conference_name']} | {row['bytes']} bytes"
        )
    print("\nDemo summary")
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
