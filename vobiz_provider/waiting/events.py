"""The one event ``ConferenceRecordingTrigger`` sends back, built and read in one place.

``{"status": "success", "recording": {...}}`` (the recording as :meth:`Recording.to_dict` gives
it, a ``"message"`` when the meeting's window held several recordings, and with
``collect="all"`` ``"recordings"``: every part, oldest first),
``{"status": "timeout", "message": ...}`` or ``{"status": "error", "message": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vobiz_provider.exceptions import UnreadableEventError
from vobiz_provider.models import Recording


class WaitStatus(str, Enum):
    """How a deferred wait ended."""

    SUCCESS = "success"
    TIMEOUT = "timeout"
    ERROR = "error"


def success_event(
    recording: Recording, note: str | None = None, parts: list[Recording] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"status": WaitStatus.SUCCESS.value, "recording": recording.to_dict()}
    if note:
        event["message"] = note
    if parts:
        event["recordings"] = [part.to_dict() for part in parts]
    return event


def timeout_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.TIMEOUT.value, "message": message}


def error_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.ERROR.value, "message": message}


@dataclass(frozen=True)
class WaitOutcome:
    """A validated event: the status, the recording (success) and the message (timeout, error; for a
    success, what to know about the choice, or empty)."""

    status: WaitStatus
    recording: Recording | None = None
    message: str = ""
    recordings: tuple[Recording, ...] | None = None  # collect="all": every part, oldest first


def read_event(event: Any) -> WaitOutcome:
    """Validate a trigger event; :class:`UnreadableEventError` says what is wrong with it."""
    if not isinstance(event, Mapping):
        raise UnreadableEventError(f"the trigger event must be a dict, got {type(event).__name__}: {event!r:.200}")
    try:
        status = WaitStatus(event.get("status"))
    except ValueError:
        known = ", ".join(repr(s.value) for s in WaitStatus)
        raise UnreadableEventError(
            f"the trigger event's status must be one of {known}, got {event.get('status')!r}"
        ) from None
    if status is WaitStatus.SUCCESS:
        data = event.get("recording")
        if not isinstance(data, Mapping):
            raise UnreadableEventError(f"a success event must carry the recording as a dict, got {data!r:.200}")
        note = event.get("message") or ""
        if not isinstance(note, str):
            raise UnreadableEventError(f"a success event's message must be text, got {note!r:.200}")
        parts = event.get("recordings")
        if parts is not None and (not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts)):
            raise UnreadableEventError(f"a success event's recordings must be a list of dicts, got {parts!r:.200}")
        try:
            recordings = None if parts is None else tuple(Recording.from_dict(part) for part in parts)
            return WaitOutcome(status, recording=Recording.from_dict(data), message=note, recordings=recordings)
        except (KeyError, TypeError, ValueError) as err:
            raise UnreadableEventError(f"the success event's recording cannot be read: {err!r}") from None
    message = event.get("message")
    if not isinstance(message, str) or not message:
        raise UnreadableEventError(f"the {status.value} event must carry a message, got {message!r:.200}")
    return WaitOutcome(status, message=message)
