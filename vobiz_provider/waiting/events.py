"""The one event ``ConferenceRecordingTrigger`` sends back, built and read in one place.

``{"status": "success", "recording": {...}}`` (the recording as :meth:`Recording.to_dict` gives
it), ``{"status": "timeout", "message": ...}`` or ``{"status": "error", "message": ...}``.
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


def success_event(recording: Recording) -> dict[str, Any]:
    return {"status": WaitStatus.SUCCESS.value, "recording": recording.to_dict()}


def timeout_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.TIMEOUT.value, "message": message}


def error_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.ERROR.value, "message": message}


@dataclass(frozen=True)
class WaitOutcome:
    """A validated event: the status, and the recording (success) or the message (timeout, error)."""

    status: WaitStatus
    recording: Recording | None = None
    message: str = ""


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
        try:
            return WaitOutcome(status, recording=Recording.from_dict(data))
        except (KeyError, TypeError, ValueError) as err:
            raise UnreadableEventError(f"the success event's recording cannot be read: {err!r}") from None
    message = event.get("message")
    if not isinstance(message, str) or not message:
        raise UnreadableEventError(f"the {status.value} event must carry a message, got {message!r:.200}")
    return WaitOutcome(status, message=message)
