"""The fault matrix (docs/reliability.md): real pipelines under ``dag.test()`` against the fake
server, one injected fault per case; each checks its outcome and the shared invariants."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fault_scenarios
import pytest

from tests.dagrun import run_dag
from tests.faults.cases import CASES, ROOM, Case
from tests.faults.conftest import check_invariants, connection_json
from vobiz_provider.testing import FakeVobizServer

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_fault(
    case: Case,
    fault_fake: FakeVobizServer,
    tmp_path: Path,
    task_log: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "recordings"
    destination: Path | None = folder / "meeting.mp3"
    params: dict[str, Any] = {**fault_scenarios.PARAMS, "destination": str(destination), **case.params}
    if isinstance(params["destination"], str) and "{tmp}" in params["destination"]:
        params["destination"] = params["destination"].format(tmp=folder)
        destination = None
    elif params["destination"] is None:
        destination = None
    room = params["conference_name"]
    if room.strip():
        fault_fake.add_room(room, members=2, recording=True)
    if case.connection:
        monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", connection_json(fault_fake, case.connection))
    cleanup = case.arrange(fault_fake)
    try:
        run = run_dag(fault_scenarios.PIPELINES[case.pipeline], run_conf=params)
    finally:
        if cleanup is not None:
            cleanup.close()
    text = task_log()

    try:
        assert run.task_states == case.states
        if case.message:
            assert case.message in text
        if case.states.get("download") == "success":
            (recording,) = [row for row in fault_fake.recordings if row["conference_name"] == room]
            assert destination is not None
            assert destination.read_bytes() == fault_fake.recording_bytes(recording["recording_id"])
            result = run.xcom("download")
            assert result["path"] == str(destination) and result["bytes"] == destination.stat().st_size
        check_invariants(case, fault_fake, run, text, tmp_path, destination)
    except AssertionError:
        _show(fault_fake, run, text)
        raise


def _show(fake: FakeVobizServer, run: Any, text: str) -> None:
    """What the fake saw and the errors logged, printed for a failing case (pytest shows it)."""
    print("task states:", json.dumps(run.task_states))
    for line in text.splitlines():
        if "Error" in line or "error" in line or "WARNING" in line:
            print("log:", line[:300])
    for entry in fake.requests:
        print("request:", entry.method, entry.host, entry.route, entry.status, entry.path, entry.query[:80])


def test_cases_are_unique_and_cover_the_room() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert fault_scenarios.PARAMS["conference_name"] == ROOM
