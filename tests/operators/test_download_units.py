"""Unit tests of the download's parts: format detection, duration, placement, arguments, progress."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from vobiz_provider.download.audio import (
    AudioCheckError,
    AudioFormat,
    check_duration,
    detect_format,
    read_duration,
    sniff_file,
)
from vobiz_provider.download.progress import ProgressLog
from vobiz_provider.download.storage import Staging, resolve_destination
from vobiz_provider.exceptions import DestinationExistsError, VobizConfigError
from vobiz_provider.models import Recording
from vobiz_provider.operators.download import DownloadRecordingOperator, recording_argument
from vobiz_provider.validation import seconds_argument


def _wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x01\x00" * int(seconds * rate))
    return buffer.getvalue()


# -- format ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_wav(0.01)[:12], AudioFormat.WAV),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", AudioFormat.MP3),
        (bytes((0xFF, 0xFB, 0x90, 0x64)), AudioFormat.MP3),  # MPEG-1 Layer III
        (bytes((0xFF, 0xF3, 0x48, 0xC4)), AudioFormat.MP3),  # MPEG-2 Layer III
        (bytes((0xFF, 0xE3, 0x18, 0xC4)), AudioFormat.MP3),  # MPEG-2.5 Layer III
    ],
    ids=["riff-wave", "id3", "mpeg1", "mpeg2", "mpeg2.5"],
)
def test_formats_are_told_by_their_first_bytes(header: bytes, expected: AudioFormat) -> None:
    assert detect_format(header) is expected


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (b"<html><body>503", "it starts with 3c 68 74 6d"),
        (b"RIFF\x00\x00\x00\x00AVI ", "neither WAV nor MP3"),  # RIFF, but not WAVE
        (bytes((0xFF, 0xF1, 0x50, 0x80)), "neither WAV nor MP3"),  # AAC ADTS: sync bits, layer 00
        (bytes((0xFF, 0xEB)), "neither WAV nor MP3"),  # reserved MPEG version
        (b"\xff", "neither WAV nor MP3"),
        (b"", "the downloaded file is empty"),
    ],
    ids=["html", "riff-avi", "aac-adts", "reserved-version", "one-byte", "empty"],
)
def test_other_bytes_are_a_clear_error(header: bytes, said: str) -> None:
    with pytest.raises(AudioCheckError, match=said):
        detect_format(header)


def test_duration_of_a_hand_made_wav(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp3"  # the name does not matter
    path.write_bytes(_wav(2.5))

    assert sniff_file(path) is AudioFormat.WAV
    assert read_duration(path, AudioFormat.WAV) == pytest.approx(2.5)


def test_an_unreadable_file_is_an_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp3"
    path.write_bytes(bytes((0xFF, 0xFB, 0x90, 0x64)) + b"\x00" * 20)

    with pytest.raises(AudioCheckError, match="could not read the duration of the mp3 file"):
        read_duration(path, AudioFormat.MP3)


@pytest.mark.parametrize(
    ("actual", "expected", "tolerance", "ok"),
    [
        (100.0, 100.0, None, True),
        (109.9, 100.0, None, True),  # default 10%
        (110.5, 100.0, None, False),
        (90.5, 100.0, None, True),
        (89.0, 100.0, None, False),
        (130.0, 100.0, 30.0, True),
        (100.5, 100.0, 0.0, False),
        (5.0, None, None, True),  # nothing expected: nothing checked
    ],
)
def test_duration_check(actual: float, expected: float | None, tolerance: float | None, ok: bool) -> None:
    if ok:
        check_duration(actual, expected, tolerance)
        return
    with pytest.raises(AudioCheckError) as raised:
        check_duration(actual, expected, tolerance)
    assert f"{actual:.2f} s" in str(raised.value) and f"{expected:g} s" in str(raised.value)


# -- destination and placement -------------------------------------------------------------------


def test_destinations_are_checked(tmp_path: Path) -> None:
    local = resolve_destination(str(tmp_path / "a.wav"))
    assert local.local == tmp_path / "a.wav" and local.location == str(tmp_path / "a.wav")
    from_url = resolve_destination(f"file://{tmp_path}/b.wav")
    assert from_url.local == tmp_path / "b.wav"
    for bad, said in [
        ("", "is empty"),
        ("x/a.wav", "is a relative path"),
        (f"{tmp_path}/rooms/../../etc/a.wav", "has a '..' segment"),
        ("memory://bucket/rooms/../a.wav", "has a '..' segment"),
        (str(tmp_path), "is a folder"),
        (f"{tmp_path}/", "not a folder"),
        (42, "is a int"),
        ("nosuchscheme://bucket/a.wav", "cannot be opened"),
        (f"{tmp_path}/a.{{fmt}}", r"unknown placeholder \{fmt\}; the only placeholders are \{format\}"),
        (f"{tmp_path}/{{recording}}.wav", r"unknown placeholder \{recording\}; .* and \{recording_id\}"),
        (f"{tmp_path}/{{recording_id!r}}.wav", "a {recording_id} with a conversion or spec"),
        (f"{tmp_path}/{{recording_id}}/a.wav", "has {recording_id} in a folder"),
        (f"{tmp_path}/a.{{format:>4}}", "a {format} with a conversion or spec"),
        (f"{tmp_path}/a.{{format", "unbalanced braces"),
        (f"{tmp_path}/{{format}}/a.wav", "may only appear in the file's name"),
        ("memory://bucket/{format}/a.wav", "may only appear in the file's name"),
    ]:
        with pytest.raises(VobizConfigError, match=said):
            resolve_destination(bad)


def _stage(destination: Any, data: bytes, *, overwrite: bool = False, fail: bool = False) -> None:
    with Staging(destination) as staging:
        staging.sink.write(data)
        if fail:
            raise RuntimeError("verification failed")
        staging.place(overwrite=overwrite)


def test_placement_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    destination = resolve_destination(str(tmp_path / "new" / "deep" / "a.wav"))

    with Staging(destination) as staging:
        staging.sink.write(b"audio")
        # The staging file is hidden beside the destination, which does not exist yet.
        assert staging.staged.parent == tmp_path / "new" / "deep" and staging.staged.name.startswith(".a.wav.")
        assert not (tmp_path / "new" / "deep" / "a.wav").exists()
        staging.place(overwrite=False)

    assert (tmp_path / "new" / "deep" / "a.wav").read_bytes() == b"audio"
    assert os.listdir(tmp_path / "new" / "deep") == ["a.wav"]


def test_a_restart_in_the_staging_file_keeps_only_the_new_bytes(tmp_path: Path) -> None:
    # A server that ignores Range makes the transfer truncate and start over in the same file.
    block = os.urandom(48 * 1024)
    destination = resolve_destination(str(tmp_path / "a.wav"))

    with Staging(destination) as staging:
        for _ in range(5):
            staging.sink.write(block)
        staging.sink.seek(0)
        staging.sink.truncate()
        for n in range(7):
            staging.sink.write(block[n:] + block[:n])
        staging.place(overwrite=False)

    assert (tmp_path / "a.wav").read_bytes() == b"".join(block[n:] + block[:n] for n in range(7))


def test_a_name_at_the_length_limit_still_gets_a_temporary(tmp_path: Path) -> None:
    name = "é" * 120 + ".wav"  # 244 bytes in UTF-8
    _stage(resolve_destination(str(tmp_path / name)), b"audio")

    assert os.listdir(tmp_path) == [name]


_HOLD_STAGING = """
import sys, time
from vobiz_provider.download.storage import Staging, resolve_destination
with Staging(resolve_destination(sys.argv[1])) as staging:
    staging.sink.write(b"half a file")
    staging.sink.flush()
    print(staging.staged, flush=True)
    time.sleep(60)
