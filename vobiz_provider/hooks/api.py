"""Vobiz's API for both hooks, without I/O: each operation as an :class:`ApiRequest` (paths,
bodies, query parameters), and what a reply means (:class:`ApiReply`: the typed error of a failed
reply, whether a file is available, every documented shape of pages, recordings and conference
lists). See docs/architecture.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import cached_property
from typing import Any, NoReturn
from urllib.parse import parse_qs, quote, urlsplit

from vobiz_provider import __version__
from vobiz_provider.constants import MAX_RETRY_AFTER_S
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

MAX_PAGE_SIZE = 100
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
    """``/api/v1/Account/{auth_id}/<segments>/``: capitalised and with the trailing slash Vobiz needs
    (docs/vobiz-api-quirks.md, row "401")."""
    parts = [segment(auth_id, field="auth_id"), *segments]
    return "/api/v1/Account/" + "/".join(parts) + "/"


@dataclass(frozen=True)
class ApiRequest:
    """One request to Vobiz, independent of the transport.

    :param method: HTTP method.
    :param path: the path below the API's base URL (percent-encoded), or a file's full URL.
    :param description: what is asked, in words, for messages and logs (never a query string).
    :param params: query parameters.
    :param body: JSON body, if any.
    :param idempotent: whether replaying it after an unknown outcome is safe.
    :param headers: headers of this request besides the session's and the credentials.
    :param json_reply: Vobiz always replies to it with JSON: a 2xx whose body is not JSON was cut
        short and is retried like a 503 (idempotent requests only).
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
        """The absolute URL: a file's URL as given, an API path below ``base_url``."""
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


# A query string (``?a=b...``) inside any text: requests' and aiohttp's error texts quote the URL.
_QUERY_IN_TEXT = re.compile(r"\?[^\s'\"()<>\[\]]*=[^\s'\"()<>\[\]]*")


def redact_queries(text: str) -> str:
    """``text`` with every URL's query string cut to ``?...``: presigned signatures are credentials."""
    return _QUERY_IN_TEXT.sub("?...", text)


def without_query(url: str) -> str:
    """Signed storage URLs carry secrets in the query: keep it out of messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# -- replies ----------------------------------------------------------------------------------------

# Bytes of an error body read for its message; a whole error page is never needed.
ERROR_BODY_LIMIT = 2048


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
        # Parsed once: raise_for_reply checks a JSON answer parses, the caller then reads it.
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
    """How much of a reply's body to read: all of it (None), an error's first bytes, or nothing
    (a probe that succeeded: its body is the file)."""
    if status >= 300:
        return ERROR_BODY_LIMIT
    return None if whole_body else 0


# -- failed replies --------------------------------------------------------------------------------


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
    """Raise the typed error of an HTTP 400 or above; a 2xx/3xx passes.

    :param credentialed: whether the answering host (the last hop, ``reply.url``) was sent the
        credentials; a 401/403 from a host that was not cannot be the token's fault.
    """
    status = reply.status
    if status < 300 and reply.headers.get("content-type", "").lower().startswith("text/html"):
        # A proxy's or load balancer's maintenance page, not Vobiz: transient, like a 503.
        raise VobizUnavailableError(
            f"{request.description}: got a {status} HTML page instead of Vobiz's JSON answer "
            "(a proxy's or load balancer's maintenance page?)",
            status_code=status,
        )
    if status < 300 and request.json_reply and not reply.is_json:
        # A body cut short (a connection dropped mid-answer) or empty: the same GET may answer whole.
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
    """What to check after a 401/403: the token, or, from a host that got no credentials, that host."""
    if credentialed:
        return ". Check the Auth ID and Token of the connection (Vobiz also answers 401 for a wrongly cased path)"
    host = urlsplit(reply.url).hostname or "the file's host"
    return (
        f". {host} was sent no credentials (neither the API host nor in the connection's auth_hosts), so "
        "the Auth ID and Token are not at fault: a presigned link that expired or was revoked, or a "
        f"deleted file? If {host} serves Vobiz's files with the credentials, add it to auth_hosts"
    )


def raise_unless_file(request: ApiRequest, reply: ApiReply, *, credentialed: bool = True) -> None:
    """A file request wants the bytes (200 or 206): any other answer raises its error
    (``credentialed``: as for :func:`raise_for_reply`)."""
    if reply.status < 300:
        return
    raise_for_reply(request, reply, credentialed=credentialed)
    raise_unexpected(request, reply)


@dataclass(frozen=True)
class Refusal:
    """A 4xx that means a known state rather than an error: always for ``statuses``, and for
    ``worded_statuses`` only when Vobiz's own words match ``phrases`` (any other text is a real error).

    :param statuses: statuses that mean the state whatever the words.
    :param worded_statuses: statuses that mean it when the words say so.
    :param phrases: Vobiz's words for the state.
    """

    statuses: frozenset[int]
    worded_statuses: frozenset[int]
    phrases: re.Pattern[str]

    def means(self, status: int | None, detail: str | None) -> bool:
        """Whether a refusal with ``status`` and Vobiz's words ``detail`` (never our request's,
        which may name a room "already ...") means the state."""
        if status in self.statuses:
            return True
        return status in self.worded_statuses and bool(self.phrases.search(detail or ""))


# A stop refused with nothing to stop (docs/vobiz-api-quirks.md, "Stop with nothing recording"):
# 404 always (an unknown or ended room); 400/409/410/422 in Vobiz's words for it.
NOTHING_TO_STOP = Refusal(
    frozenset({404}),
    frozenset({400, 409, 410, 422}),
    re.compile(
        r"no (?:active |ongoing |running )?recording|not (?:currently )?(?:being )?recording|not recorded"
        r"|recording (?:is )?not (?:active|running|in progress|found|started)|nothing to stop|already stopped"
        r"|conference not found|no (?:such )?conference",
        re.IGNORECASE,
    ),
)
# A start refused as the room records already (docs/vobiz-api-quirks.md, "Start while recording"):
# 409 always; 400/422 in Vobiz's words for it ("already ended" or "already stopped" is not).
ALREADY_RECORDING = Refusal(
    frozenset({409}),
    frozenset({400, 422}),
    re.compile(
        r"already (?:being )?record(?:ing|ed)|recording (?:is )?already (?:active|running|in progress|started|on)"
        r"|recording (?:is )?(?:active|running|in progress) already"
        r"|already (?:has|have) an? (?:active |ongoing )?recording",
        re.IGNORECASE,
    ),
)


def nothing_to_stop(status: int | None, detail: str | None) -> bool:
    """Whether a stop refused with ``status`` and Vobiz's words ``detail`` means nothing was recording."""
    return NOTHING_TO_STOP.means(status, detail)


