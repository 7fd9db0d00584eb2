"""DownloadRecordingOperator under ``dag.test()`` against the fake Vobiz server, over real HTTP."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import download_scenarios as scenarios
import pytest
from download_scenarios import run_download

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOM = "Daily Standup"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_requests(vobiz_fake: Any) -> list[Any]:
    return [r for r in vobiz_fake.requests if r.route in ("media", "storage") and r.method == "GET"]


def _asset_events(run: Any) -> list[dict[str, Any]]:
    from airflow.utils.session import create_session

    from tests.compat import asset_event_model

    AssetEvent = asset_event_model()
    with create_session() as session:
        rows = session.query(AssetEvent).filter_by(source_dag_id=run.dag_id, source_run_id=run.run_id).all()
        return [dict(row.extra) for row in rows]


def test_a_good_download_reports_the_file_and_announces_it(vobiz_fake: Any, tmp_path: Path) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    expected = vobiz_fake.recording_bytes(recording_id)
    destination = tmp_path / "standup" / "2026-05-07" / f"{recording_id}.wav"

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert run.task_states == {"download": "success"}
    result = run.xcom("download")
    assert result == {
        "recording_id": recording_id,
        "path": str(destination),
        "bytes": len(expected),
        "sha256": _sha(expected),
        "format": "wav",
        "duration_s": 3.0,
    }
    assert destination.read_bytes() == expected
    # Only the file itself is left: no temporary beside it.
    assert os.listdir(destination.parent) == [destination.name]
    (extra,) = _asset_events(run)
    assert {key: extra[key] for key in ("recording_id", "path", "bytes", "sha256", "duration_s")} == {
        key: result[key] for key in ("recording_id", "path", "bytes", "sha256", "duration_s")
    }
    assert extra["conference_name"] == ROOM


def test_a_real_mp3_from_the_sensors_dict_with_a_duration_check(vobiz_fake: Any, tmp_path: Path) -> None:
    vobiz_fake.configure(real_mp3=True)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=30, file_format="mp3")
    destination = tmp_path / "meeting.mp3"

    run = run_download(
        scenarios.from_xcom_dag,
        recording=recording_id,
        destination=str(destination),
        expected_duration=31,
        duration_tolerance=2,
    )

    assert run.task_states == {"look_up": "success", "download": "success"}
    result = run.xcom("download")
    assert result["format"] == "mp3"
    assert result["duration_s"] == pytest.approx(30, abs=0.05)
    assert result["sha256"] == _sha(vobiz_fake.recording_bytes(recording_id)) == _sha(destination.read_bytes())


def test_a_dropped_connection_is_resumed_with_range(vobiz_fake: Any, tmp_path: Path) -> None:
    # 4 MB: the hook resumes from the last whole chunk (1 MiB) it wrote before the drop.
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=250, file_format="wav")
    expected = vobiz_fake.recording_bytes(recording_id)
    vobiz_fake.drop_file_after(2_500_000)
    destination = tmp_path / "resumed.wav"

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert run.task_states == {"download": "success"}
    assert run.xcom("download")["sha256"] == _sha(expected) == _sha(destination.read_bytes())
    first, second = _file_requests(vobiz_fake)
    assert "Range" not in first.headers and first.status == 200
    assert (second.headers["Range"], second.status) == (f"bytes={2 * 1024 * 1024}-", 206)
    # Uncompressed, so Content-Length and Range count the file's own bytes.
    assert first.headers["Accept-Encoding"] == second.headers["Accept-Encoding"] == "identity"


def test_wav_bytes_under_an_mp3_name_are_reported_as_wav(vobiz_fake: Any, tmp_path: Path) -> None:
    vobiz_fake.configure(wav_as_mp3=True)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="mp3")
    destination = tmp_path / "labelled.mp3"

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert run.task_states == {"download": "success"}
    assert run.xcom("download")["format"] == "wav"
    (request,) = _file_requests(vobiz_fake)
    assert request.path.endswith(".mp3")


@pytest.mark.parametrize(
    ("settings", "vobiz_says", "named"),
    [({}, "wav", "wav"), ({"real_mp3": True}, "mp3", "mp3"), ({"wav_as_mp3": True}, "mp3", "wav")],
    ids=["wav", "mp3", "wav served as mp3"],
)
def test_a_format_placeholder_names_the_file_by_its_bytes(
    vobiz_fake: Any, tmp_path: Path, settings: dict[str, Any], vobiz_says: str, named: str
) -> None:
    vobiz_fake.configure(**settings)
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=5, file_format=vobiz_says)

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(tmp_path / "standup.{format}"))

    assert run.task_states == {"download": "success"}
    result = run.xcom("download")
    # XCom path is exactly where the file is, under the name its bytes give it.
    assert result["path"] == str(tmp_path / f"standup.{named}") and result["format"] == named
    assert os.listdir(tmp_path) == [f"standup.{named}"]
    assert (tmp_path / f"standup.{named}").read_bytes() == vobiz_fake.recording_bytes(recording_id)


def test_a_rerun_with_a_format_placeholder_keeps_the_file(
    vobiz_fake: Any, tmp_path: Path, task_log: Callable[[], str]
) -> None:
    vobiz_fake.configure(wav_as_mp3=True)  # the name Vobiz suggests (mp3) is not the one the bytes give
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="mp3")
    destination = str(tmp_path / "standup.{format}")
    first = run_download(scenarios.download_dag, recording=recording_id, destination=destination)
    placed = tmp_path / "standup.wav"
    os.utime(placed, (1_000_000_000, 1_000_000_000))
    before = placed.stat()

    again = run_download(scenarios.download_dag, recording=recording_id, destination=destination)

    assert first.task_states == again.task_states == {"download": "success"}
    assert again.xcom("download") == first.xcom("download")
    after = placed.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert f"{placed} already holds these bytes" in task_log()
    assert os.listdir(tmp_path) == ["standup.wav"]


@pytest.mark.parametrize("nested", [False, True], ids=["existing folder", "new folders"])
def test_a_duration_mismatch_fails_and_leaves_nothing(
    vobiz_fake: Any, tmp_path: Path, task_log: Callable[[], str], nested: bool
) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    destination = tmp_path / "a" / "b" / "short.wav" if nested else tmp_path / "short.wav"

    run = run_download(
        scenarios.download_dag, recording=recording_id, destination=str(destination), expected_duration=60
    )

    assert run.task_states == {"download": "failed"}
    log = task_log()
    assert "the recording lasts 3.00 s but expected_duration is 60 s" in log
    assert "duration_tolerance 6 s" in log
    # Nothing of the download's own in the folder: no file, no temporary, no folder it made.
    assert os.listdir(tmp_path) == []
    assert run.xcom("download") is None and _asset_events(run) == []


def test_an_identical_existing_file_is_left_untouched(vobiz_fake: Any, tmp_path: Path) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    expected = vobiz_fake.recording_bytes(recording_id)
    destination = tmp_path / "again.wav"
    destination.write_bytes(expected)
    os.utime(destination, (1_000_000_000, 1_000_000_000))
    before = destination.stat()

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert run.task_states == {"download": "success"}
    after = destination.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    result = run.xcom("download")
    assert result["sha256"] == _sha(expected) and result["bytes"] == len(expected)
    assert result["path"] == str(destination) and result["duration_s"] == 3.0
    assert os.listdir(tmp_path) == ["again.wav"]


@pytest.mark.parametrize("kind", ["other size", "same size"])
def test_a_different_existing_file_is_refused_then_overwritten(
    vobiz_fake: Any, tmp_path: Path, task_log: Callable[[], str], kind: str
) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    expected = vobiz_fake.recording_bytes(recording_id)
    theirs = b"someone else's file" if kind == "other size" else bytes(len(expected))
    destination = tmp_path / "taken.wav"
    destination.write_bytes(theirs)

    refused = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert refused.task_states == {"download": "failed"}
    assert destination.read_bytes() == theirs
    assert os.listdir(tmp_path) == ["taken.wav"]
    log = task_log()
    assert f"destination {destination} already holds a different file" in log
    assert "set overwrite=True to replace it" in log

    replaced = run_download(scenarios.overwrite_dag, recording=recording_id, destination=str(destination))

    assert replaced.task_states == {"download": "success"}
    assert destination.read_bytes() == expected
    assert replaced.xcom("download")["sha256"] == _sha(expected)
    assert os.listdir(tmp_path) == ["taken.wav"]


def test_a_memory_destination(vobiz_fake: Any) -> None:
    from fsspec.implementations.memory import MemoryFileSystem

    from tests.compat import attach
    from vobiz_provider.version_compat import ObjectStoragePath

    attach("memory", fs=MemoryFileSystem())
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="wav")
    url = f"memory://vobiz-test/recordings/{recording_id}.wav"

    run = run_download(scenarios.download_dag, recording=recording_id, destination=url)

    assert run.task_states == {"download": "success"}
    result = run.xcom("download")
    # universal_pathlib 0.2 (Airflow 3.0 and 3.1) writes the memory filesystem's root as memory:///.
    assert result["path"] in (url, url.replace("memory://", "memory:///"))
    target = ObjectStoragePath(url)
    try:
        assert target.read_bytes() == vobiz_fake.recording_bytes(recording_id)
        assert [path.name for path in target.parent.iterdir()] == [f"{recording_id}.wav"]
    finally:
        target.fs.rm("/vobiz-test", recursive=True)


def test_credentials_go_to_the_media_host_and_not_to_the_storage_host(
    vobiz_fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "127.0.0.3" not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.2/3 are not loopback addresses here")
    vobiz_fake.configure(media_host="127.0.0.2", storage_host="127.0.0.3")
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", vobiz_fake.connection_json({"auth_hosts": ["127.0.0.2"]}))
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="mp3")
    destination = tmp_path / "redirected.mp3"

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(destination))

    assert run.task_states == {"download": "success"}
    assert destination.read_bytes() == vobiz_fake.recording_bytes(recording_id)
    media, storage = _file_requests(vobiz_fake)
    assert (media.host.split(":")[0], media.route, media.status) == ("127.0.0.2", "media", 302)
    assert media.headers["X-Auth-Token"] == vobiz_fake.auth_token
    assert (storage.host.split(":")[0], storage.route, storage.status) == ("127.0.0.3", "storage", 200)
    assert "X-Auth-ID" not in storage.headers and "X-Auth-Token" not in storage.headers


def test_an_error_page_instead_of_audio_fails_and_leaves_nothing(
    vobiz_fake: Any, tmp_path: Path, task_log: Callable[[], str]
) -> None:
    recording_id = vobiz_fake.add_recording(conference_name=ROOM, duration_s=3, file_format="mp3")
    vobiz_fake.inject("media", 200, body="<html><body>Service temporarily unavailable</body></html>")

    run = run_download(scenarios.download_dag, recording=recording_id, destination=str(tmp_path / "page.mp3"))

    assert run.task_states == {"download": "failed"}
    assert "the downloaded file is neither WAV nor MP3" in task_log()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"destination": "recordings/x.wav"}, "is a relative path"),
        ({"destination": "/tmp/recordings/"}, "names the file itself, not a folder"),
        ({"destination": "nosuchscheme://bucket/x.wav"}, "cannot be opened"),
        (
            {"destination": "/tmp/recordings/x.{fmt}"},
            "has an unknown placeholder {fmt}; the only placeholders are {format}",
        ),
        ({"destination": "/tmp/recordings/{room}-{recording_id}.wav"}, "has an unknown placeholder {room}"),
        ({"destination": "/tmp/{format}/x.wav"}, "it may only appear in the file's name"),
        ({"expected_duration": "an hour"}, "expected_duration must be a number of seconds"),
        ({"expected_duration": 0}, "expected_duration must be greater than 0 seconds"),
        ({"duration_tolerance": 5}, "duration_tolerance is set but expected_duration is not"),
        ({"recording": "   "}, "recording must not be empty"),
    ],
)
def test_bad_input_fails_before_any_request(
    vobiz_fake: Any, tmp_path: Path, task_log: Callable[[], str], params: dict[str, Any], message: str
) -> None:
    arguments = {"recording": "a-recording-id", "destination": str(tmp_path / "x.wav"), **params}

    run = run_download(scenarios.download_dag, **arguments)

    assert run.task_states == {"download": "failed"}
    assert message in task_log()
    assert vobiz_fake.requests == []
    assert os.listdir(tmp_path) == []
