"""Paging through recordings and choosing a meeting's recording: pure logic both transports drive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from vobiz_provider.hooks.api import MAX_PAGE_SIZE
from vobiz_provider.hooks.parsing import RecordingPage
from vobiz_provider.instants import isoformat_utc
from vobiz_provider.meeting_window import window_words
from vobiz_provider.models import Recording


def list_params(filters: Mapping[str, Any], offset: int, limit: int) -> dict[str, str | int]:
    params: dict[str, str | int] = {k: v for k, v in filters.items() if v is not None}
    params.update(limit=min(max(limit, 1), MAX_PAGE_SIZE), offset=offset)
    return params


def conference_filters(conference_name: str, since: datetime) -> dict[str, str]:
    """Filters Vobiz documents for bulk delete and Plivo for list; results are checked client-side anyway."""
    return {
        "conference_name": conference_name,
        "add_time__gte": since.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


@dataclass
class RecordingSearch:
    """Looks for the newest conference recording of one room added within ``[since, until]``, page by page.

    It also remembers what else it saw, so a timeout can say why nothing matched, and every
    recording of the room in the window (several when the recording was stopped and restarted).

    :param conference_name: the room, case-sensitive as Vobiz treats it.
    :param since: the earliest ``add_time`` that belongs to this meeting.
    :param until: the latest ``add_time`` that belongs to this meeting; None: no upper bound.
    """

    conference_name: str
    since: datetime
    until: datetime | None = None
    match: Recording | None = None
    in_window: list[Recording] = field(default_factory=list)
    newest_other: Recording | None = None
    earlier_of_room: int = 0
    later_of_room: int = 0
    seen: int = 0
    _descending: bool = True
    _last_time: datetime | None = field(default=None, repr=False)

    def add_page(self, page: RecordingPage) -> bool:
        """Take one page in; return whether another page can still hold a match."""
        for rec in page.recordings:
            self.seen += 1
            if self._last_time is not None and rec.add_time > self._last_time:
                self._descending = False
            self._last_time = rec.add_time
            if rec.conference_name == self.conference_name and rec.is_conference:
                if rec.add_time < self.since:
                    self.earlier_of_room += 1
                elif self.until is not None and rec.add_time > self.until:
                    self.later_of_room += 1
                else:
                    self.in_window.append(rec)
                    if self.match is None or rec.add_time > self.match.add_time:
                        self.match = rec
            elif self.newest_other is None or rec.add_time > self.newest_other.add_time:
                self.newest_other = rec
        if page.next_offset is None:
            return False
        # Vobiz lists newest first (not documented, so checked): once a page ends before ``since``
        # in a list that is still descending, no later page can hold this meeting's recording.
        return not (self._descending and self._last_time is not None and self._last_time < self.since)

    def describe(self) -> str:
        """What was looked for and what was seen, for a timeout message."""
        text = f"no recording of {self.conference_name!r} {window_words(self.since, self.until)}"
        if self.newest_other is not None:
            other = self.newest_other
            label = other.conference_name or other.recording_type or "unnamed"
            text += f"; newest seen: {label!r} at {isoformat_utc(other.add_time)}"
        else:
            text += f"; {self.seen} recordings seen"
        if self.earlier_of_room:
            text += f"; {self.earlier_of_room} recordings of {self.conference_name!r} before since"
        if self.later_of_room:
            text += f"; {self.later_of_room} recordings of {self.conference_name!r} after until (later meetings)"
        return text

    def others_in_window(self) -> list[Recording]:
        """The room's other recordings in the window, newest first: the meeting's earlier parts."""
        rest = [rec for rec in self.in_window if rec is not self.match]
        return sorted(rest, key=lambda rec: rec.add_time, reverse=True)
