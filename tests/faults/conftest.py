"""The fault matrix's fixtures: the fake server on three hosts, and the invariants every case checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dagrun import DagRunResult
from tests.faults.cases import API_HOST, MAX_RETRIES, MEDIA_HOST, STORAGE_HOST, TIMEOUT_S, TOKEN, Case
from tests.operators.conftest import task_log
from vobiz_provider.testing import FakeVobizServer

__all__ = ["task_log"]  # the task log as dag.test() prints it, shared with the operator tests

# A signature's value (the fake's are 64 hex digits); a redacted one ("X-Amz-Signature=REDACTED") is fine.
SIGNATURE = re.compile(r"X-Amz-Signature=([0-9a-f]{16,})", re.IGNORECASE)
CREDENTIAL_HEADERS = ("X-Auth-ID", "X-Auth-Token")


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FakeVobizServer]:
    """One fake server for the whole matrix, on the API, media and storage addresses."""
    try:
        server = FakeVobizServer(auth_token=TOKEN, listen_hosts=(API_HOST, MEDIA_HOST, STORAGE_HOST)).start()
    except OSError:
        pytest.skip("127.0.0.2/3 are not loopback addresses here")
    try:
        yield server
    finally:
        server.stop()


def connection_json(fake: FakeVobizServer, overrides: dict[str, Any]) -> str:
    """The suite's connection: short timeout, small retry budget, the media host allowed."""
    conn = json.loads(
        fake.connection_json({"timeout": TIMEOUT_S, "max_retries": MAX_RETRIES, "auth_hosts": [MEDIA_HOST]})
    )
    for key, value in overrides.items():
        conn[key] = value
    return json.dumps(conn)


@pytest.fixture
def fault_fake(fault_server: FakeVobizServer, monkeypatch: pytest.MonkeyPatch) -> FakeVobizServer:
    fault_server.reset()
    fault_server.configure(processing_delay_s=0.05, file_delay_s=0.05, media_host=MEDIA_HOST)
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", connection_json(fault_server, {}))
    return fault_server


def all_xcoms(run: DagRunResult) -> list[Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id).all()
        return [row.value for row in rows]


def served_signatures(fake: FakeVobizServer) -> set[str]:
    """Every presigned signature the fake handed out or was asked for (Location headers are not
    logged, so the storage requests' own queries stand for them)."""
    found = set()
    for entry in fake.requests:
        found.update(match.group(1) for match in SIGNATURE.finditer(entry.query))
    return found


def check_invariants(
    case: Case, fake: FakeVobizServer, run: DagRunResult, text: str, root: Path, destination: Path | None
) -> None:
    """What holds for every case, whatever its outcome."""
    # 1. The whole file at the destination or nothing anywhere under the test's folder: no partial
    # file, no staging file, nothing written beside or above the destination.
    left = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    if run.task_states.get("download") == "success" and destination is not None:
        assert left == [str(destination.relative_to(root))], left
    else:
        assert left == [], left
    # 2. No token and no presigned signature in the logs, the errors or any XCom.
    xcoms = json.dumps(all_xcoms(run), default=str)
    for where, content in (("log", text), ("xcom", xcoms)):
        assert TOKEN not in content, f"the token is in the {where}"
        for signature in served_signatures(fake):
            assert signature not in content, f"a presigned signature is in the {where}"
        assert not SIGNATURE.search(content), f"a presigned URL with its signature is in the {where}"
    # 3. Credentials only to the API host and the media host (auth_hosts).
    for entry in fake.requests:
        host = entry.host.rsplit(":", 1)[0]
        sent = [name for name in CREDENTIAL_HEADERS if name in entry.headers]
        if host not in (API_HOST, MEDIA_HOST):
            assert not sent, f"{sent} sent to {entry.host} ({entry.method} {entry.path})"
    # 4. The number of requests is bounded.
    count = len(fake.requests)
    assert count <= case.max_requests, f"{count} requests, bound {case.max_requests}"
