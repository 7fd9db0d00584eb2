"""Helpers for the operator tests: the task log as printed by ``dag.test()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.moto_s3 import MotoS3Server
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS


@pytest.fixture
def task_log(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """Everything printed so far in the test (``dag.test()`` prints task logs), stdout and stderr.

    Airflow 2's ``dag.test()`` logs through the stdlib to handlers made before the test: there the task log is
    the ``airflow.task`` loggers' records in ``caplog`` (``dag.test()``'s own logger repeats each failure).
    """
    seen: list[str] = []

    def read() -> str:
        out, err = capfd.readouterr()
        seen.append(out + err)
        if AIRFLOW_V_3_0_PLUS:
            return "".join(seen)
        task_records = [r for r in caplog.records if r.name.startswith("airflow.task")]
        return "".join(seen) + "\n".join(caplog.handler.format(r) for r in task_records)

    return read


S3_CONN_ID = "moto_s3"
S3_BUCKET = "meetings"


@pytest.fixture(scope="session")
def moto_s3_server() -> Iterator[MotoS3Server]:
    """One moto S3 server for the session, stopped by its pid at the end."""
    with MotoS3Server() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh, versioned bucket ``meetings`` on the moto server, reachable as ``s3://moto_s3@meetings/``.

    Versioning keeps a trace of every object ever written, temporary ones included, and of
    every rewrite; the returned boto3 client reads it.
    """
    from vobiz_provider.version_compat import ObjectStoragePath

    moto_s3_server.reset()
    monkeypatch.setenv(f"AIRFLOW_CONN_{S3_CONN_ID.upper()}", moto_s3_server.aws_connection_json())
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    client = moto_s3_server.client()
    client.create_bucket(Bucket=S3_BUCKET)
    client.put_bucket_versioning(Bucket=S3_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client
    # Airflow keeps one filesystem per connection; drop what it remembers of this bucket.
    ObjectStoragePath(f"s3://{S3_CONN_ID}@{S3_BUCKET}/").fs.invalidate_cache()
