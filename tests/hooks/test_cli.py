"""``airflow connections test vobiz_default`` against the fake server, in a real Airflow CLI process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from airflow import __version__
from packaging.version import Version

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
AIRFLOW_VERSION = Version(__version__)


def _connections_test(connection_json: str) -> subprocess.CompletedProcess[str]:
    # The session's AIRFLOW_HOME and database come from tests/conftest.py through os.environ.
    env = {**os.environ, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled", "AIRFLOW_CONN_VOBIZ_DEFAULT": connection_json}
    # A deadline for a hung CLI, not a speed check: Airflow's CLI start alone can take a minute on a
    # machine loaded by parallel suites.
    return subprocess.run(
        [AIRFLOW, "connections", "test", "vobiz_default"], env=env, capture_output=True, text=True, timeout=600
    )


def test_cli_connection_test_succeeds(airflow_db, vobiz_fake):
    result = _connections_test(vobiz_fake.connection_json())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout
    assert [(entry.method, entry.route) for entry in vobiz_fake.requests] == [("GET", "recording.list")]


def test_cli_connection_test_fails_cleanly_with_a_wrong_token(airflow_db, vobiz_fake):
    wrong = "wrong-token-must-not-show"
    result = _connections_test(vobiz_fake.connection_json().replace(vobiz_fake.auth_token, wrong))

    output = result.stdout + result.stderr
    assert "Connection failed!" in result.stdout
    assert "list recordings: Vobiz answered 401" in result.stdout
    assert "Check the Auth ID and Token" in result.stdout
    assert wrong not in output and vobiz_fake.auth_token not in output
    assert "Traceback" not in output
    assert len(vobiz_fake.requests) == 1


@pytest.mark.skipif(
    Version("3.3.2") > AIRFLOW_VERSION,
    reason="`airflow connections test` exits non-zero on a failed test only since Airflow 3.3.2",
)
def test_cli_connection_test_with_a_wrong_token_exits_non_zero(airflow_db, vobiz_fake):
    result = _connections_test(vobiz_fake.connection_json().replace(vobiz_fake.auth_token, "wrong-token"))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Connection failed!" in result.stdout
