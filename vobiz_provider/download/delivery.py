"""One recording into one destination: download through the hook, verify, then place atomically.

An existing destination with ``overwrite`` off: Vobiz publishes no checksum, so the only sound
way to know the file there is the same recording is to fetch the bytes and compare. A different
size is seen from the first response (``Content-Length``) and refused at once; an equal size is
downloaded to a temporary file and compared by sha256. The same bytes succeed without touching
the destination (re-runs are idempotent); different bytes are refused.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from vobiz_provider.download.audio import AudioFormat, check_duration, read_duration, sniff_file
from vobiz_provider.download.progress import ProgressLog
from vobiz_provider.download.storage import Destination, Staging, exists_error
from vobiz_provider.exceptions import VobizUnexpectedSizeError
from vobiz_provider.log import Log

# The formats a ``{format}`` placeholder can become.
FORMATS = frozenset(member.value for member in AudioFormat)

if TYPE_CHECKING:
    from vobiz_provider.hooks.vobiz import VobizHook
    from vobiz_provider.models import Recording


@dataclass(frozen=True)
class DeliveredRecording:
    """A verified recording file at its destination: the XCom ``return_value``.

    :param recording_id: Vobiz's id of the recording.
    :param path: the destination, a local absolute path or a URL.
    :param bytes: the file's size.
    :param sha256: hex digest of the file.
    :param format: ``"wav"`` or ``"mp3"``, from the bytes.
    :param duration_s: the audio's length in seconds, read by mutagen.
    """

    recording_id: str
    path: str
    bytes: int
    sha256: str
    format: str
    duration_s: float

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExpectedDuration:
    """How long the recording should last, if the caller knows.

    :param expected_duration: seconds the recording should last, or None not to check.
    :param duration_tolerance: seconds it may differ; None means 10% of the expected duration.
    """

    expected_duration: float | None = None
    duration_tolerance: float | None = None


def deliver(
    hook: VobizHook,
    recording: Recording,
    destination: Destination,
    *,
    overwrite: bool,
    expected: ExpectedDuration,
    chunk_size: int,
    log: Log,
) -> DeliveredRecording:
    """Download ``recording`` to ``destination``; on any failure nothing of ours is left there.

    A ``{format}`` in the destination's name is replaced by the format the bytes have. Before the
    download the name Vobiz's ``recording_format`` gives is the likely one (its existing file is
    refused early on a size mismatch); the name the bytes give is the one used.
    """
    likely = destination.named(recording.recording_format) if recording.recording_format in FORMATS else destination
    existing = None if overwrite or likely.names_format else likely.existing_size()
    what = f"recording {recording.recording_id}"
    progress = ProgressLog(log, f"downloading {what}")
    with Staging(destination) as staging:
        started = time.monotonic()
        try:
            # A file already there of another size is a different file: refused before a byte is read.
            transfer = hook.download_recording_file(
                recording.recording_url,
                staging.sink,
                chunk_size=chunk_size,
                on_progress=progress,
                expected_size=existing,
            )
        except VobizUnexpectedSizeError as err:
            detail = f"{existing:,} bytes there, the recording has {err.announced:,}"
            raise exists_error(likely.location, detail) from None
        log.info(
            "Downloaded %s in %.1f s: %s, resumed %d time(s)",
            what,
            time.monotonic() - started,
            progress.describe(transfer.bytes_written, transfer.bytes_written),
            transfer.resumed,
        )
        staging.finish_writing()
        audio_format = sniff_file(staging.staged)
        if audio_format.value != recording.recording_format or not _claims(transfer.content_type, audio_format.value):
            log.warning(
                "%s is %s by its bytes (Vobiz said format %s, Content-Type %s); reporting %s",
                what,
                audio_format.value,
                recording.recording_format,
                transfer.content_type,
                audio_format.value,
            )
        target = destination.named(audio_format.value)
        if target != likely and not overwrite:
            existing = target.existing_size()
        if existing is not None:
            if transfer.bytes_written != existing or target.existing_sha256() != transfer.sha256:
                raise exists_error(target.location, f"its sha256 differs from {what}'s")
            log.info("%s already holds these bytes (sha256 %s); left as it is", target.location, transfer.sha256)
        duration = read_duration(staging.staged, audio_format)
        check_duration(duration, expected.expected_duration, expected.duration_tolerance)
        if existing is None:
            staging.place(overwrite=overwrite, target=target)
    return DeliveredRecording(
        recording_id=recording.recording_id,
        path=target.location,
        bytes=transfer.bytes_written,
        sha256=transfer.sha256,
        format=audio_format.value,
        duration_s=round(duration, 3),
    )


def _claims(content_type: str | None, audio_format: str) -> bool:
    """Whether a Content-Type agrees with the format (a missing or generic one does not disagree)."""
    if not content_type or not content_type.startswith("audio/"):
        return True
    subtype = content_type.split("/", 1)[1].split(";", 1)[0].strip().lower()
    names = {"wav": ("wav", "x-wav", "wave", "vnd.wave"), "mp3": ("mpeg", "mp3", "mpeg3", "x-mpeg")}
    return subtype in names[audio_format]