"""


def _process_holding_staging(destination: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_STAGING, str(destination)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_downloads_staging_file_is_removed_by_the_next_download(tmp_path: Path) -> None:
    killed, abandoned = _process_holding_staging(tmp_path / "a.wav")
    alive, in_progress = _process_holding_staging(tmp_path / "a.wav")
    try:
        killed.kill()  # SIGKILL: nothing of the process gets to clean up
        killed.wait(10)
        assert abandoned.exists()

        _stage(resolve_destination(str(tmp_path / "a.wav")), b"audio")

        # The dead writer's file is gone; a download still writing keeps its own.
        assert sorted(os.listdir(tmp_path)) == sorted(["a.wav", in_progress.name])
    finally:
        for proc in (killed, alive):
            proc.kill()
            proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()


def test_a_failure_removes_the_temporary_and_the_folders_it_made(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    destination = resolve_destination(str(tmp_path / "kept" / "new" / "a.wav"))

    with pytest.raises(RuntimeError, match="verification failed"):
        _stage(destination, b"audio", fail=True)

    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []


def test_an_existing_file_is_not_clobbered_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "a.wav"
    target.write_bytes(b"theirs")
    destination = resolve_destination(str(target))

    with pytest.raises(DestinationExistsError, match="set overwrite=True"):
        _stage(destination, b"ours")
    assert target.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["a.wav"]

    _stage(destination, b"ours", overwrite=True)
    assert target.read_bytes() == b"ours" and os.listdir(tmp_path) == ["a.wav"]


def test_the_placed_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    _stage(resolve_destination(str(tmp_path / "a.wav")), b"audio")

    assert (tmp_path / "a.wav").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.fixture
def memory_store() -> Any:
    from fsspec.implementations.memory import MemoryFileSystem

    from tests.compat import attach

    fs = attach("memory", fs=MemoryFileSystem()).fs
    yield fs
    if fs.exists("/unit-bucket"):
        fs.rm("/unit-bucket", recursive=True)


def test_an_object_store_destination(memory_store: Any) -> None:
    destination = resolve_destination("memory://unit-bucket/rec/a.wav")
    # universal_pathlib 0.2 (Airflow 3.0 and 3.1) writes the memory filesystem's root as memory:///.
    assert destination.local is None
    assert destination.location in ("memory://unit-bucket/rec/a.wav", "memory:///unit-bucket/rec/a.wav")

    _stage(destination, b"audio")
    assert memory_store.cat_file("/unit-bucket/rec/a.wav") == b"audio"
    assert destination.existing_size() == 5

    with pytest.raises(DestinationExistsError):
        _stage(destination, b"other")
    _stage(destination, b"replaced", overwrite=True)

    assert memory_store.cat_file("/unit-bucket/rec/a.wav") == b"replaced"
    assert memory_store.ls("/unit-bucket/rec", detail=False) == ["/unit-bucket/rec/a.wav"]


def test_an_object_store_failure_leaves_nothing_there(memory_store: Any) -> None:
    destination = resolve_destination("memory://unit-bucket/rec/b.wav")

    with pytest.raises(RuntimeError):
        _stage(destination, b"audio", fail=True)

    assert not memory_store.exists("/unit-bucket/rec/b.wav")
    assert destination.existing_size() is None


# -- arguments -------------------------------------------------------------------------------------

SENSOR_DICT: dict[str, Any] = {
    "recording_id": "rec-1",
    "recording_url": "https://media.vobiz.ai/rec-1.mp3",
    "conference_name": "Daily Standup",
    "recording_type": "conference",
    "recording_format": "mp3",
    "call_uuid": None,
    "add_time": "2026-05-07T04:15:35+00:00",
    "duration_ms": 10080.0,
    "start_ms": None,
    "end_ms": None,
    "rounded_recording_duration": 60,
}


@pytest.mark.parametrize(
    "value",
    [SENSOR_DICT, repr(SENSOR_DICT), __import__("json").dumps(SENSOR_DICT)],
    ids=["dict", "python-repr", "json"],
)
def test_the_sensors_dict_in_any_rendering_is_a_recording(value: Any) -> None:
    recording = recording_argument(value)

    assert isinstance(recording, Recording)
    assert (recording.recording_id, recording.recording_url) == ("rec-1", "https://media.vobiz.ai/rec-1.mp3")


@pytest.mark.parametrize("value", ["rec-1", " rec-1 ", {"recording_id": "rec-1"}])
def test_an_id_is_looked_up(value: Any) -> None:
    assert recording_argument(value) == "rec-1"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("", "recording must not be empty"),
        ("None", "rendered to 'None'"),
        (None, "recording is None"),
        (42, "recording must be the sensor's recording dict or a recording id"),
        ({"conference_name": "x"}, "recording dict has no recording_id"),
        ("{not a dict", "neither JSON nor a Python literal"),
        ({**SENSOR_DICT, "add_time": "yesterday"}, "recording is not a usable recording dict"),
    ],
)
def test_bad_recordings_are_refused(value: Any, said: str) -> None:
    with pytest.raises(VobizConfigError, match=said):
        recording_argument(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("None", None), (90, 90.0), ("90", 90.0), (" 1.5 ", 1.5), (0, 0.0)],
)
def test_seconds(value: Any, expected: float | None) -> None:
    assert seconds_argument(value, "duration_tolerance") == expected


@pytest.mark.parametrize("value", [True, "an hour", -1, float("nan"), float("inf"), [1]])
def test_bad_seconds(value: Any) -> None:
    with pytest.raises(VobizConfigError, match="duration_tolerance must be"):
        seconds_argument(value, "duration_tolerance")


def test_zero_is_no_expected_duration() -> None:
    with pytest.raises(VobizConfigError, match="expected_duration must be greater than 0"):
        seconds_argument(0, "expected_duration", positive=True)


def test_constructor_checks_the_untemplated_arguments() -> None:
    with pytest.raises(ValueError, match="chunk_size must be a positive number of bytes"):
        DownloadRecordingOperator(task_id="d", recording="r", destination="/x", chunk_size=0)
    with pytest.raises(ValueError, match="overwrite must be True or False"):
        DownloadRecordingOperator(task_id="d", recording="r", destination="/x", overwrite="yes")  # type: ignore[arg-type]
    operator = DownloadRecordingOperator(task_id="d", recording="r", destination="/x")
    assert operator.template_fields == ("recording", "destination", "expected_duration", "duration_tolerance")


# -- progress ----------------------------------------------------------------------------------------


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: Any, /, *args: Any) -> None:
        self.lines.append(msg % args)


def test_progress_is_logged_at_most_every_interval() -> None:
    now = [0.0]
    log = _Lines()
    progress = ProgressLog(log, "downloading rec-1", interval=5.0, clock=lambda: now[0])

    for second in range(1, 13):
        now[0] = float(second)
        progress(second * 1024 * 1024, 12 * 1024 * 1024)

    assert log.lines == [
        "downloading rec-1: 5,242,880 of 12,582,912 bytes (42%), 1.0 MiB/s",
        "downloading rec-1: 10,485,760 of 12,582,912 bytes (83%), 1.0 MiB/s",
    ]
    assert progress.describe(3, None, now=1.0) == "3 bytes, 0.0 MiB/s"
