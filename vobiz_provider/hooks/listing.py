"""The recording list, page by page (written once for both hooks), and the search for a meeting's recording.

A hook drives either with the same two calls: ``next_request()`` until it is None, and
``read(reply)`` for each answer. No I/O here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vobiz_provider.constants import MAX_LIST_PAGES
from vobiz_provider.exceptions import UnusableRecordingError, VobizResponseError
from vobiz_provider.hooks import api
from vobiz_provider.hooks.api import ApiReply, ApiRequest, RecordingPage, parse_recording_page
from vobiz_provider.instants import isoformat_utc, parse_instant
from vobiz_provider.log import Log
from vobiz_provider.meeting_window import window_words
from vobiz_provider.models import Recording


def list_params(filters: Mapping[str, Any], offset: int, limit: int) -> dict[str, str | int]:
    params: dict[str, str | int] = {k: v for k, v in filters.items() if v is not None}
    params.update(limit=min(max(limit, 1), api.MAX_PAGE_SIZE), offset=offset)
    return params


# Sent where only conference recordings can match (a room's search, the shared read of every room).
CONFERENCE_ONLY = {"recording_type": "conference"}

# Vobiz documents ``add_time__*`` as "YYYY-MM-DD HH:MM:SS", without a zone, and lists ``add_time`` in
# the account's offset (``+05:30``), so a server may read the value in any zone. UTC offsets run from
# -12:00 to +14:00: a bound sent in UTC and moved 14 hours outward drops nothing in any of them.
# Rows are checked against the real bounds here, and the list's early stop uses the real ``since``.
# docs/vobiz-api-quirks.md, "List time filters".
FILTER_ZONE_MARGIN = timedelta(hours=14)


def conference_filters(conference_name: str, since: datetime, until: datetime | None = None) -> dict[str, str]:
    """Filters for one room's conference recordings in ``[since, until]``. Vobiz may ignore them, so
    results are checked here anyway (docs/vobiz-api-quirks.md, row "List filters")."""
    return {"conference_name": conference_name, **CONFERENCE_ONLY, **add_time_filters(since, until)}


def add_time_filters(since: datetime, until: datetime | None = None) -> dict[str, str]:
    """The ``add_time`` filters for ``[since, until]`` (no upper one when ``until`` is None), each
    widened by :data:`FILTER_ZONE_MARGIN` (Vobiz may ignore them, or read them in another zone)."""
    filters = {"add_time__gte": _filter_time(since, -FILTER_ZONE_MARGIN)}
    if until is not None:
        filters["add_time__lte"] = _filter_time(until, FILTER_ZONE_MARGIN)
    return filters


def _filter_time(instant: datetime, margin: timedelta) -> str:
    utc = instant.astimezone(timezone.utc)
    with suppress(OverflowError):  # a bound at the calendar's edge stays: nothing lies beyond it
        utc += margin
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")  # YYYY-MM-DD HH:MM:SS


# Skipped rows remembered, so each is warned about once and not at every poll; the oldest are forgotten.
WARNED_ROWS_LIMIT = 1000


class SkippedRows:
    """The list's rows this provider cannot use, each to be warned about once (bounded memory).

    :param limit: how many rows to remember; past it the oldest may be warned about again.
    """

    def __init__(self, limit: int = WARNED_ROWS_LIMIT) -> None:
        self.limit = limit
        self._warned: OrderedDict[str, None] = OrderedDict()

    def warn(self, log: Log, rows: Iterable[UnusableRecordingError]) -> None:
        """Log one warning for each of ``rows`` not warned about yet (each names the row and the field)."""
        for row in self.not_warned(rows):
            log.warning("Skipping a row of the recordings list: %s", row)

    def not_warned(self, rows: Iterable[UnusableRecordingError]) -> list[UnusableRecordingError]:
        """The rows of ``rows`` not warned about yet; from now on they count as warned."""
        new = []
        for row in rows:
            key = row.recording_id or str(row)  # a row without an id: by what is wrong with it
            if key in self._warned:
                self._warned.move_to_end(key)
                continue
            self._warned[key] = None
            if len(self._warned) > self.limit:
                self._warned.popitem(last=False)
            new.append(row)
        return new


def skipped_words(count: int) -> str:
    """A poll's count of skipped rows, for its log line ("" when none)."""
    return f"; {count} rows of the list skipped (unusable, see the warnings)" if count else ""


