"""What a wait looks for, what to ask Vobiz next, and what each answer means: pure, no I/O.

A poll (:mod:`vobiz_provider.waiting.polls`) asks :meth:`RecordingWait.next_question`, sends the
matching hook call and hands the answer to the ``read_*`` method for it. Until the recording's
row is known, the question is about the row (by id, or a search of the room since a time);
after that, only about the files not ready yet (its own, or with ``collect="all"`` every part's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from vobiz_provider.constants import STOP_CLOCK_ALLOWANCE_S
from vobiz_provider.exceptions import (
    RecordingGoneError,
    UnusableRecordingError,
    VobizConfigError,
    VobizNotFoundError,
)
from vobiz_provider.instants import isoformat_utc, parse_instant
from vobiz_provider.meeting_window import window_words
from vobiz_provider.models import Recording, StopStatus
from vobiz_provider.validation import parse_mapping_text, require_choice, require_name

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


class Collect(str, Enum):
    """What a wait for a room returns: the one recording, or every part of the meeting."""

    NEWEST = "newest"
    ALL = "all"


def stop_time(after_stop: Any) -> datetime | None:
    """The ``stopped_at`` of a stop that stopped a recording, from the stop operator's XCom (a
    dict, or its JSON or Python repr); None when the stop stopped nothing or sent nothing (the
    room had ended on its own: the newest recording of the window is the meeting's end), or when
    ``after_stop`` is not given.

    :raises VobizConfigError: naming ``after_stop`` and what is wrong with it.
    """
    if after_stop is None or after_stop == "":
        return None
    if isinstance(after_stop, str) and after_stop.strip().startswith("{"):
        after_stop = parse_mapping_text(after_stop.strip(), "after_stop")
    if not isinstance(after_stop, Mapping):
        raise VobizConfigError(
            "after_stop must be the stop operator's XCom (a dict with status and stopped_at, or its JSON), "
            f"got {type(after_stop).__name__} {after_stop!r:.120}"
        )
    statuses = [status.value for status in StopStatus]
    status = require_choice(after_stop.get("status"), "after_stop['status']", statuses)
    if status != StopStatus.STOPPED.value:
        return None
    stopped_at = after_stop.get("stopped_at")
    if stopped_at is None or stopped_at == "":
        raise VobizConfigError("after_stop says 'stopped' but its stopped_at is empty: when did the stop stop?")
    try:
        return parse_instant(stopped_at, field="after_stop['stopped_at']")
    except ValueError as err:
        raise VobizConfigError(f"{err} (a stop that says 'stopped' carries when it stopped)") from None


@dataclass(frozen=True)
class RecordingTarget:
    """The recording a wait is for: one by id, or the newest of a room added within ``[since, until]``
    (the part a stop ended, with ``stopped_at``; every part, with ``collect="all"``).

    :param conference_name: the room, case-sensitive; with ``recording_id`` it must be that recording's room.
    :param recording_id: the recording's id; when given, ``since`` and ``until`` are not used to choose.
    :param since: aware UTC; recordings of the room added before it belong to earlier meetings.
    :param until: aware UTC or None (no upper bound); recordings added after it belong to later meetings.
    :param stopped_at: aware UTC or None: when the pipeline's stop stopped the room's recording; only a
        recording that ended then or later (less :data:`~vobiz_provider.constants.STOP_CLOCK_ALLOWANCE_S`)
        is the stop's part, and the wait needs it.
    :param collect: the newest (the stop's part, with ``stopped_at``), or every recording of the window.
    """

    conference_name: str | None
    recording_id: str | None
    since: datetime | None
    until: datetime | None = None
    stopped_at: datetime | None = None
    collect: Collect = Collect.NEWEST

    @classmethod
    def from_inputs(
        cls,
        *,
        conference_name: Any,
        recording_id: Any,
        since: Any,
        until: Any = None,
        stopped_at: Any = None,
        collect: Any = Collect.NEWEST.value,
    ) -> RecordingTarget:
        """Check rendered inputs before any request: :class:`VobizConfigError` names the parameter at fault."""
        how = Collect(require_choice(getattr(collect, "value", collect), "collect", [c.value for c in Collect]))
        room = _optional_name(conference_name, "conference_name")
        recording_id = _optional_name(recording_id, "recording_id")
        if recording_id is not None and how is Collect.ALL:
            raise VobizConfigError(
                f"collect='all' gathers every recording of a room's window; with recording_id {recording_id!r} "
                "there is one recording: leave collect at 'newest' or give conference_name without recording_id"
            )
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
        stop = None if recording_id is not None else _optional_instant(stopped_at, "stopped_at")
        return cls(room, recording_id, when, last, stop, how)

    @property
    def ended_after(self) -> datetime | None:
        """The earliest end the stop's part may have, by Vobiz's clock (None: no stop to wait for)."""
        if self.stopped_at is None:
            return None
        return self.stopped_at - timedelta(seconds=STOP_CLOCK_ALLOWANCE_S)

    def is_stops_part(self, recording: Recording) -> bool:
        """Whether ``recording`` ended at or after the stop (always, without a stop)."""
        ended_after = self.ended_after
        return ended_after is None or recording.ended_at >= ended_after

    def describe(self) -> str:
        """The target in words, for logs and messages."""
        if self.recording_id is not None:
            return f"recording {self.recording_id!r}"
        assert self.since is not None  # from_inputs guarantees it when there is no id
        what = "every recording" if self.collect is Collect.ALL else "a recording"
        text = f"{what} of {self.conference_name!r} {window_words(self.since, self.until)}"
        if self.stopped_at is not None:
            text += f", with the one the stop at {isoformat_utc(self.stopped_at)} ended"
        return text


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
        # collect="all": every recording of the window, oldest first, once the search found them;
        # and the ids whose files have answered.
        self.parts: list[Recording] = []
        self._ready_ids: set[str] = set()
        self._last_seen = f"no answer from Vobiz yet about {target.describe()}"
        self._last_search: RecordingSearch | None = None
        self._earlier_parts: list[Recording] = []

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
        """The search of the room: its match becomes the row, or it says what was seen instead.

        With a stop, the match is the earliest-ending recording that ended at or after it (the
        part it ended); an earlier part of the window is never the match. With ``collect="all"``
        every recording of the window becomes a part, once the match is among them.
        """
        target = self.target
        match = search.match
        if target.stopped_at is not None:
            stops = [rec for rec in search.in_window if target.is_stops_part(rec)]
            match = min(stops, key=lambda rec: (rec.ended_at, rec.add_time)) if stops else None
        if match is None:
            self._last_search = search  # described only when asked (a timeout): polls stay cheap
            self._earlier_parts = list(search.in_window)  # parts of the window, all ended before the stop
            return
        self.others = sorted(
            (rec for rec in search.in_window if rec is not match), key=lambda rec: rec.add_time, reverse=True
        )
        if target.collect is Collect.ALL:
            self.parts = sorted(search.in_window, key=lambda rec: (rec.add_time, rec.recording_id))
        self.row, self.seen, self._last_search = match, True, None

    def files_to_probe(self) -> list[Recording]:
        """The found recordings whose files have not answered yet (none before the row is found)."""
        if self.row is None:
            return []
        wanted = self.parts or [self.row]
        return [rec for rec in wanted if rec.recording_id not in self._ready_ids]

    def read_file(self, recording: Recording, ready: bool) -> None:
        """The probe of a found recording's file: ready, or still answering 404."""
        if ready:
            self._ready_ids.add(recording.recording_id)
        else:
            self._last_seen = f"{_name(recording)} was found, but its file still answered 404 at the last check"

    def ready(self) -> Recording | None:
        """The recording (the stop's part, or the newest) once every file the wait needs answers, else None."""
        if self.row is None or self.files_to_probe():
            return None
        return self.row

    def collected(self) -> list[Recording]:
        """``collect="all"``: every part, oldest first (empty until the row is found)."""
        return list(self.parts)

    def several_in_window(self) -> str | None:
        """When the window held more than one recording of the room: which was chosen and which not."""
        if self.row is None or not self.others:
            return None
        if self.target.collect is Collect.ALL:
            return None  # every part is returned: none is left out
        rest = ", ".join(_name(rec) for rec in self.others)
        chose = "the part the stop ended" if self.target.stopped_at is not None else "the newest"
        return (
            f"{len(self.others) + 1} recordings of {self.row.conference_name!r} in the meeting's window "
            f"(stopped and restarted?): chose {chose}, {_name(self.row)}; not chosen: {rest} "
            "(collect='all' returns every part)"
        )

    def describe(self) -> str:
        """What the last answer showed, e.g. "no recording of 'Team Sync' since ...; newest seen: ...\"."""
        if self._last_search is not None:
            self._last_seen, self._last_search = self._last_search.describe(), None
            earlier, ended_after = self._earlier_parts, self.target.ended_after
            if earlier and ended_after is not None:
                names = ", ".join(_name(rec) for rec in earlier)
                self._last_seen = (
                    f"the stop's part of {self.target.conference_name!r} has not been added yet: "
                    f"{len(earlier)} recording(s) of the window ended before the stop at "
                    f"{isoformat_utc(self.target.stopped_at or ended_after)} "
                    f"(less {STOP_CLOCK_ALLOWANCE_S:g} s for the clocks): {names}"
                )
        return self._last_seen


def _name(recording: Recording) -> str:
    room = f" of {recording.conference_name!r}" if recording.conference_name else ""
    return f"recording {recording.recording_id!r}{room} (added {isoformat_utc(recording.add_time)})"
