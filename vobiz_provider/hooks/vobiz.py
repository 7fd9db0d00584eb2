"""The Vobiz hooks: ``VobizHook`` (requests, on the worker) and ``VobizAsyncHook`` (aiohttp, in the
triggerer), side by side and in the same shape. They only move bytes: what a request is and what a
reply means are in :mod:`~vobiz_provider.hooks.api`, the connection and the rules of sending on it
(credentials, redirects, retries) in :mod:`~vobiz_provider.hooks.connection`, the paging of the
list in :mod:`~vobiz_provider.hooks.api`. See docs/architecture.md.

Importing this module imports the http provider's hook module, and with it aiohttp; DAG files
never import it at parse time (the operators and the sensor import it when a task runs).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import Any, BinaryIO

import aiohttp
import requests
from airflow.providers.http.hooks.http import HttpHook
from requests.auth import AuthBase
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from yarl import URL

from vobiz_provider.exceptions import (
    VobizClientError,
    VobizConfigError,
    VobizConnectionError,
    VobizError,
    VobizNotFoundError,
)
from vobiz_provider.hooks import api
from vobiz_provider.hooks.api import (
    TEST_CONNECTION_TIMEOUT_S,
    ApiReply,
    ApiRequest,
    FileState,
    RecordingIndex,
    RecordingPage,
    RecordingPages,
    RecordingSearch,
    SkippedRows,
    already_recording,
    api_id_of,
    body_limit,
    file_state,
    lower_headers,
    nothing_to_stop,
    optional_text,
    parse_conference_names,
    parse_single_recording,
    raise_for_reply,
    raise_unless_file,
)
from vobiz_provider.hooks.connection import (
    ConnectionLike,
    HookOptions,
    RetryPolicy,
    VobizSettings,
    credentials_for,
    first_hop,
    next_hop,
    transport_failure,
)
from vobiz_provider.hooks.transfer import ResumableTransfer
from vobiz_provider.models import FileTransfer, Recording, RecordingStarted, RecordingStopped, StopStatus
from vobiz_provider.validation import DEFAULT_CHUNK_SIZE, DEFAULT_CONN_ID, FILE_FORMATS
from vobiz_provider.version_compat import BaseHook, aget_connection

__all__ = ["VobizAsyncHook", "VobizHook"]

# What reading a body can raise: requests wraps urllib3's errors in iter_content() (and so .content),
# but response.raw.read() raises urllib3's own (ReadTimeoutError, ProtocolError, IncompleteRead).
_BODY_READ_ERRORS = (requests.RequestException, Urllib3Error)

# The shortest timeout a request gets when a deadline is near: the last poll at the deadline still asks.
MIN_REQUEST_TIMEOUT_S = 0.5


class _VobizHookBase:
    """What both hooks share: the connection's name and type, the caller's options, and the
    connection's settings, read once per hook (the triggerer's shared account reads them again
    with ``read_settings()``)."""

    conn_name_attr = "vobiz_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "vobiz"

    def __init__(
        self,
        vobiz_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff: float = 1.0,
        **hook_kwargs: Any,
    ) -> None:
        super().__init__(**hook_kwargs)
        self.vobiz_conn_id = vobiz_conn_id
        self.options = HookOptions(timeout, max_retries, retry_backoff)
        self.deadline: float | None = None
        self._settings: VobizSettings | None = None

    def _use_connection(self, conn: ConnectionLike, extra: Mapping[str, Any] | None = None) -> VobizSettings:
        """Validate ``conn`` with the caller's options (``extra``: when already read); later requests use it."""
        options = self.options
        self._settings = VobizSettings.from_connection(
            conn, timeout=options.timeout, max_retries=options.max_retries, extra=extra
        )
        return self._settings

    @cached_property
    def skipped_rows(self) -> SkippedRows:
        """The list's unusable rows, warned about once per hook (made on the first read of the list)."""
        return SkippedRows()

    def set_deadline(self, deadline: float | None) -> None:
        """Bound every later request by ``deadline`` (seconds since the epoch): its timeout is the
        time left (at least half a second), when that is shorter than the connection's."""
        self.deadline = deadline

    def request_timeout(self, settings: VobizSettings) -> float:
        """Seconds the next request may take: the connection's timeout, cut to the time left."""
        if self.deadline is None:
            return settings.timeout
        return min(settings.timeout, max(self.deadline - time.time(), MIN_REQUEST_TIMEOUT_S))

    def retry_policy(self, settings: VobizSettings) -> RetryPolicy:
        """The retries of a request under ``settings``: its budget, with the caller's backoff."""
        return RetryPolicy(max_retries=settings.max_retries, backoff=self.options.retry_backoff)


