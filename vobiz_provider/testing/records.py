"""What the fake server stores: rooms, the recording a room is making, and finished recordings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ActiveRecording:
    """The recording a live room is making."""

    recording_id: str
    file_format: str
    started_at: datetime
    callback_url: str | None = None


@dataclass
class Room:
    """A live conference room."""

    name: str
    member_uuids: list[str]
    conference_uuid: str
    created_mono: float
    duration_s: float | None = None
    active: ActiveRecording | None = None


@dataclass
class FakeRecording:
    """A finished recording as the fake stores it (rendered into Vobiz's JSON by ``render``)."""

    recording_id: str
    conference_name: str | None
    recording_type: str
    file_format: str
    call_uuid: str
    duration_s: float
    add_time: datetime
    end_time: datetime
    visible_at: float  # time.monotonic() from which the row is listed
    file_at: float  # time.monotonic() from which the file is served
    seq: int
    # add_time was not given: it is when the row appears, and moves if processing ends early.
    add_time_is_appearance: bool = True
    from_number: str = "919624705678"
    to_number: str = "+918065480000"
    # Fields rendered instead of the real ones (None leaves a field out): a row the provider cannot use.
    wire: dict[str, Any] = field(default_factory=dict)
    # The file answers this status for ever (e.g. 403: a deleted object behind a presigned URL).
    file_status: int | None = None
