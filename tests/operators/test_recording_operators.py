"""The operators' construction and ``execute()`` called directly (against the fake server, real HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from tests.compat import DAG_FILE_IMPORTS
from vobiz_provider.operators.recording import (
    IfNotRecording,
    StartConferenceRecordingOperator,
    StopConferenceRecordingOperator,
)
from vobiz_provider.version_compat import AirflowFailException, AirflowSkipException

ROOM = "Q3 Review/EMEA #1"


def _context(try_number: int = 1) -> Any:
    return {"ti": SimpleNamespace(try_number=try_number)}


def test_if_not_recording_is_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"if_not_recording must be one of 'succeed', 'skip', 'fail', got 'ignore'"):
        StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, if_not_recording="ignore")


@pytest.mark.parametrize("given", ["skip", IfNotRecording.SKIP])
def test_if_not_recording_takes_the_enum_or_its_value(given: Any) -> None:
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, if_not_recording=given)
    assert op.if_not_recording is IfNotRecording.SKIP
    assert StopConferenceRecordingOperator(task_id="s", conference_name=ROOM).if_not_recording is IfNotRecording.SUCCEED


def test_templated_fields_and_connection() -> None:
    assert StopConferenceRecordingOperator.template_fields == ("conference_name",)
    assert StartConferenceRecordingOperator.template_fields == ("conference_name", "file_format", "callback_url")
    op = StartConferenceRecordingOperator(task_id="start", conference_name=ROOM, vobiz_conn_id="vobiz_eu")
    assert op.vobiz_conn_id == "vobiz_eu" and op.file_format == "mp3" and op.callback_url is None


def test_fail_names_the_room_and_what_vobiz_said(vobiz_fake: Any) -> None:
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, if_not_recording="fail")

    with pytest.raises(AirflowFailException) as caught:
        op.execute(_context())

    message = str(caught.value)
    assert message.startswith(f"Nothing to stop in conference {ROOM!r}")
    assert "Vobiz answered 404 (conference not found)" in message and "api_id" in message
    assert "earlier try" not in message


def test_a_retry_that_fails_says_an_earlier_try_may_have_stopped_it(vobiz_fake: Any) -> None:
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, if_not_recording="fail")

    with pytest.raises(AirflowFailException, match="this is try 3, so an earlier try may have stopped it"):
        op.execute(_context(try_number=3))


def test_skip_raises_the_skip_exception_naming_the_room(vobiz_fake: Any) -> None:
    vobiz_fake.configure(stop_idle_status=409)
    vobiz_fake.add_room(ROOM)
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, if_not_recording="skip")

    with pytest.raises(AirflowSkipException, match=r"Nothing to stop in conference 'Q3 Review/EMEA #1'.*409"):
        op.execute(_context())


def test_stop_uses_the_named_connection(vobiz_fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_EU", vobiz_fake.connection_json())
    monkeypatch.delenv("AIRFLOW_CONN_VOBIZ_DEFAULT")
    vobiz_fake.add_room(ROOM, recording=True)
    op = StopConferenceRecordingOperator(task_id="stop", conference_name=ROOM, vobiz_conn_id="vobiz_eu")

    result = op.execute(_context())

    assert result["status"] == "stopped" and result["conference_name"] == ROOM
    json.dumps(result)  # an XCom value: plain JSON


def test_start_sends_the_format_and_both_callback_field_names(vobiz_fake: Any) -> None:
    vobiz_fake.add_room(ROOM)
    op = StartConferenceRecordingOperator(
        task_id="start", conference_name=ROOM, file_format="wav", callback_url="http://10.0.0.5:8080/done"
    )

    result = op.execute(_context())

    assert result["conference_name"] == ROOM and result["recording_id"] is None
    (request,) = vobiz_fake.requests
    assert json.loads(request.body) == {
        "file_format": "wav",
        "callback_url": "http://10.0.0.5:8080/done",
        "recording_callback_url": "http://10.0.0.5:8080/done",
    }


def test_the_module_stays_light_at_dag_parse_time() -> None:
    # Measured against what a DAG file imports anyway.
    code = (
        f"{DAG_FILE_IMPORTS}\n"
        "before = set(sys.modules)\n"
        "import vobiz_provider.operators.recording\n"
        "heavy = ('vobiz_provider.hooks', 'airflow.providers', 'requests', 'aiohttp', 'mutagen', 'tenacity')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_dag_parse_modules_import_neither_the_hook_nor_aiohttp() -> None:
    # VobizHook is an HttpHook, whose module imports aiohttp: a stop or a download task loads it
    # when it runs (accepted). What must hold is the parse: DAG files import these modules.
    script = """
import sys
import vobiz_provider.operators.recording, vobiz_provider.operators.download, vobiz_provider.sensors.recording
heavy = ("aiohttp", "yarl", "vobiz_provider.hooks", "airflow.providers.http.hooks")
loaded = sorted(name for name in sys.modules if name.startswith(heavy))
sys.exit(f"loaded: {loaded}" if loaded else 0)
"""
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr  # Airflow 3.1 logs its alembic set-up on stderr
