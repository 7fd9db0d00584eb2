"""The recording as the provider sees it, parsed leniently from every shape Vobiz has documented."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from vobiz_provider.exceptions import UnusableRecordingError
from vobiz_provider.validation import parse_instant


def _number(value: Any, field: str, recording_id: str) -> float | None:
    """Vobiz sends ``*_ms`` as strings ("10080.00000"), numbers or null; docs promise floats."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise UnusableRecordingError(
            f"recording {recording_id!r}: field {field} is not a number: {value!r:.80}",
            field=field,
            recording_id=recording_id,
        ) from None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    """Empty strings and null mean the same on the wire (``conference_name`` is either for calls)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Recording:
    """One Vobiz recording, normalised.

    :param recording_id: Vobiz's id of the recording.
    :param recording_url: where the file is served (needs the credentials; may redirect).
    :param conference_name: the room, or None for call and trunk recordings.
    :param recording_type: ``conference``, ``call``, ``trunk`` or whatever Vobiz adds.
    :param recording_format: the format Vobiz was asked for; the bytes may differ.
    :param call_uuid: the call or conference UUID, if given.
    :param add_time: when Vobiz created the row, aware UTC.
    :param duration_ms: the recorded duration in milliseconds, if given.
    :param start_ms: the recording start, epoch milliseconds, if given.
    :param end_ms: the recording end, epoch milliseconds, if given.
    :param rounded_recording_duration: billed seconds (60 s steps), if given.
    :param from_number: caller number, if given.
    :param to_number: called number, if given.
    """

    recording_id: str
    recording_url: str
    conference_name: str | None
    recording_type: str | None
    recording_format: str | None
    call_uuid: str | None
    add_time: datetime
    duration_ms: float | None
    start_ms: float | None
    end_ms: float | None
    rounded_recording_duration: int | None
    from_number: str | None = None
    to_number: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Recording:
        """Parse a recording from the current flat shape or the legacy list item shape.

        Unknown keys are ignored: Vobiz adds fields without notice.
        """
        if not isinstance(data, Mapping):
            raise UnusableRecordingError(
                f"a recording must be a JSON object, got {type(data).__name__}", field="recording"
            )
        recording_id = _text(data.get("recording_id"))
        url = _text(data.get("recording_url") or data.get("url") or data.get("download_path"))
        added = data.get("add_time") or data.get("created_at")
        missing = [
            name
            for name, value in (("recording_id", recording_id), ("recording_url", url), ("add_time", added))
            if not value
        ]
        if missing:
            raise UnusableRecordingError(
                f"recording {recording_id or '(no id)'!s} lacks {', '.join(missing)}: keys {sorted(data)}",
                field=missing[0],
                recording_id=recording_id,
                missing=True,
            )
        assert recording_id is not None and url is not None and added is not None  # checked just above
        try:
            add_time = parse_instant(added, field="add_time")
        except ValueError as err:
            raise UnusableRecordingError(
                f"recording {recording_id!r}: {err}", field="add_time", recording_id=recording_id
            ) from None
        duration_ms = _number(data.get("recording_duration_ms"), "recording_duration_ms", recording_id)
        if duration_ms is None and data.get("duration") not in (None, ""):
            # Legacy and OpenAPI-example items carry ``duration`` in seconds.
            seconds = _number(data.get("duration"), "duration", recording_id)
            duration_ms = None if seconds is None else seconds * 1000.0
        rounded = _number(data.get("rounded_recording_duration"), "rounded_recording_duration", recording_id)
        fmt = _text(data.get("recording_format") or data.get("format") or data.get("file_format"))
        return cls(
            recording_id=recording_id,
            recording_url=url,
            conference_name=_text(data.get("conference_name")),
            recording_type=(_text(data.get("recording_type")) or "").lower() or None,
            recording_format=fmt.lower() if fmt else None,
            call_uuid=_text(data.get("call_uuid") or data.get("call_id")),
            add_time=add_time,
            duration_ms=duration_ms,
            start_ms=_number(data.get("recording_start_ms"), "recording_start_ms", recording_id),
            end_ms=_number(data.get("recording_end_ms"), "recording_end_ms", recording_id),
            rounded_recording_duration=None if rounded is None else int(rounded),
            from_number=_text(data.get("from_number")),
            to_number=_text(data.get("to_number")),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recording:
        """Rebuild a recording from :meth:`to_dict` output (an XCom value or a trigger event)."""
        fields = dict(data)
        fields["add_time"] = parse_instant(fields["add_time"], field="add_time")
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in fields.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able XCom shape: ``add_time`` as ISO-8601 with its UTC offset."""
        data = asdict(self)
        data["add_time"] = self.add_time.isoformat()
        return data

    @property
    def ended_at(self) -> datetime:
        """When the recording ended: ``end_ms`` (Vobiz's clock), else ``add_time`` (just after it ended)."""
        if self.end_ms is not None:
            return datetime.fromtimestamp(self.end_ms / 1000.0, tz=timezone.utc)
        return self.add_time

    @property
    def is_conference(self) -> bool:
        """Whether this row records a conference room (type says so, or it names a room)."""
        if self.recording_type:
            return self.recording_type == "conference"
        return self.conference_name is not None


class StopStatus(str, Enum):
    """What a stop found: a recording it stopped, or none to stop; or that it sent nothing."""

    STOPPED = "stopped"
    NOT_RECORDING = "not_recording"
    NOT_SENT = "not_sent"
    """The run's meeting ended long ago (a backfill, a late re-run): no request was sent."""


@dataclass(frozen=True)
class RecordingStopped:
    """The outcome of a stop.

    :param conference_name: the room.
    :param status: stopped, or not_recording (room unknown or ended, or nothing recording).
    :param http_status: the status Vobiz answered with.
    :param api_id: Vobiz's request id, if it sent one.
    :param detail: Vobiz's own words when it refused, for the log.
    """

    conference_name: str
    status: StopStatus
    http_status: int
    api_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class RecordingStarted:
    """The outcome of a start; the current API returns no id or URL, older ones did.

    :param conference_name: the room.
    :param api_id: Vobiz's request id.
    :param recording_id: the new recording's id, where Vobiz returned one.
    :param url: the future file's URL, where Vobiz returned one.
    :param already_recording: Vobiz said the room was recording already.
    :param message: Vobiz's message.
    """

    conference_name: str
    api_id: str | None
    recording_id: str | None = None
    url: str | None = None
    already_recording: bool = False
    message: str | None = None


@dataclass(frozen=True)
class FileTransfer:
    """What a download wrote.

    :param bytes_written: the size of the file.
    :param sha256: hex digest of the bytes.
    :param content_type: the media type the server claimed (the bytes decide the format).
    :param resumed: how many times the transfer continued after a dropped connection.
    """

    bytes_written: int
    sha256: str
    content_type: str | None
    resumed: int = 0