# Said when a wait times out after the list sent its first page again for a later offset.
REPEATED_PAGE = (
    "the list answered a later page with rows it had sent already (it ignores offset), "
    "so older recordings could not be read"
)


class ListOrder:
    """Whether the list is still newest first, and so whether a later page can hold rows at or after a time."""

    __slots__ = ("descending", "last_time")

    def __init__(self) -> None:
        self.descending = True
        self.last_time: datetime | None = None

    def see(self, rec: Recording) -> None:
        if self.last_time is not None and rec.add_time > self.last_time:
            self.descending = False
        self.last_time = rec.add_time

    def more_pages(self, page: RecordingPage, since: datetime) -> bool:
        """Whether a page after ``page`` may hold rows added at or after ``since``."""
        if page.next_offset is None:
            return False
        # Vobiz lists newest first (not documented, so checked): once a page ends before ``since``
        # in a list that is still descending, no later page can hold a row at or after it.
        return not (self.descending and self.last_time is not None and self.last_time < since)


class RecordingPages:
    """Paging through the recording list: which page to ask for next, and reading the answer.

    :param auth_id: the account.
    :param filters: query filters sent with every page.
    :param page_size: recordings per page (at most :data:`~vobiz_provider.hooks.api.MAX_PAGE_SIZE`).
    :param max_pages: pages read before giving up with :class:`VobizResponseError`.

    Paging is bounded whatever the server says: a page whose recordings were all seen before (a
    list that ignores ``offset`` and always sends ``meta.next``) ends the list, and so does
    ``max_pages`` with an error (docs/vobiz-api-quirks.md, "Pagination").
    """

    def __init__(
        self,
        auth_id: str,
        filters: Mapping[str, Any],
        page_size: int = api.MAX_PAGE_SIZE,
        max_pages: int = MAX_LIST_PAGES,
    ) -> None:
        self.auth_id = auth_id
        self.filters = dict(filters)
        self.page_size = page_size
        self.max_pages = max_pages
        self.offset: int | None = 0
        self.pages_read = 0
        self.repeated = False
        self.skipped: list[UnusableRecordingError] = []  # rows of this read the provider cannot use
        self._seen_ids: set[str] = set()

    def next_request(self) -> ApiRequest | None:
        """The request for the next page, or None after the last."""
        if self.offset is None:
            return None
        return api.list_recordings(self.auth_id, list_params(self.filters, self.offset, self.page_size))

    def read(self, reply: ApiReply) -> RecordingPage:
        """Parse a page and move on to the next one."""
        assert self.offset is not None, "read() after the last page"
        page = parse_recording_page(reply.json_object("list recordings"), self.offset)
        self.pages_read += 1
        ids = {rec.recording_id for rec in page.recordings} | {
            row.recording_id for row in page.skipped if row.recording_id
        }
        if ids and ids <= self._seen_ids:
            # The same rows again: the server ignores offset. Nothing new can follow.
            self.repeated = True
            self.offset = None
            return RecordingPage([], None)
        self._seen_ids |= ids
        self.skipped += page.skipped
        self.offset = page.next_offset
        if self.offset is not None and self.pages_read >= self.max_pages:
            raise VobizResponseError(
                f"list recordings: still a next page after {self.pages_read} pages "
                f"({len(self._seen_ids)} recordings); giving up rather than paging without end"
            )
        return page

    def stop(self) -> None:
        """Ask for no further page."""
        self.offset = None


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
    skipped: int = 0
    list_repeated: bool = False
    _order: ListOrder = field(default_factory=lambda: ListOrder(), repr=False)

    @classmethod
    def within(cls, conference_name: str, since: datetime | str, until: datetime | str | None) -> RecordingSearch:
        """A search of ``[since, until]`` (ISO-8601 strings or datetimes; no upper bound when ``until`` is None)."""
        last = None if until is None else parse_instant(until, field="until")
        return cls(conference_name, parse_instant(since, field="since"), last)

    def pages(self, auth_id: str) -> RecordingPages:
        """The list pages this search reads, with the room, the type and the window as filters."""
        return RecordingPages(auth_id, conference_filters(self.conference_name, self.since, self.until))

    def add_page(self, page: RecordingPage) -> bool:
        """Take one page in; return whether another page can still hold a match."""
        self.add_rows(page.recordings)
        self.skipped += len(page.skipped)
        return self._order.more_pages(page, self.since)

    def add_rows(self, rows: Iterable[Recording]) -> None:
        """Take rows in, in the list's order."""
        for rec in rows:
            self.seen += 1
            self._order.see(rec)
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

    def read(self, pages: RecordingPages, reply: ApiReply) -> None:
        """Take the answer for ``pages.next_request()`` in; stop ``pages`` once no match can follow."""
        if not self.add_page(pages.read(reply)):
            pages.stop()
        self.list_repeated |= pages.repeated

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
        if self.list_repeated:
            text += f"; {REPEATED_PAGE}"
        return text + skipped_words(self.skipped)

    def others_in_window(self) -> list[Recording]:
        """The room's other recordings in the window, newest first: the meeting's earlier parts."""
        rest = [rec for rec in self.in_window if rec is not self.match]
        return sorted(rest, key=lambda rec: rec.add_time, reverse=True)