def recording_url(recording: Recording | str) -> str:
    return recording.recording_url if isinstance(recording, Recording) else recording


# ==================================================================================================
# VobizHook: requests, on the worker
# ==================================================================================================


class ScopedCredentials(AuthBase):
    """``requests`` auth for the first leg of a request: the Vobiz headers where the policy allows
    them (:func:`~vobiz_provider.hooks.connection.credentials_for`), none elsewhere.

    :param settings: the connection.
    """

    def __init__(self, settings: VobizSettings) -> None:
        self.settings = settings

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        for name in self.settings.auth_headers:
            request.headers.pop(name, None)
        request.headers.update(credentials_for(self.settings, url, origin=url))
        return request


def _decided_per_hop(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """``requests`` auth for the typed methods' legs: they carry ``first_hop``/``next_hop``'s decision already."""
    return request


class ScopedSession(requests.Session):
    """A ``requests.Session`` that decides the credentials again on every redirect hop.

    requests strips only ``Authorization`` when a redirect changes host; the Vobiz headers would
    follow the redirect anywhere. Here each hop gets what the policy allows its URL.

    :param settings: the connection.
    """

    def __init__(self, settings: VobizSettings) -> None:
        super().__init__()
        self.settings = settings
        self.auth = ScopedCredentials(settings)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        for name in self.settings.auth_headers:
            prepared_request.headers.pop(name, None)
        previous = response.request.url if response.request is not None else None
        prepared_request.headers.update(credentials_for(self.settings, prepared_request.url or "", origin=previous))


class VobizHook(_VobizHookBase, HttpHook):
    """Talk to the Vobiz REST API with an Airflow connection of type ``vobiz`` (docs/deployment.md, "The connection").

    One ``requests.Session`` per hook; every request has a timeout, retries follow the policy
    shared with :class:`VobizAsyncHook`, and the credentials go only to the API host and
    ``auth_hosts``, decided again on every redirect hop. :meth:`call` reaches any Vobiz endpoint.
    ``HttpHook``'s ``run("Account/{auth_id}/Recording/")`` (below ``{host}/api/v1/``),
    ``run_and_check()`` and ``run_with_advanced_retry()`` work on the same session with the same
    credential rule, keeping ``HttpHook``'s redirect and retry rules (docs/architecture.md).

    :param vobiz_conn_id: the Airflow connection id.
    :param timeout: seconds per request; overrides the connection's extra.
    :param max_retries: retry budget; overrides the connection's extra.
    :param retry_backoff: the first backoff in seconds, doubling per retry (with jitter).
    :param method: the HTTP method of :meth:`run` (``HttpHook``'s); default ``GET``.
    """

    hook_name = "Vobiz"
    _session: ScopedSession | None = None

    def __init__(
        self,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff: float = 1.0,
        method: str = "GET",
        **http_hook_kwargs: Any,
    ) -> None:
        super().__init__(
            vobiz_conn_id,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            method=method,
            http_conn_id=vobiz_conn_id,
            **http_hook_kwargs,
        )

    def get_settings(self) -> VobizSettings:
        """The validated connection, read once per hook."""
        return self._settings or self._use_connection(self.get_connection(self.vobiz_conn_id))

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """The hook's one session: scoped credentials, the connection's proxy, keep-alive.

        For ``HttpHook.run()``: the base URL is ``{host}/api/v1``, and the request options are the
        connection's timeout (cut to the deadline) with ``extra_options`` on top. The connection's
        extras are never turned into headers; ``headers`` go on each ``run()`` request, not the session.
        """
        settings = self.get_settings()
        # The two attributes HttpHook.run() reads after calling get_conn(): its URLs' base, and the
        # options it hands to run_and_check().
        self.base_url = f"{settings.base_url}/api/v1"
        self.merged_extra = {"timeout": self.request_timeout(settings), **(extra_options or {})}
        if self._session is None:
            session = ScopedSession(settings)
            session.headers.update(api.SESSION_HEADERS)
            # As run_and_check() passes them per request, they win over the environment's.
            session.proxies = settings.proxies or {}
            self._session = session
            self._configure_session_from_mount_adapters(session)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- transport ----------------------------------------------------------------------------------

    def _open(
        self, request: ApiRequest, settings: VobizSettings, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """Send ``request``, following redirects hop by hop; the answer is streamed (close it)."""
        session = self.get_conn()
        hop = first_hop(settings, request, headers)
        while True:
            try:
                response = session.request(
                    hop.method,
                    hop.url,
                    params=hop.params,
                    json=hop.body,
                    headers=hop.headers,
                    timeout=self.request_timeout(settings),
                    allow_redirects=False,
                    stream=True,
                    auth=_decided_per_hop,
                    proxies=settings.proxies,
                )
            except requests.RequestException as err:
                raise transport_failure(request, err, sent=not _never_sent(err)) from None
            following = next_hop(settings, request, hop, response.status_code, response.headers.get("Location"))
            if following is None:
                return response
            response.close()
            hop = following

    def _send(self, request: ApiRequest, settings: VobizSettings, *, whole_body: bool = True) -> ApiReply:
        """One exchange, read into an :class:`ApiReply` (a probe reads no file body)."""
        with self._open(request, settings) as response:
            limit = body_limit(response.status_code, whole_body=whole_body)
            try:
                body = response.content if limit is None else response.raw.read(limit, decode_content=True)
            except _BODY_READ_ERRORS as err:
                raise transport_failure(request, err, sent=True) from None
            return ApiReply(response.status_code, lower_headers(response.headers), body, response.url)

    def _call(self, request: ApiRequest, settings: VobizSettings | None = None) -> ApiReply:
        """Send ``request`` under the retry policy and raise the typed error of a failed answer."""
        settings = settings or self.get_settings()
        for attempt in self.retry_policy(settings).retrying(request, self.log):
            with attempt:
                reply = self._send(request, settings)
                raise_for_reply(request, reply)
        return reply

    def call(self, method: str, path: str, *, params: Mapping[str, str | int] | None = None, json: Any = None) -> Any:
        """Any Vobiz endpoint: ``path`` below ``/api/v1/Account/{auth_id}/`` (e.g. ``"Call/"``), the
        answer's JSON (None for an empty body). Same credentials, redirects and retries as every
        method here; only GET, HEAD, PUT and DELETE are replayed after an unknown outcome.
        """
        request = api.account_request(self.get_settings().auth_id, method, path, params=params, body=json)
        return self._call(request).json_or_none(request.description)

    # -- conference recording ---------------------------------------------------------------------

    def start_conference_recording(
        self, conference_name: str, *, file_format: str = "mp3", callback_url: str | None = None
    ) -> RecordingStarted:
        """Start recording a live room; a room that records already is reported, not raised.

        :param conference_name: the room (case-sensitive).
        :param file_format: ``mp3`` or ``wav``.
        :param callback_url: where Vobiz may POST the result; delivery is not guaranteed.
        """
        if file_format not in FILE_FORMATS:
            raise VobizConfigError(f"file_format must be one of {FILE_FORMATS}, got {file_format!r}")
        request = api.start_recording(self.get_settings().auth_id, conference_name, file_format, callback_url)
        try:
            data = self._call(request).json_or_empty(request.description)
        except VobizClientError as err:
            if already_recording(err.status_code, err.detail):
                return RecordingStarted(conference_name, err.api_id, already_recording=True, message=str(err))
            raise
        return RecordingStarted(
            conference_name,
            api_id_of(data),
            recording_id=optional_text(data.get("recording_id")),
            url=optional_text(data.get("url") or data.get("recording_url")),
            message=optional_text(data.get("message")),
        )

    def stop_conference_recording(self, conference_name: str) -> RecordingStopped:
        """Stop a room's recording. Any 2xx is ``stopped``; an unknown or ended room (404), or a refusal
        (400/409/410/422) in Vobiz's words for "nothing recording", is ``not_recording``; any other
        refusal raises, naming Vobiz's words (docs/vobiz-api-quirks.md, "Stop with nothing recording").

        :param conference_name: the room (case-sensitive).
        """
        request = api.stop_recording(self.get_settings().auth_id, conference_name)
        try:
            reply = self._call(request)
        except (VobizNotFoundError, VobizClientError) as err:
            if not nothing_to_stop(err.status_code, err.detail):
                raise
            return RecordingStopped(
                conference_name, StopStatus.NOT_RECORDING, err.status_code or 0, err.api_id, str(err)
            )
        if not reply.is_json and reply.body.strip():
            # The 2xx is the answer (a body cut short loses only the api_id); sending the DELETE
            # again would only find nothing to stop.
            self.log.warning(
                "%s: Vobiz answered %s (stopped) with a body that is not JSON (%r); its api_id is unknown",
                request.description,
                reply.status,
                reply.snippet(),
            )
        return RecordingStopped(conference_name, StopStatus.STOPPED, reply.status, api_id_of(reply.json_if_any()))

    def list_conferences(self) -> list[str]:
        """Names of live rooms. Vobiz warns this can be empty while rooms are live."""
        request = api.list_conferences(self.get_settings().auth_id)
        return parse_conference_names(self._call(request).json_object(request.description))

    def get_conference(self, conference_name: str) -> dict[str, Any] | None:
        """A live room's details, or None for an unknown or ended room.

        Vobiz may answer ``{"error": "failed"}`` for a live room; that dict is returned as is.
        """
        request = api.get_conference(self.get_settings().auth_id, conference_name)
        try:
            return self._call(request).json_object(request.description)
        except VobizNotFoundError:
            return None

    # -- recordings -----------------------------------------------------------------------------------

    def iter_recordings(self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any) -> Iterator[Recording]:
        """Every recording, page after page. Filters are sent; Vobiz may ignore them, so callers check."""
        for page in self.iter_recording_pages(page_size=page_size, **filters):
            yield from page.recordings

    def iter_recording_pages(self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any) -> Iterator[RecordingPage]:
        """The list page after page, with the rows each page skipped (each warned about once)."""
        pages = RecordingPages(self.get_settings().auth_id, filters, page_size)
        while (request := pages.next_request()) is not None:
            page = pages.read(self._call(request))
            self.skipped_rows.warn(self.log, page.skipped)
            yield page

    def get_recording(self, recording_id: str) -> Recording:
        """One recording by id; :class:`VobizNotFoundError` if Vobiz does not know it (yet)."""
        request = api.get_recording(self.get_settings().auth_id, recording_id)
        return parse_single_recording(self._call(request).json_object(request.description))

    def find_conference_recording(
        self, conference_name: str, since: datetime | str, until: datetime | str | None = None
    ) -> RecordingSearch:
        """The newest conference recording of ``conference_name`` added within ``[since, until]``
        (no upper bound when ``until`` is None).

        The result holds the match (or None) and what else was seen, for messages.
        """
        search = RecordingSearch.within(conference_name, since, until)
        pages = search.pages(self.get_settings().auth_id)
        while (request := pages.next_request()) is not None:
            search.read(pages, self._call(request))
        self.skipped_rows.warn(self.log, pages.skipped)
        return search

    def index_recordings(self, since: datetime) -> RecordingIndex:
        """The list read back to ``since``, conference recordings grouped by room (one read for many searches)."""
        index = RecordingIndex(since)
        pages = index.pages(self.get_settings().auth_id)
        while (request := pages.next_request()) is not None:
            index.read(pages, self._call(request))
        self.skipped_rows.warn(self.log, pages.skipped)
        return index

    def recording_file_ready(self, recording: Recording | str) -> bool:
        """Whether the file is available (HEAD, else a one-byte ranged GET), following redirects.

        HTTP 404 means not yet; 401/403 raise (docs/vobiz-api-quirks.md, "Presigned storage").
        """
        for probe in api.file_probes(recording_url(recording)):
            state = self._probe(probe)
            if state is not FileState.PROBE_REFUSED:
                return state is FileState.READY
        return False

    def _probe(self, probe: ApiRequest) -> FileState:
        settings = self.get_settings()
        for attempt in self.retry_policy(settings).retrying(probe, self.log):
            with attempt:
                reply = self._send(probe, settings, whole_body=False)
                state = file_state(probe, reply, credentialed=bool(credentials_for(settings, reply.url)))
        return state

    # -- download (sync only: files are fetched on the worker) ----------------------------------------

    def download_recording_file(
        self,
        url: str,
        sink: BinaryIO,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_progress: Callable[[int, int | None], None] | None = None,
        expected_size: int | None = None,
    ) -> FileTransfer:
        """Stream the file at ``url`` into ``sink`` in chunks, resuming with ``Range`` after a drop.

        :param url: the recording's URL, exactly as Vobiz returned it.
        :param sink: a writable, seekable binary file, positioned at 0.
        :param chunk_size: bytes read per chunk; memory stays within a few chunks.
        :param on_progress: called with (bytes written, total or None) after each chunk.
        :param expected_size: the size the file must have, if known: another announced size
            raises :class:`~vobiz_provider.exceptions.VobizUnexpectedSizeError` before a byte is written.
        """
        request = api.download(url)
        transfer = ResumableTransfer(sink, request.description, expected_size=expected_size)
        settings = self.get_settings()
        for attempt in self.retry_policy(settings).retrying(request, self.log):
            with attempt:
                self._download_once(request, settings, transfer, chunk_size, on_progress)
        return transfer.result()

    def _download_once(
        self,
        request: ApiRequest,
        settings: VobizSettings,
        transfer: ResumableTransfer,
        chunk_size: int,
        on_progress: Callable[[int, int | None], None] | None,
    ) -> None:
        """One response's worth of the file, from where the transfer stands."""
        with self._open(request, settings, transfer.range_header()) as response:
            if response.status_code >= 300:
                try:
                    error_body = response.raw.read(body_limit(response.status_code, whole_body=False))
                except _BODY_READ_ERRORS as err:
                    raise transport_failure(request, err, sent=True) from None
                reply = ApiReply(response.status_code, lower_headers(response.headers), error_body, response.url)
                credentialed = bool(credentials_for(settings, response.url))
                raise_unless_file(request, reply, credentialed=credentialed)
            transfer.begin(response.status_code, lower_headers(response.headers))
            try:
                for chunk in response.iter_content(chunk_size):
                    transfer.write(chunk)
                    if on_progress:
                        on_progress(transfer.written, transfer.total)
            except _BODY_READ_ERRORS as err:
                raise transport_failure(request, err, sent=True) from None
            transfer.finish()

    def test_connection(self) -> tuple[bool, str]:
        """A read-only request (list one recording): one attempt, at most
        :data:`~vobiz_provider.hooks.api.TEST_CONNECTION_TIMEOUT_S` seconds, so the UI's Test button
        shows a result at once. Never changes anything, never shows the token."""
        try:
            settings = self.get_settings()
            request = api.account_check(settings.auth_id)
            self._call(
                request, replace(settings, timeout=min(settings.timeout, TEST_CONNECTION_TIMEOUT_S), max_retries=0)
            )
        except VobizError as err:
            return False, str(err)
        return True, f"Connected to Vobiz at {settings.base_url} as {settings.auth_id}"


def _never_sent(err: requests.RequestException) -> bool:
    """A connect failure means the request never left, so even a POST may be retried."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, ConnectTimeoutError)


# ==================================================================================================
# VobizAsyncHook: aiohttp, in the triggerer
# ==================================================================================================

# Characters of an already percent-encoded URL (RFC 3986); such a URL is sent exactly as written.
_ENCODED_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _wire_url(url: str) -> URL:
    """yarl re-quotes and resolves ``%2E%2E`` by default; a URL that is already encoded must stay as is."""
    return URL(url, encoded=_ENCODED_URL.fullmatch(url) is not None)


class VobizAsyncHook(_VobizHookBase, BaseHook):
    """The async twin of :class:`VobizHook` for triggers: the connection is looked up asynchronously
    and one ``aiohttp`` session serves every call until :meth:`close`.

    Not built on the http provider's ``HttpAsyncHook``: that opens a session per call and turns
    connection extras into headers; a trigger that waits for hours wants one session and the
    credentials checked on every redirect hop. The session trusts the environment
    (``HTTPS_PROXY``, ``NO_PROXY``), as requests does on the worker; the ``proxy`` extra wins over it.

    It takes the same arguments as :class:`VobizHook`.
    """

    hook_name = "Vobiz (async)"
    _session: aiohttp.ClientSession | None = None
    _pool: tuple[int, int] = (0, 0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retired: list[aiohttp.ClientSession] = []  # pools of earlier limits, closed with the hook

    async def get_settings(self) -> VobizSettings:
        """The validated connection, looked up without blocking the event loop (once per hook)."""
        return self._settings or await self.read_settings()

    async def read_settings(self) -> VobizSettings:
        """Look the connection up (again) without blocking the event loop; later requests use it."""
        conn = await aget_connection(self.vobiz_conn_id)
        # The sync extra_dejson would talk to the API server from the triggerer's event loop.
        read_extra = getattr(conn, "aextra_dejson", None)
        extra = await read_extra() if read_extra is not None else conn.extra_dejson
        return self._use_connection(conn, extra)

    async def _get_session(self) -> aiohttp.ClientSession:
        """The hook's one session: a keep-alive pool with the connection's limits per host and in all,
        so a waiting trigger reuses its connection and a slow host cannot take the others' connections."""
        settings = await self.get_settings()
        pool = (settings.max_connections, settings.max_connections_per_host)
        if self._session is not None and not self._session.closed and self._pool != pool:
            # The connection's limits changed: a new pool; requests still on the old one finish there.
            self._retired.append(self._session)
            self._session = None
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=api.SESSION_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=settings.timeout, sock_read=settings.timeout),
                connector=aiohttp.TCPConnector(limit=pool[0], limit_per_host=pool[1], keepalive_timeout=120),
                trust_env=True,  # HTTPS_PROXY / NO_PROXY, as requests honours them on the worker
            )
            self._pool = pool
        return self._session

    async def close(self) -> None:
        sessions, self._retired = [*self._retired, self._session], []
        self._session = None
        for session in sessions:
            if session is not None:
                await session.close()

    async def __aenter__(self) -> VobizAsyncHook:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- transport ----------------------------------------------------------------------------------

    async def _send(self, request: ApiRequest, settings: VobizSettings, *, whole_body: bool = True) -> ApiReply:
        """One exchange, redirects followed hop by hop, read into an :class:`ApiReply` (a probe reads no file body)."""
        session = await self._get_session()
        hop = first_hop(settings, request)
        while True:
            seconds = self.request_timeout(settings)
            # aiohttp's connect timeout bounds getting a connection: a free one from the pool, or a new one.
            pool_wait = min(settings.pool_timeout, seconds)
            try:
                async with session.request(
                    hop.method,
                    _wire_url(hop.url),
                    params=hop.params,
                    json=hop.body,
                    headers=hop.headers,
                    allow_redirects=False,
                    proxy=settings.proxy,
                    timeout=aiohttp.ClientTimeout(
                        total=None, connect=pool_wait, sock_connect=seconds, sock_read=seconds
                    ),
                ) as response:
                    following = next_hop(settings, request, hop, response.status, response.headers.get("Location"))
                    if following is None:
                        limit = body_limit(response.status, whole_body=whole_body)
                        body = await response.content.read(-1 if limit is None else limit) if limit != 0 else b""
                        return ApiReply(response.status, lower_headers(response.headers), body, str(response.url))
            except aiohttp.ConnectionTimeoutError as err:
                failure = transport_failure(request, err, sent=False)
                raise VobizConnectionError(
                    f"{failure}: no connection within {pool_wait:g} s (a free one from the pool of "
                    f"{settings.max_connections_per_host} per host, or a new one; extras "
                    "'max_connections_per_host', 'pool_timeout')",
                    sent=False,
                ) from None
            except aiohttp.ClientConnectorError as err:
                raise transport_failure(request, err, sent=False) from None
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                raise transport_failure(request, err, sent=True) from None
            hop = following

    async def _call(self, request: ApiRequest) -> ApiReply:
        """Send ``request`` under the retry policy and raise the typed error of a failed answer."""
        settings = await self.get_settings()
        async for attempt in self.retry_policy(settings).async_retrying(request, self.log):
            with attempt:
                reply = await self._send(request, settings)
                raise_for_reply(request, reply)
        return reply

    # -- recordings -----------------------------------------------------------------------------------

    async def iter_recordings(
        self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncGenerator[Recording, None]:
        """Every recording, page after page. Filters are sent; Vobiz may ignore them, so callers check."""
        async with aclosing(self.iter_recording_pages(page_size=page_size, **filters)) as pages:
            async for page in pages:
                for recording in page.recordings:
                    yield recording

    async def iter_recording_pages(
        self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncGenerator[RecordingPage, None]:
        """The list page after page, with the rows each page skipped (each warned about once)."""
        pages = RecordingPages((await self.get_settings()).auth_id, filters, page_size)
        while (request := pages.next_request()) is not None:
            page = pages.read(await self._call(request))
            self.skipped_rows.warn(self.log, page.skipped)
            yield page

    async def get_recording(self, recording_id: str) -> Recording:
        """One recording by id; :class:`VobizNotFoundError` if Vobiz does not know it (yet)."""
        request = api.get_recording((await self.get_settings()).auth_id, recording_id)
        return parse_single_recording((await self._call(request)).json_object(request.description))

    async def find_conference_recording(
        self, conference_name: str, since: datetime | str, until: datetime | str | None = None
    ) -> RecordingSearch:
        """The same search with the async hook: the match within ``[since, until]``, and what was seen."""
        search = RecordingSearch.within(conference_name, since, until)
        pages = search.pages((await self.get_settings()).auth_id)
        while (request := pages.next_request()) is not None:
            search.read(pages, await self._call(request))
        self.skipped_rows.warn(self.log, pages.skipped)
        return search

    async def index_recordings(self, since: datetime) -> RecordingIndex:
        """The same read of the list with the async hook: conference recordings since ``since``, by room."""
        index = RecordingIndex(since)
        pages = index.pages((await self.get_settings()).auth_id)
        while (request := pages.next_request()) is not None:
            index.read(pages, await self._call(request))
        self.skipped_rows.warn(self.log, pages.skipped)
        return index

    async def recording_file_ready(self, recording: Recording | str) -> bool:
        """Whether the file is available (HEAD, else a one-byte ranged GET); HTTP 404 means not yet."""
        for probe in api.file_probes(recording_url(recording)):
            state = await self._probe(probe)
            if state is not FileState.PROBE_REFUSED:
                return state is FileState.READY
        return False

    async def _probe(self, probe: ApiRequest) -> FileState:
        settings = await self.get_settings()
        async for attempt in self.retry_policy(settings).async_retrying(probe, self.log):
            with attempt:
                reply = await self._send(probe, settings, whole_body=False)
                state = file_state(probe, reply, credentialed=bool(credentials_for(settings, reply.url)))
        return state
