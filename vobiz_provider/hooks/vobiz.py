"""VobizHook: the one owner of the Vobiz API on the worker (requests, on the http provider's HttpHook)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Any, BinaryIO

import requests
from airflow.providers.http.hooks.http import HttpHook
from urllib3.exceptions import ConnectTimeoutError

from vobiz_provider.exceptions import (
    VobizClientError,
    VobizConfigError,
    VobizError,
    VobizNotFoundError,
    VobizResponseError,
)
from vobiz_provider.hooks import api
from vobiz_provider.hooks.api import ApiReply, ApiRequest
from vobiz_provider.hooks.parsing import parse_conference_names, parse_recording_page, parse_single_recording
from vobiz_provider.hooks.policy import RetryPolicy, file_ready, raise_for_reply, transport_failure
from vobiz_provider.hooks.scoping import MAX_REDIRECTS, credentials_for, redirect_method, redirect_target
from vobiz_provider.hooks.search import RecordingSearch, conference_filters, list_params
from vobiz_provider.hooks.settings import DEFAULT_BASE_URL, VobizSettings
from vobiz_provider.hooks.transfer import DEFAULT_CHUNK_SIZE, ResumableTransfer
from vobiz_provider.hooks.vobiz_async import VobizAsyncHook
from vobiz_provider.instants import parse_instant
from vobiz_provider.models import FileTransfer, Recording, RecordingStarted, RecordingStopped, StopStatus

__all__ = ["VobizAsyncHook", "VobizHook"]

# Statuses with which Vobiz may refuse a stop because nothing is recording (the docs only say "an error").
NOTHING_TO_STOP_STATUSES = frozenset({400, 404, 409, 410, 422})


class VobizHook(HttpHook):
    """Talk to the Vobiz REST API with an Airflow connection of type ``vobiz``.

    Login is the Auth ID, password the Auth Token, host the API base URL (default
    ``https://api.vobiz.ai``); extras ``timeout``, ``max_retries`` and ``auth_hosts``.
    One ``requests.Session`` per hook; every request has a timeout, retries follow one policy
    shared with :class:`VobizAsyncHook`, and the credentials go only to the API host and
    ``auth_hosts``, checked again on every redirect hop.

    :param vobiz_conn_id: the Airflow connection id.
    :param timeout: seconds per request; overrides the connection's extra.
    :param max_retries: retry budget; overrides the connection's extra.
    :param retry_backoff: the first backoff in seconds, doubling per retry (with jitter).
    """

    conn_name_attr = "vobiz_conn_id"
    default_conn_name = "vobiz_default"
    conn_type = "vobiz"
    hook_name = "Vobiz"
    default_host = DEFAULT_BASE_URL

    def __init__(
        self,
        vobiz_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff: float = 1.0,
    ) -> None:
        super().__init__(method="GET", http_conn_id=vobiz_conn_id)
        self.vobiz_conn_id = vobiz_conn_id
        self._timeout = timeout
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._session: requests.Session | None = None

    @cached_property
    def settings(self) -> VobizSettings:
        """The validated connection; read once per hook."""
        conn = self.get_connection(self.vobiz_conn_id)
        return VobizSettings.from_connection(conn, timeout=self._timeout, max_retries=self._max_retries)

    @cached_property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.settings.max_retries, backoff=self._retry_backoff)

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> Any:
        """The hook's one session. Connection extras are NOT turned into headers (HttpHook would)."""
        if self._session is None:
            self.base_url = self.settings.base_url
            session = self._configure_session_from_mount_adapters(requests.Session())
            session.headers.update(api.SESSION_HEADERS)
            self._session = session
        if headers:
            self._session.headers.update(headers)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- transport ---------------------------------------------------------------------------

    def _open(
        self, request: ApiRequest, url: str, *, headers: dict[str, str] | None = None, stream: bool = False
    ) -> requests.Response:
        """Send one request, following redirects by hand so each hop gets credentials only if allowed."""
        session = self.get_conn()
        method, origin = request.method, url
        params: dict[str, Any] | None = dict(request.params) or None
        body = request.body
        for _ in range(MAX_REDIRECTS + 1):
            hop_headers = {**(headers or {}), **credentials_for(self.settings, url, origin=origin)}
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=hop_headers,
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                    stream=stream,
                )
            except requests.RequestException as err:
                raise transport_failure(request, err, sent=not _never_sent(err)) from None
            target = redirect_target(url, response.status_code, response.headers.get("Location"))
            if target is None:
                return response
            response.close()
            method = redirect_method(method, response.status_code)
            params, url = None, target
            if method in ("GET", "HEAD"):
                body = None
        raise VobizResponseError(f"{request.what}: more than {MAX_REDIRECTS} redirects")

    def _exchange(self, request: ApiRequest, url: str, headers: dict[str, str] | None = None) -> ApiReply:
        response = self._open(request, url, headers=headers)
        try:
            body = response.content
        except requests.RequestException as err:
            raise transport_failure(request, err, sent=True) from None
        return ApiReply(response.status_code, _lower(response.headers), body, response.url)

    def _call(self, request: ApiRequest) -> ApiReply:
        """Send ``request`` under the retry policy and raise the typed error of a failed answer."""
        url = self.settings.base_url + request.path
        for attempt in self.policy.retrying(request, self.log):
            with attempt:
                reply = self._exchange(request, url)
                raise_for_reply(request, reply)
        return reply

    # -- conference recording ------------------------------------------------------------------

    def start_conference_recording(
        self, conference_name: str, *, file_format: str = "mp3", callback_url: str | None = None
    ) -> RecordingStarted:
        """Start recording a live room; a room that records already is reported, not raised.

        :param conference_name: the room (case-sensitive).
        :param file_format: ``mp3`` or ``wav``.
        :param callback_url: where Vobiz may POST the result; delivery is not guaranteed.
        """
        if file_format not in api.FILE_FORMATS:
            raise VobizConfigError(f"file_format must be one of {api.FILE_FORMATS}, got {file_format!r}")
        request = api.start_recording(self.settings.auth_id, conference_name, file_format, callback_url)
        try:
            reply = self._call(request)
        except VobizClientError as err:
            # Only Vobiz's own words count: the room's name may contain "already" too.
            if err.status_code == 409 or "already" in (err.detail or "").lower():
                return RecordingStarted(conference_name, err.api_id, already_recording=True, message=str(err))
            raise
        data = reply.json_object(request.what) if reply.body.strip() else {}
        return RecordingStarted(
            conference_name,
            api.api_id_of(data),
            recording_id=_optional_text(data.get("recording_id")),
            url=_optional_text(data.get("url") or data.get("recording_url")),
            message=_optional_text(data.get("message")),
        )

    def stop_conference_recording(self, conference_name: str) -> RecordingStopped:
        """Stop a room's recording. Any 2xx is ``stopped``; an unknown or ended room, or a room with
        nothing recording (404, or the error some API versions send), is ``not_recording``.

        :param conference_name: the room (case-sensitive).
        """
        request = api.stop_recording(self.settings.auth_id, conference_name)
        try:
            reply = self._call(request)
        except (VobizNotFoundError, VobizClientError) as err:
            if err.status_code not in NOTHING_TO_STOP_STATUSES:
                raise
            return RecordingStopped(
                conference_name, StopStatus.NOT_RECORDING, err.status_code or 0, err.api_id, str(err)
            )
        data = reply.json(request.what) if reply.body.strip() else None
        return RecordingStopped(conference_name, StopStatus.STOPPED, reply.status, api.api_id_of(data))

    def list_conferences(self) -> list[str]:
        """Names of live rooms. Vobiz warns this can be empty while rooms are live."""
        request = api.list_conferences(self.settings.auth_id)
        return parse_conference_names(self._call(request).json_object(request.what))

    def get_conference(self, conference_name: str) -> dict[str, Any] | None:
        """A live room's details, or None for an unknown or ended room.

        Vobiz may answer ``{"error": "failed"}`` for a live room; that dict is returned as is.
        """
        request = api.get_conference(self.settings.auth_id, conference_name)
        try:
            return self._call(request).json_object(request.what)
        except VobizNotFoundError:
            return None

    # -- recordings ----------------------------------------------------------------------------

    def iter_recordings(self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any) -> Iterator[Recording]:
        """Every recording, page after page. Filters are sent; Vobiz may ignore them, so callers check."""
        offset: int | None = 0
        while offset is not None:
            request = api.list_recordings(self.settings.auth_id, list_params(filters, offset, page_size))
            page = parse_recording_page(self._call(request).json_object(request.what), offset)
            yield from page.recordings
            offset = page.next_offset

    def get_recording(self, recording_id: str) -> Recording:
        """One recording by id; :class:`VobizNotFoundError` if Vobiz does not know it (yet)."""
        request = api.get_recording(self.settings.auth_id, recording_id)
        return parse_single_recording(self._call(request).json_object(request.what))

    def find_conference_recording(
        self, conference_name: str, since: datetime | str, until: datetime | str | None = None
    ) -> RecordingSearch:
        """Look for the newest conference recording of ``conference_name`` added within ``[since, until]``.

        The result holds the match (or None) and what else was seen, for messages.
        """
        search = RecordingSearch(
            conference_name,
            parse_instant(since, field="since"),
            None if until is None else parse_instant(until, field="until"),
        )
        offset: int | None = 0
        filters = conference_filters(conference_name, search.since)
        while offset is not None:
            request = api.list_recordings(self.settings.auth_id, list_params(filters, offset, api.MAX_PAGE_SIZE))
            page = parse_recording_page(self._call(request).json_object(request.what), offset)
            offset = page.next_offset if search.add_page(page) else None
        return search

    def recording_file_ready(self, recording: Recording | str) -> bool:
        """Whether the file answers (HEAD, else a one-byte ranged GET), following redirects.

        404 means not yet; 401/403 raise.
        """
        url = recording.recording_url if isinstance(recording, Recording) else recording
        for request, headers in api.file_probes(url):
            for attempt in self.policy.retrying(request, self.log):
                with attempt:
                    # Streamed and closed unread: a server that ignores Range must not send us the file.
                    with self._open(request, url, headers=headers, stream=True) as response:
                        body = response.raw.read(2048, decode_content=True) if response.status_code >= 300 else b""
                        reply = ApiReply(response.status_code, _lower(response.headers), body, url)
                    ready = file_ready(request, reply)
            if ready is not None:
                return ready
        return False

    def download_recording_file(
        self,
        url: str,
        sink: BinaryIO,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> FileTransfer:
        """Stream the file at ``url`` into ``sink`` in chunks, resuming with ``Range`` after a drop.

        :param url: the recording's URL, exactly as Vobiz returned it.
        :param sink: a writable, seekable binary file, positioned at 0.
        :param chunk_size: bytes read per chunk; memory stays within a few chunks.
        :param on_progress: called with (bytes written, total or None) after each chunk.
        """
        request = api.download(url)
        transfer = ResumableTransfer(sink, request.what)
        try:
            for attempt in self.policy.retrying(request, self.log):
                with attempt:
                    # identity: Content-Length and Range count the bytes stored, not a compressed body.
                    headers = {"Accept-Encoding": "identity", **transfer.range_header()}
                    response = self._open(request, url, headers=headers, stream=True)
                    with response:
                        if response.status_code >= 300:
                            reply = ApiReply(
                                response.status_code, _lower(response.headers), response.content[:2048], url
                            )
                            raise_for_reply(request, reply)
                            raise VobizResponseError(f"{request.what}: unexpected status {response.status_code}")
                        transfer.begin(response.status_code, _lower(response.headers))
                        try:
                            for chunk in response.iter_content(chunk_size):
                                transfer.write(chunk)
                                if on_progress:
                                    on_progress(transfer.written, transfer.total)
                        except requests.RequestException as err:
                            raise transport_failure(request, err, sent=True) from None
                        transfer.finish()
        finally:
            transfer.close()  # stops the hashing thread, on errors too
        return FileTransfer(transfer.written, transfer.sha256, transfer.content_type, transfer.resumed)

    def test_connection(self) -> tuple[bool, str]:
        """A read-only request (list one recording); never changes anything, never shows the token."""
        try:
            self._call(api.account_check(self.settings.auth_id))
        except VobizError as err:
            return False, str(err)
        return True, f"Connected to Vobiz at {self.settings.base_url} as {self.settings.auth_id}"


def _never_sent(err: requests.RequestException) -> bool:
    """A connect failure means the request never left, so even a POST may be retried."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, ConnectTimeoutError)


def _lower(headers: Any) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def _optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
