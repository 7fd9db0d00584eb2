"""The recording list, page by page (written once for both hooks), read into a :class:`RecordingIndex`;
a room's search (:class:`RecordingSearch`) is the room's window in one.

A hook drives either with the same two calls: ``next_request()`` until it is None, and
``read(reply)`` for each answer. No I/O here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from contextlib import suppress
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


class RecordingIndex:
    """The recording list read back to ``since``, newest first: every usable row, and the
    conference recordings by room. The one way to read "the recordings of a window": the shared
    read of every room, a room's own search (:class:`RecordingSearch`) and the event watcher.

    :param since: the earliest ``add_time`` the read must reach; pages stop once past it.
    :param filters: sent with every page (Vobiz may ignore them, so readers check the rows);
        default: conference recordings added since ``since``, of every room.
    """

    def __init__(self, since: datetime, filters: Mapping[str, Any] | None = None) -> None:
        self.since = since
        self.filters = {**CONFERENCE_ONLY, **add_time_filters(since)} if filters is None else dict(filters)
        self.rows: list[Recording] = []
        self.by_room: dict[str, list[Recording]] = {}
        self.seen = 0
        self.skipped = 0
        self.list_repeated = False
        # The newest row, and the newest whose (room, kind) differs from it: the newest "other" of any room.
        self.newest: Recording | None = None
        self.newest_else: Recording | None = None
        # Vobiz lists newest first (not documented, so checked): while it does, a page that ends
        # before ``since`` is the last one needed.
        self._descending = True
        self._last_time: datetime | None = None

    def pages(self, auth_id: str) -> RecordingPages:
        """The list pages this read asks for, with :attr:`filters`."""
        return RecordingPages(auth_id, self.filters)

    def add_page(self, page: RecordingPage) -> bool:
        """Take one page in; return whether another page can still hold rows at or after ``since``."""
        self.add_rows(page.recordings)
        self.skipped += len(page.skipped)
        if page.next_offset is None:
            return False
        return not (self._descending and self._last_time is not None and self._last_time < self.since)

    def add_rows(self, rows: Iterable[Recording]) -> None:
        """Take rows in, in the list's order."""
        for rec in rows:
            self.seen += 1
            if self._last_time is not None and rec.add_time > self._last_time:
                self._descending = False
            self._last_time = rec.add_time
            self.rows.append(rec)
            if rec.is_conference and rec.conference_name:
                self.by_room.setdefault(rec.conference_name, []).append(rec)
            self._note_newest(rec)

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
        """The room's window in this read (``since`` not before the index's)."""
        return RecordingSearch(conference_name, since, until, self)


class RecordingSearch:
    """One room's window ``[since, until]`` in a read of the list (:class:`RecordingIndex`): the
    newest conference recording of the room added within it (:attr:`match`), every one in it
    (several when the recording was stopped and restarted), and what else was seen, so a timeout
    can say why nothing matched.

    :param conference_name: the room, case-sensitive as Vobiz treats it.
    :param since: the earliest ``add_time`` that belongs to this meeting.
    :param until: the latest ``add_time`` that belongs to this meeting; None: no upper bound.
    :param index: the read to look in; default: a read of this room's window alone (:meth:`pages`).
    """

    def __init__(
        self, conference_name: str, since: datetime, until: datetime | None = None, index: RecordingIndex | None = None
    ) -> None:
        self.conference_name = conference_name
        self.since = since
        self.until = until
        self.index = (
            RecordingIndex(since, conference_filters(conference_name, since, until)) if index is None else index
        )

    @classmethod
    def within(cls, conference_name: str, since: datetime | str, until: datetime | str | None) -> RecordingSearch:
        """A room's own search of ``[since, until]`` (ISO-8601 strings or datetimes; None: no upper bound)."""
        last = None if until is None else parse_instant(until, field="until")
        return cls(conference_name, parse_instant(since, field="since"), last)

    def pages(self, auth_id: str) -> RecordingPages:
        """The list pages of the room's own read, with the room, the type and the window as filters."""
        return self.index.pages(auth_id)

    def read(self, pages: RecordingPages, reply: ApiReply) -> None:
        """Take the answer for ``pages.next_request()`` in (see :meth:`RecordingIndex.read`)."""
        self.index.read(pages, reply)

    @property
    def seen(self) -> int:
        """Rows the read took in (every room's)."""
        return self.index.seen

    @property
    def skipped(self) -> int:
        """Rows of the read the provider cannot use."""
        return self.index.skipped

    def _of_room(self) -> list[Recording]:
        return self.index.by_room.get(self.conference_name, [])

    @property
    def in_window(self) -> list[Recording]:
        """The room's recordings added within ``[since, until]``, in the list's order."""
        until = self.until
        return [r for r in self._of_room() if r.add_time >= self.since and (until is None or r.add_time <= until)]

    @property
    def match(self) -> Recording | None:
        """The newest of :attr:`in_window` (the first listed, of equal times), or None."""
        return max(self.in_window, key=lambda rec: rec.add_time, default=None)

    @property
    def newest_other(self) -> Recording | None:
        """The newest row seen that is not a conference recording of this room."""
        newest = self.index.newest
        of_room = newest is not None and _kind(newest) == (self.conference_name, True)
        return self.index.newest_else if of_room else newest

    def describe(self) -> str:
        """What was looked for and what was seen, for a timeout message."""
        room = self.conference_name
        text = f"no recording of {room!r} {window_words(self.since, self.until)}"
        other = self.newest_other
        if other is not None:
            label = other.conference_name or other.recording_type or "unnamed"
            text += f"; newest seen: {label!r} at {isoformat_utc(other.add_time)}"
        else:
            text += f"; {self.seen} recordings seen"
        earlier = sum(1 for rec in self._of_room() if rec.add_time < self.since)
        later = sum(1 for rec in self._of_room() if self.until is not None and rec.add_time > self.until)
        if earlier:
            text += f"; {earlier} recordings of {room!r} before since"
        if later:
            text += f"; {later} recordings of {room!r} after until (later meetings)"
        if self.index.list_repeated:
            text += f"; {REPEATED_PAGE}"
        return text + skipped_words(self.skipped)

    def others_in_window(self) -> list[Recording]:
        """The room's other recordings in the window, newest first: the meeting's earlier parts."""
        match = self.match
        return sorted((rec for rec in self.in_window if rec is not match), key=lambda rec: rec.add_time, reverse=True)


def _kind(rec: Recording) -> tuple[str | None, bool]:
    return rec.conference_name, rec.is_conference