def already_recording(status: int | None, detail: str | None) -> bool:
    """Whether a start refused with ``status`` and Vobiz's words ``detail`` means the room records already."""
    return ALREADY_RECORDING.means(status, detail)


class FileState(Enum):
    """What one probe of a recording's file found."""

    READY = "ready"
    """The file is available: it can be downloaded."""
    NOT_YET = "not_yet"
    """404/410/416: Vobiz has not finished the file."""
    PROBE_REFUSED = "probe_refused"
    """The server refuses this kind of probe (see :func:`file_state`): try the next one."""


# A HEAD refused by method: try a ranged GET, whoever answered.
HEAD_REFUSED_STATUSES = frozenset({405, 501})
# A HEAD refused by a host that got no credentials (presigned storage): S3 and GCS sign the method,
# so a HEAD on a URL signed for GET fails the signature check. Our credentials cannot be at fault.
HEAD_REFUSED_UNCREDENTIALED_STATUSES = frozenset({400, 401, 403})


def file_state(request: ApiRequest, reply: ApiReply, *, credentialed: bool = True) -> FileState:
    """A file probe's verdict; 401/403 and other failures raise their typed error.

    :param credentialed: whether the answering host (the last hop) was sent the credentials.
    """
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


# -- parsing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingPage:
    """One page of the list: its recordings, the offset of the next page (None on the last), and
    the rows skipped because this provider cannot use them (each with the field at fault)."""

    recordings: list[Recording]
    next_offset: int | None
    skipped: list[UnusableRecordingError] = field(default_factory=list)


def parse_recording_page(data: Mapping[str, Any], offset: int) -> RecordingPage:
    """Parse ``{meta, objects}`` (current) or ``{recordings, pagination}`` (older docs;
    docs/vobiz-api-quirks.md, rows "List shape" and "Pagination").

    A row without an id, URL or ``add_time``, or with a number or time that does not parse, is
    skipped (in :attr:`RecordingPage.skipped`), not fatal: one row still being processed must not
    fail every reader of the list (docs/vobiz-api-quirks.md, "Rows the provider cannot use"). A
    page of the wrong shape is a :class:`VobizResponseError`.
    """
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
        # A "next" past the announced total (a server that ignores offset says "next" forever) ends the list.
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
