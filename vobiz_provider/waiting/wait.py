"""What a wait looks for, what to ask Vobiz next, and what each answer means: pure, no I/O.

A poll (:mod:`vobiz_provider.waiting.polls`) asks :meth:`RecordingWait.next_question`, sends the
matching hook call and hands the answer to the ``read_*`` method for it. Until the recording's
row is known, the question is about the row (by id, or a search of the room since a time);
after that, only about its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vobiz_provider.exceptions import (
    RecordingGoneError,
    UnusableRecordingError,
    VobizConfigError,
    VobizNotFoundError,
)
from vobiz_provider.instants import isoformat_utc, parse_instant
from vobiz_provider.meeting_window import window_words
from vobiz_provider.models import Recording
from vobiz_provider.validation import require_name

if TYPE_CHECKING:
    from vobiz_provider.hooks.listing import RecordingSearch


def _optional_instant(value: Any, param: str) -> datetime | None:
    """None and "" mean "not given"; anything else must be an instant."""
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, field=param)
    except ValueError as err:
        raise VobizConfigError(str(err)) from None


def _optional_name(value: Any, param: str) -> str | None:
    """None and "" mean "not given" (one of the two names may be left out); anything else must be a name."""
    if value is None or value == "":
        return None
    return require_name(value, param)


@dataclass(frozen=True)
class RecordingTarget:
    """The recording a wait is for: one by id, or the newest of a room added within ``[since, until]``.

    :param conference_name: the room, case-sensitive; with ``recording_id`` it must be that recording's room.
    :param recording_id: the recording's id; when given, ``since`` and ``until`` are not used to choose.
    :param since: aware UTC; recordings of the room added before it belong to earlier meetings.
    :param until: aware UTC or None (no upper bound); recordings added after it belong to later meetings.
    """

    conference_name: str | None
    recording_id: str | None
    since: datetime | None
    until: datetime | None = None

    @classmethod
    def from_inputs(cls, *, conference_name: Any, recording_id: Any, since: Any, until: Any = None) -> RecordingTarget:
        """Check rendered inputs before any request: :class:`VobizConfigError` names the parameter at fault."""
        room = _optional_name(conference_name, "conference_name")
        recording_id = _optional_name(recording_id, "recording_id")
        if room is None and recording_id is None:
            raise VobizConfigError(
                "conference_name and recording_id are both empty: give the room (with since) or the recording's id"
            )
        when, last = _optional_instant(since, "since"), _optional_instant(until, "until")
        if when is None and recording_id is None:
            raise VobizConfigError("since is empty: looking for a recording by conference_name needs it")
        if when is not None and last is not None and last < when:
            raise VobizConfigError(
                f"until ({isoformat_utc(last)}) is before since ({isoformat_utc(when)}): the window is empty"
            )
        return cls(room, recording_id, when, last)

    def describe(self) -> str:
        """The target in words, for logs and messages."""
        if self.recording_id is not None:
            return f"recording {self.recording_id!r}"
        assert self.since is not None  # from_inputs guarantees it when there is no id
        return f"a recording of {self.conference_name!r} {window_words(self.since, self.until)}"


@dataclass(frozen=True)
class RowById:
    """Ask for the recording's row by its id (``get_recording``)."""

    recording_id: str


@dataclass(frozen=True)
class RowInRoom:
    """Search the list for the room's newest conference recording in a window (``find_conference_recording``)."""

    conference_name: str
    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class FileOf:
    """Probe the file of a known row (``recording_file_ready``)."""

    recording: Recording


Question = RowById | RowInRoom | FileOf


class RecordingWait:
    """The state of one wait: the recording's row once found, and what the last answer showed.

    By id, a 404 for the row means "not yet" until the row has been seen; after that it means
    the recording is gone (:class:`~vobiz_provider.exceptions.RecordingGoneError`).

    :param target: what to look for.
    :param seen: the row was seen before (by an earlier check on the worker).
    """

    def __init__(self, target: RecordingTarget, *, seen: bool = False) -> None:
        self.target = target
        self.seen = seen
        self.row: Recording | None = None
        # The room's other recordings in the window when the row was found (stopped and restarted).
        self.others: list[Recording] = []
        self._last_seen = f"no answer from Vobiz yet about {target.describe()}"
        self._last_search: RecordingSearch | None = None

    def next_question(self) -> Question:
        """What to ask Vobiz next."""
        if self.row is not None:
            return FileOf(self.row)
        if self.target.recording_id is not None:
            return RowById(self.target.recording_id)
        assert self.target.conference_name is not None and self.target.since is not None
        return RowInRoom(self.target.conference_name, self.target.since, self.target.until)

    def read_row(self, recording: Recording) -> None:
        """The row asked for by id; it must be of the target's room, if one was given."""
        room = self.target.conference_name
        if room is not None and recording.conference_name != room:
            raise VobizConfigError(
                f"recording_id {self.target.recording_id!r} is a recording of conference "
                f"{recording.conference_name!r}, not of conference_name {room!r}"
            )
        self.row, self.seen = recording, True

    def read_missing_row(self, error: VobizNotFoundError) -> None:
        """A 404 for the row asked for by id: not yet, or gone when it had been seen."""
        recording_id = self.target.recording_id
        if self.seen:
            raise RecordingGoneError(
                f"recording {recording_id!r} was seen before and now answers 404: it was deleted ({error})",
                status_code=error.status_code,
                api_id=error.api_id,
            ) from None
        self._last_seen = f"Vobiz does not know recording {recording_id!r} yet (404)"

    def read_unusable_row(self, error: UnusableRecordingError) -> None:
        """The row asked for by id, but one of its fields is missing (not ready yet: Vobiz is still
        processing it) or unreadable (:raises UnusableRecordingError: naming the field; fatal)."""
        if not error.missing:
            raise error
        self._last_seen = (
            f"recording {self.target.recording_id!r} has no {error.field} yet (Vobiz is still processing it?)"
        )

    def read_search(self, search: RecordingSearch) -> None:
        """The search of the room: its match becomes the row, or it says what was seen instead."""
        if search.match is None:
            self._last_search = search  # described only when asked (a timeout): polls stay cheap
            return
        self.others = search.others_in_window()
        self.row, self.seen, self._last_search = search.match, True, None

    def read_file(self, ready: bool) -> Recording | None:
        """The probe of the row's file: the ready recording, or None while the file answers 404."""
        if self.row is not None and ready:
            return self.row
        if self.row is not None:
            self._last_seen = f"{_name(self.row)} was found, but its file still answered 404 at the last check"
        return None

    def several_in_window(self) -> str | None:
        """When the window held more than one recording of the room: which was chosen and which not."""
        if self.row is None or not self.others:
            return None
        rest = ", ".join(_name(rec) for rec in self.others)
        return (
            f"{len(self.others) + 1} recordings of {self.row.conference_name!r} in the meeting's window "
            f"(stopped and restarted?): chose the newest, {_name(self.row)}; not chosen: {rest}"
        )

    def describe(self) -> str:
        """What the last answer showed, e.g. "no recording of 'Team Sync' since ...; newest seen: ...\"."""
        if self._last_search is not None:
            self._last_seen, self._last_search = self._last_search.describe(), None
        return self._last_seen


def _name(recording: Recording) -> str:
    room = f" of {recording.conference_name!r}" if recording.conference_name else ""
    return f"recording {recording.recording_id!r}{room} (added {isoformat_utc(recording.add_time)})"
