"""Vobiz's API for both hooks, without I/O: requests, what replies mean, the list (docs/architecture.md)."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, quote, urlsplit

from vobiz_provider import __version__
from vobiz_provider.exceptions import (
    UnusableRecordingError,
    VobizAuthError,
    VobizClientError,
    VobizConfigError,
    VobizNotFoundError,
    VobizOutcomeUnknownError,
    VobizRateLimitError,
    VobizResponseError,
    VobizServerError,
    VobizUnavailableError,
)
from vobiz_provider.models import Recording
from vobiz_provider.validation import isoformat_utc, parse_instant, window_words

if TYPE_CHECKING:
    from vobiz_provider.log import Log

MAX_PAGE_SIZE = 100
MAX_LIST_PAGES = 1000
# A longer Retry-After fails the request at once (docs/vobiz-api-quirks.md, "Retry-After").
MAX_RETRY_AFTER_S = 300.0
# The longest a connection test waits for its one request: the UI's Test button must answer.
TEST_CONNECTION_TIMEOUT_S = 10.0
USER_AGENT = f"airflow-provider-vobiz/{__version__}"
SESSION_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}
# Files are asked for as stored: Content-Length and Range then count the file's own bytes.
IDENTITY_ENCODING = {"Accept-Encoding": "identity"}


def segment(value: str, *, field: str) -> str:
    """Percent-encode one path segment, so ``Q3 Review/EMEA #1`` stays one segment."""
    if not isinstance(value, str) or not value.strip():
        raise VobizConfigError(f"{field} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        # quote() leaves dots alone, and HTTP clients resolve "." and ".." segments away.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def account_path(auth_id: str, *segments: str) -> str:
    """``/api/v1/Account/{auth_id}/<segments>/``, with the trailing slash Vobiz needs (docs/vobiz-api-quirks.md)."""
    parts = [segment(auth_id, field="auth_id"), *segments]
    return "/api/v1/Account/" + "/".join(parts) + "/"


@dataclass(frozen=True)
class ApiRequest:
    """One request to Vobiz, independent of the transport.

    :param method: HTTP method.
    :param path: the path below the API's base URL (percent-encoded), or a file's full URL.
    :param description: what is asked, in words, for messages (never a query string).
    :param params: query parameters.
    :param body: JSON body, if any.
    :param idempotent: whether replaying it after an unknown outcome is safe.
    :param headers: headers besides the session's and the credentials.
    :param json_reply: a 2xx that is not JSON was cut short (retried like a 503).
    """

    method: str
    path: str
    description: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    idempotent: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    json_reply: bool = False

    def url(self, base_url: str) -> str:
        return self.path if "://" in self.path else base_url + self.path


def account_request(
    auth_id: str, method: str, path: str, *, params: Mapping[str, str | int] | None = None, body: Any = None
) -> ApiRequest:
    """Any request below the account, for endpoints the hook has no method for."""
    method = method.upper()
    if not isinstance(path, str) or "://" in path:
        raise VobizConfigError(f"path must be a path below the account, e.g. 'Call/', got {path!r}")
    return ApiRequest(
        method,
        "/api/v1/Account/" + segment(auth_id, field="auth_id") + "/" + path.lstrip("/"),
        f"{method} {path}",
        params=dict(params or {}),
        body=body,
        idempotent=method in ("GET", "HEAD", "PUT", "DELETE"),
    )


def start_recording(auth_id: str, conference_name: str, file_format: str, callback_url: str | None) -> ApiRequest:
    body: dict[str, Any] = {"file_format": file_format}
    if callback_url:
        # Both names of the field, as the docs disagree (docs/vobiz-api-quirks.md, row "Callback field name").
        body["callback_url"] = callback_url
        body["recording_callback_url"] = callback_url
    return ApiRequest(
        "POST",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name"), "Record"),
        f"start recording conference {conference_name!r}",
        body=body,
        idempotent=False,
    )


def stop_recording(auth_id: str, conference_name: str) -> ApiRequest:
    # Stopping twice is harmless (the second answers "not recording"), so it may be retried.
    return ApiRequest(
        "DELETE",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name"), "Record"),
        f"stop recording conference {conference_name!r}",
    )


def list_conferences(auth_id: str) -> ApiRequest:
    return ApiRequest("GET", account_path(auth_id, "Conference"), "list live conferences", json_reply=True)


def get_conference(auth_id: str, conference_name: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name")),
        f"get conference {conference_name!r}",
        json_reply=True,
    )


def list_recordings(auth_id: str, params: Mapping[str, str | int]) -> ApiRequest:
    return ApiRequest(
        "GET", account_path(auth_id, "Recording"), "list recordings", params=dict(params), json_reply=True
    )


def get_recording(auth_id: str, recording_id: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Recording", segment(recording_id, field="recording_id")),
        f"get recording {recording_id!r}",
        json_reply=True,
    )


def account_check(auth_id: str) -> ApiRequest:
    """The read-only request ``test_connection`` sends: one recording of the account."""
    return list_recordings(auth_id, {"limit": 1})


def file_probes(url: str) -> tuple[ApiRequest, ApiRequest]:
    """A HEAD first; a one-byte ranged GET for servers that refuse HEAD."""
    description = f"check the recording file {without_query(url)}"
    return ApiRequest("HEAD", url, description), ApiRequest("GET", url, description, headers={"Range": "bytes=0-0"})


def download(url: str) -> ApiRequest:
    return ApiRequest("GET", url, f"download {without_query(url)}", headers=IDENTITY_ENCODING)


# requests' and aiohttp's error texts quote the URL, query string included.
_QUERY_IN_TEXT = re.compile(r"\?[^\s'\"()<>\[\]]*=[^\s'\"()<>\[\]]*")


def redact_queries(text: str) -> str:
    """``text`` with every URL's query string cut to ``?...``: presigned signatures are credentials."""
    return _QUERY_IN_TEXT.sub("?...", text)


def without_query(url: str) -> str:
    """Signed storage URLs carry secrets in the query: keep it out of messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


ERROR_BODY_LIMIT = 2048  # bytes of an error body read for its message

_NOT_JSON = object()


@dataclass(frozen=True)
class ApiReply:
    """A complete reply: status, headers (lower-cased names) and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @cached_property
    def _data(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return _NOT_JSON

    @property
    def is_json(self) -> bool:
        """Whether the body is JSON (an empty body is not)."""
        return self._data is not _NOT_JSON

    def json(self, description: str) -> Any:
        """The body as JSON; an empty or malformed body is a :class:`VobizResponseError`."""
        if self._data is _NOT_JSON:
            raise VobizResponseError(
                f"{description}: Vobiz answered {self.status} with a body that is not JSON: {self.snippet()!r}",
                status_code=self.status,
            )
        return self._data

    def json_if_any(self) -> Any:
        """The body as JSON; None when it is empty or not JSON."""
        return None if self._data is _NOT_JSON else self._data

    def snippet(self) -> str:
        """The body's first bytes, for messages."""
        return self.body[:80].decode("utf-8", "replace")

    def json_object(self, description: str) -> dict[str, Any]:
        data = self.json(description)
        if not isinstance(data, dict):
            raise VobizResponseError(
                f"{description}: expected a JSON object, got {type(data).__name__}", status_code=self.status
            )
        return data

    def json_or_none(self, description: str) -> Any:
        """The JSON, or None for an empty body (a 204)."""
        return self.json(description) if self.body.strip() else None

    def json_or_empty(self, description: str) -> dict[str, Any]:
        """The JSON object, or ``{}`` for an empty body (a 204)."""
        return self.json_object(description) if self.body.strip() else {}


def lower_headers(headers: Any) -> dict[str, str]:
    """Header names lower-cased, as :class:`ApiReply` holds them."""
    return {str(key).lower(): str(value) for key, value in headers.items()}


def body_limit(status: int, *, whole_body: bool) -> int | None:
    """How much of a reply's body to read: all (None), an error's first bytes, or nothing."""
    if status >= 300:
        return ERROR_BODY_LIMIT
    return None if whole_body else 0


def api_id_of(data: Any) -> str | None:
    """Vobiz's request id from either envelope (docs/vobiz-api-quirks.md, row "Errors")."""
    if isinstance(data, Mapping):
        value = data.get("api_id") or data.get("requestId")
        return str(value) if value else None
    return None


def error_text(reply: ApiReply) -> str:
    """Vobiz's own words from either error envelope, or a short body snippet; never whole bodies."""
    data = reply.json_if_any()
    if data is None:
        return reply.body[:120].decode("utf-8", "replace").strip()
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):  # {"status": "error", "error": {"code", "message"}}
            return ": ".join(str(error[key]) for key in ("code", "message") if error.get(key))
        if error:
            return str(error)
        if data.get("message"):
            return str(data["message"])
    return ""


def retry_after_seconds(headers: Mapping[str, str], body: Any = None) -> float | None:
    """``Retry-After`` as seconds or an HTTP date, else ``error.details.retryAfter`` from the body."""
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        details = body["error"].get("details")
        if isinstance(details, Mapping) and isinstance(details.get("retryAfter"), (int, float)):
            return max(0.0, float(details["retryAfter"]))
    return None


def raise_for_reply(request: ApiRequest, reply: ApiReply, *, credentialed: bool = True) -> None:
    """Raise the typed error of an HTTP 400 or above, or of a 2xx that is not Vobiz's JSON."""
    status = reply.status
    if status < 300 and reply.headers.get("content-type", "").lower().startswith("text/html"):
        raise VobizUnavailableError(
            f"{request.description}: got a {status} HTML page instead of Vobiz's JSON answer "
            "(a proxy's or load balancer's maintenance page?)",
            status_code=status,
        )
    if status < 300 and request.json_reply and not reply.is_json:
        raise VobizUnavailableError(
            f"{request.description}: Vobiz answered {status} with a body that is not JSON "
            f"({reply.snippet()!r}): an answer cut short?",
            status_code=status,
        )
    if status < 400:
        return
    body = reply.json_if_any()
    api_id = api_id_of(body)
    said = error_text(reply) or None
    # Parentheses, not brackets: Airflow's CLI prints messages through rich, which eats "[...]".
    message = f"{request.description}: Vobiz answered {status}" + (f" ({said})" if said else "")
    if api_id:
        message += f", api_id {api_id}"
    context: dict[str, Any] = {"status_code": status, "api_id": api_id, "detail": said}
    if status in (401, 403):
        raise VobizAuthError(message + _auth_hint(reply, credentialed), **context)
    if status == 404:
        raise VobizNotFoundError(message, **context)
    if status == 429:
        asked = retry_after_seconds(reply.headers, body)
        if asked is not None and asked > MAX_RETRY_AFTER_S:
            message += (
                f"; Vobiz asks to wait {asked:g} s, longer than the {MAX_RETRY_AFTER_S:g} s a request "
                "waits out: not retried, try again later"
            )
        raise VobizRateLimitError(message, retry_after=asked, **context)
    if status >= 500:
        if not request.idempotent:
            raise VobizOutcomeUnknownError(
                message + "; the request may have taken effect, so it is not replayed: check the state in Vobiz",
                **context,
            )
        raise VobizServerError(message, retry_after=retry_after_seconds(reply.headers, body), **context)
    raise VobizClientError(message, **context)


def _auth_hint(reply: ApiReply, credentialed: bool) -> str:
    """What to check after a 401/403: the token, or the host that got no credentials."""
    if credentialed:
        return ". Check the Auth ID and Token of the connection (Vobiz also answers 401 for a wrongly cased path)"
    host = urlsplit(reply.url).hostname or "the file's host"
    return (
        f". {host} was sent no credentials (neither the API host nor in the connection's auth_hosts), so "
        "the Auth ID and Token are not at fault: a presigned link that expired or was revoked, or a "
        f"deleted file? If {host} serves Vobiz's files with the credentials, add it to auth_hosts"
    )


def raise_unless_file(request: ApiRequest, reply: ApiReply, *, credentialed: bool = True) -> None:
    """A file request wants the bytes (200 or 206): any other answer raises its error."""
    if reply.status < 300:
        return
    raise_for_reply(request, reply, credentialed=credentialed)
    raise_unexpected(request, reply)


# docs/vobiz-api-quirks.md, "Stop with nothing recording".
_NOTHING_TO_STOP = re.compile(
    r"no (?:active |ongoing |running )?recording|not (?:currently )?(?:being )?recording|not recorded"
    r"|recording (?:is )?not (?:active|running|in progress|found|started)|nothing to stop|already stopped"
    r"|conference not found|no (?:such )?conference",
    re.IGNORECASE,
)
# docs/vobiz-api-quirks.md, "Start while recording".
_ALREADY_RECORDING = re.compile(
    r"already (?:being )?record(?:ing|ed)|recording (?:is )?already (?:active|running|in progress|started|on)"
    r"|recording (?:is )?(?:active|running|in progress) already"
    r"|already (?:has|have) an? (?:active |ongoing )?recording",
    re.IGNORECASE,
)


def nothing_to_stop(status: int | None, detail: str | None) -> bool:
    """Whether a stop refused with ``status`` and Vobiz's words ``detail`` means nothing was recording."""
    return status == 404 or (status in (400, 409, 410, 422) and bool(_NOTHING_TO_STOP.search(detail or "")))


def already_recording(status: int | None, detail: str | None) -> bool:
    """Whether a start refused with ``status`` and Vobiz's words ``detail`` means the room records already."""
    return status == 409 or (status in (400, 422) and bool(_ALREADY_RECORDING.search(detail or "")))


class FileState(Enum):
    """What one probe of a recording's file found."""

    READY = "ready"  # the file is available
    NOT_YET = "not_yet"  # HTTP 404/410/416: Vobiz has not finished the file
    PROBE_REFUSED = "probe_refused"  # the server refuses this kind of probe: try the next one


HEAD_REFUSED_STATUSES = frozenset({405, 501})
# S3 and GCS sign the method, and the URL is signed for GET.
HEAD_REFUSED_UNCREDENTIALED_STATUSES = frozenset({400, 401, 403})


def file_state(request: ApiRequest, reply: ApiReply, *, credentialed: bool = True) -> FileState:
    """A file probe's verdict; other answers raise their typed error."""
    if reply.status in (200, 206):
        return FileState.READY
    if reply.status in (404, 410, 416):
        return FileState.NOT_YET
    if request.method == "HEAD" and (
        reply.status in HEAD_REFUSED_STATUSES
        or (not credentialed and reply.status in HEAD_REFUSED_UNCREDENTIALED_STATUSES)
    ):
        return FileState.PROBE_REFUSED
    raise_for_reply(request, reply, credentialed=credentialed)
    return raise_unexpected(request, reply)


def raise_unexpected(request: ApiRequest, reply: ApiReply) -> NoReturn:
    raise VobizResponseError(f"{request.description}: unexpected status {reply.status}", status_code=reply.status)


@dataclass(frozen=True)
class RecordingPage:
    """One page of the list: its recordings, the next page's offset (None on the last), the rows skipped."""

    recordings: list[Recording]
    next_offset: int | None
    skipped: list[UnusableRecordingError] = field(default_factory=list)


def parse_recording_page(data: Mapping[str, Any], offset: int) -> RecordingPage:
    """Parse either list shape; an unusable row is skipped (docs/vobiz-api-quirks.md, "List shape")."""
    if isinstance(data.get("objects"), list):
        items = data["objects"]
        meta = data.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        next_offset = _next_offset(meta.get("next"), offset, len(items))
        total = meta.get("total_count")
        if next_offset is None and meta.get("next") is None and isinstance(total, int) and total > offset + len(items):
            next_offset = offset + len(items) if items else None
    elif isinstance(data.get("recordings"), list):
        items = data["recordings"]
        pagination = data.get("pagination")
        pagination = pagination if isinstance(pagination, Mapping) else {}
        next_offset = offset + len(items) if pagination.get("has_more") and items else None
        total = pagination.get("total")
    else:
        raise VobizResponseError(f"list recordings: no 'objects' or 'recordings' in keys {sorted(data)}")
    if next_offset is not None and isinstance(total, int) and next_offset >= total:
        next_offset = None
    recordings: list[Recording] = []
    skipped: list[UnusableRecordingError] = []
    for item in items:
        try:
            recordings.append(Recording.from_api(item))
        except UnusableRecordingError as unusable:
            skipped.append(unusable)
    return RecordingPage(recordings, next_offset, skipped)


def _next_offset(next_link: Any, offset: int, count: int) -> int | None:
    """Read the offset from ``meta.next`` ("/v1/Account/..." without "/api"), not the link's path."""
    if not next_link or not count:
        return None
    query = parse_qs(urlsplit(str(next_link)).query)
    try:
        following = int(query["offset"][0])
    except (KeyError, ValueError, IndexError):
        following = offset + count
    return following if following > offset else offset + count


def parse_single_recording(data: Mapping[str, Any]) -> Recording:
    """The flat object (current docs) or the ``{meta, objects: [one]}`` wrapper (older docs)."""
    objects = data.get("objects")
    if isinstance(objects, list):
        if not objects:
            raise VobizResponseError("get recording: the answer's 'objects' list is empty")
        return Recording.from_api(objects[0])
    return Recording.from_api(data)


def parse_conference_names(data: Mapping[str, Any]) -> list[str]:
    """``{"conferences": [...]}`` now; older examples show ``objects`` of ``{conference_name}``."""
    if isinstance(data.get("conferences"), list):
        return [str(name) for name in data["conferences"] if name]
    if isinstance(data.get("objects"), list):
        return [str(item["conference_name"]) for item in data["objects"] if item.get("conference_name")]
    raise VobizResponseError(f"list live conferences: no conference list in keys {sorted(data)}")


def optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


CONFERENCE_ONLY = {"recording_type": "conference"}

# docs/vobiz-api-quirks.md, "List time filters".
FILTER_ZONE_MARGIN = timedelta(hours=14)


def add_time_filters(since: datetime, until: datetime | None = None) -> dict[str, str]:
    """The ``add_time`` filters for ``[since, until]``, each widened by :data:`FILTER_ZONE_MARGIN`."""
    filters = {"add_time__gte": _filter_time(since, -FILTER_ZONE_MARGIN)}
    if until is not None:
        filters["add_time__lte"] = _filter_time(until, FILTER_ZONE_MARGIN)
    return filters


def _filter_time(instant: datetime, margin: timedelta) -> str:
    utc = instant.astimezone(timezone.utc)
    with suppress(OverflowError):  # a bound at the calendar's edge stays: nothing lies beyond it
        utc += margin
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")  # YYYY-MM-DD HH:MM:SS


class SkippedRows:
    """The list's rows this provider cannot use, each warned about once.

    :param limit: how many rows to remember.
    """

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._warned: OrderedDict[str, None] = OrderedDict()

    def warn(self, log: Log, rows: Iterable[UnusableRecordingError]) -> None:
        """Log one warning for each of ``rows`` not warned about yet."""
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


class RecordingPages:
    """Paging through the recording list (docs/vobiz-api-quirks.md, "Pagination").

    :param auth_id: the account.
    :param filters: query filters sent with every page.
    :param page_size: recordings per page (at most :data:`MAX_PAGE_SIZE`).
    :param max_pages: pages read before giving up with :class:`VobizResponseError`.
    """

    def __init__(
        self,
        auth_id: str,
        filters: Mapping[str, Any],
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = MAX_LIST_PAGES,
    ) -> None:
        self.auth_id = auth_id
        self.filters = dict(filters)
        self.page_size = page_size
        self.max_pages = max_pages
        self.offset: int | None = 0
        self.pages_read = 0
        self.repeated = False
        self.skipped: list[UnusableRecordingError] = []
        self._seen_ids: set[str] = set()

    def next_request(self) -> ApiRequest | None:
        """The request for the next page, or None after the last."""
        if self.offset is None:
            return None
        params: dict[str, str | int] = {k: v for k, v in self.filters.items() if v is not None}
        params.update(limit=min(max(self.page_size, 1), MAX_PAGE_SIZE), offset=self.offset)
        return list_recordings(self.auth_id, params)

    def read(self, reply: ApiReply) -> RecordingPage:
        """Parse a page and move on to the next one."""
        assert self.offset is not None, "read() after the last page"
        page = parse_recording_page(reply.json_object("list recordings"), self.offset)
        self.pages_read += 1
        ids = {rec.recording_id for rec in page.recordings} | {
            row.recording_id for row in page.skipped if row.recording_id
        }
        if ids and ids <= self._seen_ids:  # the same rows again: the server ignores offset
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
    """The recording list read back to ``since``: every usable row, and the conference recordings by room.

    :param since: the earliest ``add_time`` the read must reach; pages stop once past it.
    :param filters: sent with every page; default: conference recordings added since ``since``.
    """

    def __init__(self, since: datetime, filters: Mapping[str, Any] | None = None) -> None:
        self.since = since
        self.filters = {**CONFERENCE_ONLY, **add_time_filters(since)} if filters is None else dict(filters)
        self.rows: list[Recording] = []
        self.by_room: dict[str, list[Recording]] = {}
        self.seen = 0  # rows read
        self.skipped = 0
        self.list_repeated = False
        self.newest: Recording | None = None
        self.newest_else: Recording | None = None
        # Newest first is undocumented, so checked: then a page ending before ``since`` is the last.
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
    """One room's window ``[since, until]`` in a read of the list, and what else was seen.

    :param conference_name: the room, case-sensitive as Vobiz treats it.
    :param since: the window's start (aware UTC).
    :param until: the window's end; None: no upper bound.
    :param index: the read to look in; default: a read of this room's window alone.
    """

    def __init__(
        self, conference_name: str, since: datetime, until: datetime | None = None, index: RecordingIndex | None = None
    ) -> None:
        self.conference_name = conference_name
        self.since = since
        self.until = until
        if index is None:
            index = RecordingIndex(
                since, {"conference_name": conference_name, **CONFERENCE_ONLY, **add_time_filters(since, until)}
            )
        self.index = index

    @classmethod
    def within(cls, conference_name: str, since: datetime | str, until: datetime | str | None) -> RecordingSearch:
        """A room's own search of ``[since, until]`` (ISO-8601 strings or datetimes; None: no upper bound)."""
        last = None if until is None else parse_instant(until, field="until")
        return cls(conference_name, parse_instant(since, field="since"), last)

    def pages(self, auth_id: str) -> RecordingPages:
        """The list pages of this search's read."""
        return self.index.pages(auth_id)

    def read(self, pages: RecordingPages, reply: ApiReply) -> None:
        """See :meth:`RecordingIndex.read`."""
        self.index.read(pages, reply)

    @property
    def seen(self) -> int:
        """Rows read (every room's)."""
        return self.index.seen

    @property
    def skipped(self) -> int:
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

    def describe(self) -> str:
        """What was looked for and what was seen, for a timeout message."""
        room = self.conference_name
        text = f"no recording of {room!r} {window_words(self.since, self.until)}"
        newest = self.index.newest  # the newest row that is not a conference recording of this room
        other = self.index.newest_else if newest is not None and _kind(newest) == (room, True) else newest
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
            text += "; the list answered a later page with rows it had sent already (it ignores offset)"
            text += ", so older recordings could not be read"
        return text + skipped_words(self.skipped)

    def others_in_window(self, match: Recording | None = None) -> list[Recording]:
        """The room's recordings in the window but ``match`` (default: :attr:`match`), newest first."""
        match = match or self.match
        return sorted((rec for rec in self.in_window if rec is not match), key=lambda rec: rec.add_time, reverse=True)


def _kind(rec: Recording) -> tuple[str | None, bool]:
    return rec.conference_name, rec.is_conference
