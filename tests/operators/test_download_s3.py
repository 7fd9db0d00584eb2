"""DownloadRecordingOperator to ``s3://`` under ``dag.test()``: the fake Vobiz server as the source,
moto's standalone S3 server as the store, reached through ObjectStoragePath and an Airflow AWS
connection whose ``endpoint_url`` points at it. The bucket is versioned, so every object ever
written (a temporary one too) and every rewrite leaves a version the tests can count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import download_scenarios as scenarios
import pytest
from download_scenarios import run_download

from tests.operators.conftest import S3_BUCKET, S3_CONN_ID
from vobiz_provider.download.storage import Staging, resolve_destination
from vobiz_provider.exceptions import DestinationExistsError

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = "Daily Standup"


def _versions(client: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every object version and delete marker in the bucket."""
    answer = client.list_object_versions(Bucket=S3_BUCKET)
    return answer.get("Versions", []), answer.get("DeleteMarkers", [])


def _object(client: Any, key: str) -> bytes:
    return bytes(client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read())


def test_the_file_lands_whole_under_its_format_and_nothing_else_is_written(vobiz_fake: Any, s3_bucket: Any) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    expected = vobiz_fake.recording_bytes(recording_id)

    run = run_download(
        scenarios.download_dag,
        recording=recording_id,
        destination=f"s3://{S3_CONN_ID}@{S3_BUCKET}/standup/{recording_id}.{{format}}",
    )

    assert run.task_states == {"download": "success"}
    result = run.xcom("download")
    key = f"standup/{recording_id}.wav"
    assert result["path"] == f"s3://{S3_CONN_ID}@{S3_BUCKET}/{key}"
    stored = _object(s3_bucket, key)
    assert result["sha256"] == hashlib.sha256(stored).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert result["bytes"] == len(expected) and result["format"] == "wav"
    versions, markers = _versions(s3_bucket)
    # One PUT of one object: no staging object was written (and deleted) beside it.
    assert [v["Key"] for v in versions] == [key] and markers == []


def test_a_failed_verification_leaves_no_object_at_all(
    vobiz_fake: Any, s3_bucket: Any, task_log: Callable[[], str]
) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="mp3")

    run = run_download(
        scenarios.download_dag,
        recording=recording_id,
        destination=f"s3://{S3_CONN_ID}@{S3_BUCKET}/standup/{recording_id}.{{format}}",
        expected_duration=600,
    )

    assert run.task_states == {"download": "failed"}
    assert "expected_duration is 600 s" in task_log()
    assert s3_bucket.list_objects_v2(Bucket=S3_BUCKET).get("KeyCount") == 0
    # Not even a temporary object that was written and removed again.
    assert _versions(s3_bucket) == ([], [])


def test_an_identical_object_is_kept_on_a_rerun(vobiz_fake: Any, s3_bucket: Any, task_log: Callable[[], str]) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    destination = f"s3://{S3_CONN_ID}@{S3_BUCKET}/standup/{recording_id}.{{format}}"
    first = run_download(scenarios.download_dag, recording=recording_id, destination=destination)
    (written,), _ = _versions(s3_bucket)

    again = run_download(scenarios.download_dag, recording=recording_id, destination=destination)

    assert first.task_states == again.task_states == {"download": "success"}
    assert again.xcom("download") == first.xcom("download")
    (kept,), markers = _versions(s3_bucket)
    # Still the first upload: no new version, same ETag and time.
    assert (kept["VersionId"], kept["ETag"], kept["LastModified"]) == (
        written["VersionId"],
        written["ETag"],
        written["LastModified"],
    )
    assert markers == []
    assert "already holds these bytes" in task_log()


def test_a_different_object_is_refused_and_left_as_it_is(vobiz_fake: Any, s3_bucket: Any) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    key = f"standup/{recording_id}.wav"
    theirs = b"RIFF" + b"\0" * 100
    s3_bucket.put_object(Bucket=S3_BUCKET, Key=key, Body=theirs)

    run = run_download(
        scenarios.download_dag,
        recording=recording_id,
        destination=f"s3://{S3_CONN_ID}@{S3_BUCKET}/standup/{recording_id}.{{format}}",
    )

    assert run.task_states == {"download": "failed"}
    assert _object(s3_bucket, key) == theirs
    assert len(_versions(s3_bucket)[0]) == 1


def test_an_object_that_appears_during_the_upload_is_not_replaced(
    s3_bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = resolve_destination(f"s3://{S3_CONN_ID}@{S3_BUCKET}/race/a.wav")
    s3_bucket.put_object(Bucket=S3_BUCKET, Key="race/a.wav", Body=b"theirs")
    # The existence check misses it (another worker wrote it just after): S3's If-None-Match refuses.
    monkeypatch.setattr(destination.target.fs, "exists", lambda path: False)

    with pytest.raises(DestinationExistsError, match="set overwrite=True"), Staging(destination) as staging:
        staging.sink.write(b"ours")
        staging.place(overwrite=False)

    assert _object(s3_bucket, "race/a.wav") == b"theirs"
