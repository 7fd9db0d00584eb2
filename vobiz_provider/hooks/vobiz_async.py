"""VobizAsyncHook: the read-only half of the API for triggers, on one aiohttp session.

It shares URL building, parsing, response classification, the retry policy and credential
scoping with :class:`~vobiz_provider.hooks.vobiz.VobizHook`; only the transport differs. It
is not built on the http provider's ``HttpAsyncHook`` because that opens a session per call and
turns connection extras into headers; a trigger that waits for hours wants one session and
credentials checked on every redirect hop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from datetime import datetime
from types import TracebackType
from typing import Any

import aiohttp
from airflow.sdk.bases.hook import BaseHook
from yarl import URL

from vobiz_provider.exceptions import VobizResponseError
from vobiz_provider.hooks import api
from vobiz_provider.hooks.api import ApiReply, ApiRequest
from vobiz_provider.hooks.parsing import parse_recording_page, parse_single_recording
from vobiz_provider.hooks.policy import RetryPolicy, file_ready, raise_for_reply, transport_failure
from vobiz_provider.hooks.scoping import MAX_REDIRECTS, credentials_for, redirect_method, redirect_target
from vobiz_provider.hooks.search import RecordingSearch, conference_filters, list_params
from vobiz_provider.hooks.settings import VobizSettings
from vobiz_provider.instants import parse_instant
from vobiz_provider.models import Recording

# Characters of an already percent-encoded URL (RFC 3986); such a URL is sent exactly as written.
_ENCODED_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _wire_url(url: str) -> URL:
    """yarl re-quotes and resolves ``%2E%2E`` by default; a URL that is already encoded must stay as is."""
    return URL(url, encoded=_ENCODED_URL.fullmatch(url) is not None)


class VobizAsyncHook(BaseHook):
    """Async twin of ``VobizHook`` for triggers: the connection is looked up asynchronously and one
    ``aiohttp`` session serves every call until :meth:`close`.

    :param vobiz_conn_id: the Airflow connection id.
    :param timeout: seconds per request; overrides the connection's extra.
    :param max_retries: retry budget; overrides the connection's extra.
    :param retry_backoff: the first backoff in seconds, doubling per retry (with jitter).
    """

    conn_name_attr = "vobiz_conn_id"
    default_conn_name = "vobiz_default"
    conn_type = "vobiz"
    hook_name = "Vobiz (async)"

    def __init__(
        self,
        vobiz_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff: float = 1.0,
    ) -> None:
        super().__init__()
        self.vobiz_conn_id = vobiz_conn_id
        self._timeout = timeout
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._settings: VobizSettings | None = None
        self._policy: RetryPolicy | None = None
        self._session: aiohttp.ClientSession | None = None

    async def get_settings(self) -> VobizSettings:
        """The validated connection, looked up without blocking the event loop (once per hook)."""
        if self._settings is None:
            conn = await self.aget_connection(self.vobiz_conn_id)
            self._settings = VobizSettings.from_connection(conn, timeout=self._timeout, max_retries=self._max_retries)
            # Built once with the settings: a trigger polls for hours through this hook.
            self._policy = RetryPolicy(max_retries=self._settings.max_retries, backoff=self._retry_backoff)
        return self._settings

    @property
    def policy(self) -> RetryPolicy:
        if self._policy is None:
            raise RuntimeError("get_settings() must be awaited first")
        return self._policy

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            settings = await self.get_settings()
            self._session = aiohttp.ClientSession(
                headers=api.SESSION_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=settings.timeout, sock_read=settings.timeout),
                # Keep-alive pool: a waiting trigger reuses its TCP connection poll after poll.
                connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=120),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> VobizAsyncHook:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- transport ---------------------------------------------------------------------------

    async def _exchange(
        self, request: ApiRequest, url: str, headers: dict[str, str] | None = None, *, read_ok_body: bool = True
    ) -> ApiReply:
        """One request with redirects followed by hand (credentials re-checked per hop), read fully."""
        session = await self._get_session()
        settings = await self.get_settings()
        method, origin = request.method, url
        params: dict[str, Any] | None = {k: str(v) for k, v in request.params.items()} or None
        body = request.body
        for _ in range(MAX_REDIRECTS + 1):
            hop_headers = {**(headers or {}), **credentials_for(settings, url, origin=origin)}
            try:
                async with session.request(
                    method, _wire_url(url), params=params, json=body, headers=hop_headers, allow_redirects=False
                ) as response:
                    target = redirect_target(url, response.status, response.headers.get("Location"))
                    if target is None:
                        wanted = read_ok_body or response.status >= 300
                        # A probe reads no file body; an error body is read only in part.
                        data = await response.content.read(-1 if read_ok_body else 2048) if wanted else b""
                        lowered = {key.lower(): value for key, value in response.headers.items()}
                        return ApiReply(response.status, lowered, data, str(response.url))
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as err:
                raise transport_failure(request, err, sent=False) from None
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                raise transport_failure(request, err, sent=True) from None
            method = redirect_method(method, response.status)
            params, url = None, target
            if method in ("GET", "HEAD"):
                body = None
        raise VobizResponseError(f"{request.what}: more than {MAX_REDIRECTS} redirects")

    async def _call(self, request: ApiRequest) -> ApiReply:
        settings = await self.get_settings()
        url = settings.base_url + request.path
        async for attempt in self.policy.async_retrying(request, self.log):
            with attempt:
                reply = await self._exchange(request, url)
                raise_for_reply(request, reply)
        return reply

    # -- recordings ----------------------------------------------------------------------------

    async def iter_recordings(
        self, *, page_size: int = api.MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncGenerator[Recording, None]:
        """Every recording, page after page. Filters are sent; Vobiz may ignore them, so callers check."""
        settings = await self.get_settings()
        offset: int | None = 0
        while offset is not None:
            request = api.list_recordings(settings.auth_id, list_params(filters, offset, page_size))
            page = parse_recording_page((await self._call(request)).json_object(request.what), offset)
            for recording in page.recordings:
                yield recording
            offset = page.next_offset

    async def get_recording(self, recording_id: str) -> Recording:
        """One recording by id; :class:`VobizNotFoundError` if Vobiz does not know it (yet)."""
        settings = await self.get_settings()
        request = api.get_recording(settings.auth_id, recording_id)
        return parse_single_recording((await self._call(request)).json_object(request.what))

    async def find_conference_recording(
        self, conference_name: str, since: datetime | str, until: datetime | str | None = None
    ) -> RecordingSearch:
        """The newest conference recording of ``conference_name`` within ``[since, until]``, with what was seen."""
        settings = await self.get_settings()
        search = RecordingSearch(
            conference_name,
            parse_instant(since, field="since"),
            None if until is None else parse_instant(until, field="until"),
        )
        filters = conference_filters(conference_name, search.since)
        offset: int | None = 0
        while offset is not None:
            request = api.list_recordings(settings.auth_id, list_params(filters, offset, api.MAX_PAGE_SIZE))
            page = parse_recording_page((await self._call(request)).json_object(request.what), offset)
            offset = page.next_offset if search.add_page(page) else None
        return search

    async def recording_file_ready(self, recording: Recording | str) -> bool:
        """Whether the file answers (HEAD, else a one-byte ranged GET); 404 means not yet."""
        url = recording.recording_url if isinstance(recording, Recording) else recording
        await self.get_settings()
        for request, headers in api.file_probes(url):
            async for attempt in self.policy.async_retrying(request, self.log):
                with attempt:
                    ready = file_ready(request, await self._exchange(request, url, headers, read_ok_body=False))
            if ready is not None:
                return ready
        return False