class RecordingIndex:
    """The recording list read once back to ``since``, conference recordings grouped by room: one
    read of the list answers the searches of every room waited for on the account.

    :param since: the earliest ``add_time`` the read must reach.
    """

    def __init__(self, since: datetime) -> None:
        self.since = since
        self.by_room: dict[str, list[Recording]] = {}
        self.seen = 0
        self.skipped = 0
        self.list_repeated = False
        # The newest row, and the newest whose (room, kind) differs from it: the newest "other" of any room.
        self.newest: Recording | None = None
        self.newest_else: Recording | None = None
        self._order = ListOrder()

    def pages(self, auth_id: str) -> RecordingPages:
        """The list pages this read asks for: conference recordings since ``since``, of every room."""
        return RecordingPages(auth_id, {**CONFERENCE_ONLY, **add_time_filters(self.since)})

    def add_page(self, page: RecordingPage) -> bool:
        """Take one page in; return whether another page can still hold rows at or after ``since``."""
        for rec in page.recordings:
            self.seen += 1
            self._order.see(rec)
            if rec.is_conference and rec.conference_name:
                self.by_room.setdefault(rec.conference_name, []).append(rec)
            self._note_newest(rec)
        self.skipped += len(page.skipped)
        return self._order.more_pages(page, self.since)

    def _note_newest(self, rec: Recording) -> None:
        newest = self.newest
        if newest is None or rec.add_time > newest.add_time:
            if newest is not None and _kind(newest) != _kind(rec):
                self.newest_else = newest
            self.newest = rec
        elif _kind(rec) != _kind(newest) and (self.newest_else is None or rec.add_time > self.newest_else.add_time):
            self.newest_else = rec

    def read(self, pages: RecordingPages, reply: ApiReply) -> None:
        """Take the answer for ``pages.next_request()`` in; stop ``pages`` once past ``since``."""
        if not self.add_page(pages.read(reply)):
            pages.stop()
        self.list_repeated |= pages.repeated

    def search(self, conference_name: str, since: datetime, until: datetime | None) -> RecordingSearch:
        """What a search of the room would have found in the same list (``since`` not before the index's)."""
        search = RecordingSearch(conference_name, since, until)
        search.add_rows(self.by_room.get(conference_name, ()))
        search.seen, search.skipped, search.list_repeated = self.seen, self.skipped, self.list_repeated
        newest = self.newest
        of_room = newest is not None and _kind(newest) == (conference_name, True)
        search.newest_other = self.newest_else if of_room else newest
        return search


def _kind(rec: Recording) -> tuple[str | None, bool]:
    return rec.conference_name, rec.is_conference
