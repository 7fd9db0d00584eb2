"""DownloadRecordingOperator's OpenLineage report: a ``dag.test()`` run with Airflow's OpenLineage
provider (file transport, set up in tests/conftest.py) emits a COMPLETE event whose input is the
Vobiz recording and whose output is the file, as OpenLineage names files and S3 objects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import download_scenarios as scenarios
import pytest
from download_scenarios import run_download

from tests.compat import DAG_FILE_IMPORTS
from tests.conftest import OPENLINEAGE_EVENTS, ROOT
from tests.operators.conftest import S3_BUCKET, S3_CONN_ID

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = "Daily Standup"


def _complete_event(run: Any) -> dict[str, Any]:
    """The COMPLETE event of the run's download task, from the transport's file."""
    events = [json.loads(line) for line in OPENLINEAGE_EVENTS.read_text().splitlines() if line.strip()]
    found = [
        event
        for event in events
        if event["eventType"] == "COMPLETE"
        and event["job"]["name"] == f"{run.dag_id}.download"
        and event["run"]["facets"].get("airflow", {}).get("dagRun", {}).get("run_id") == run.run_id
    ]
    assert found, f"no COMPLETE event for {run.dag_id}.download among {len(events)} events"
    return found[-1]


def _names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(dataset["namespace"], dataset["name"]) for dataset in datasets]


def test_a_local_download_reports_the_recording_in_and_the_file_out(vobiz_fake: Any, tmp_path: Any) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")

    run = run_download(scenarios.lineage_dag, recording=recording_id, destination=str(tmp_path / "standup.{format}"))

    assert run.task_states == {"download": "success"}
    event = _complete_event(run)
    api_host = urlsplit(vobiz_fake.base_url).netloc
    assert _names(event["inputs"]) == [(f"vobiz://{api_host}", f"{ROOM}/{recording_id}")]
    assert _names(event["outputs"]) == [("file", str(tmp_path / "standup.wav"))]


def test_an_s3_download_reports_the_object_by_bucket_and_key(vobiz_fake: Any, s3_bucket: Any) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=None, duration_s=3, file_format="mp3")
    vobiz_fake.configure(real_mp3=True)

    run = run_download(
        scenarios.lineage_dag,
        recording=recording_id,
        destination=f"s3://{S3_CONN_ID}@{S3_BUCKET}/calls/{recording_id}.{{format}}",
    )

    assert run.task_states == {"download": "success"}
    event = _complete_event(run)
    # A recording without a room is named by its id; the connection id is not part of the object's name.
    assert _names(event["inputs"]) == [(f"vobiz://{urlsplit(vobiz_fake.base_url).netloc}", recording_id)]
    assert _names(event["outputs"]) == [(f"s3://{S3_BUCKET}", f"calls/{recording_id}.mp3")]


def test_the_operator_module_does_not_import_openlineage() -> None:
    probe = (
        f"{DAG_FILE_IMPORTS}; before = set(sys.modules); "
        "import vobiz_provider.operators.download; "
        "print(sorted(m for m in set(sys.modules) - before if 'openlineage' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
