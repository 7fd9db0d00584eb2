"""The Vobiz connection and the rules of sending on it, for both hooks, without I/O: its settings
read and checked once (:class:`VobizSettings`), where the credentials may go, how a redirect is
followed, and what may be retried and when. See docs/architecture.md.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import tenacity

from vobiz_provider.exceptions import (
    VobizConfigError,
    VobizConnectionError,
    VobizError,
    VobizOutcomeUnknownError,
    VobizRateLimitError,
    VobizResponseError,
    VobizServerError,
    VobizUnavailableError,
)
from vobiz_provider.hooks.api import MAX_RETRY_AFTER_S, ApiRequest, redact_queries
from vobiz_provider.log import Log

DEFAULT_BASE_URL = "https://api.vobiz.ai"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_AUTH_HOSTS = ("*.vobiz.ai",)
# The triggerer's pool (one per connection, shared by every wait on it): enough connections per host for
# a sweep's probes at a real network's latency (docs/performance.md, "Latency"), a total above two hosts'
# worth so that a slow media host cannot take the API host's connections, and a bounded wait for one.
DEFAULT_MAX_CONNECTIONS_PER_HOST = 32
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_POOL_TIMEOUT = 10.0
# Extras the connection form shows as fields. The pool's extras (max_connections_per_host,
# max_connections, pool_timeout) are JSON only; no extra is ever sent as a header.
PROVIDER_EXTRAS = frozenset({"timeout", "max_retries", "auth_hosts", "proxy"})


class ConnectionLike(Protocol):
    """The parts of an Airflow ``Connection`` the provider reads (sync and async lookups agree)."""

    @property
    def conn_id(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def login(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def extra_dejson(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class VobizSettings:
    """Everything the transports need from the connection.

    :param conn_id: the Airflow connection id, for messages.
    :param base_url: scheme, host and optional port of the API, no trailing slash.
    :param auth_id: the Auth ID (``MA_...``/``SA_...``).
    :param auth_token: the Auth Token; never put in a message or a log line.
    :param timeout: seconds per request, connect and read.
    :param max_retries: retries allowed for retryable failures.
    :param auth_hosts: further host patterns that may receive the credentials.
    :param proxy: an HTTP(S) proxy URL for every request of the connection (extra ``proxy``);
        None: the environment's ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` decide.
    :param max_connections_per_host: the async hook's open connections to one host (scheme, host
        and port), so a slow host cannot take every connection of the pool.
    :param max_connections: the async hook's open connections in all.
    :param pool_timeout: seconds an async request waits to get a connection (a free one from the
        pool, or a new one opened); at most ``timeout``. Past it the request fails as a transport failure.
    """

    conn_id: str
    base_url: str
    auth_id: str
    auth_token: str
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    auth_hosts: tuple[str, ...] = DEFAULT_AUTH_HOSTS
    proxy: str | None = None
    max_connections_per_host: int = DEFAULT_MAX_CONNECTIONS_PER_HOST
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    pool_timeout: float = DEFAULT_POOL_TIMEOUT

    def __repr__(self) -> str:
        return f"VobizSettings(conn_id={self.conn_id!r}, base_url={self.base_url!r}, auth_id={self.auth_id!r})"

    @property
    def api_host(self) -> str:
        return (urlsplit(self.base_url).hostname or "").lower()

    @property
    def proxies(self) -> dict[str, str] | None:
        """``requests``' proxies for the ``proxy`` extra (None: the environment's)."""
        return {"http": self.proxy, "https": self.proxy} if self.proxy else None

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"X-Auth-ID": self.auth_id, "X-Auth-Token": self.auth_token}

    @classmethod
    def from_connection(
        cls,
        conn: ConnectionLike,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> VobizSettings:
        """Validate ``conn``; every message names the connection id and the field at fault.

        ``extra``: the extras when already read (the triggerer reads them with ``aextra_dejson()``).
        """
        conn_id = conn.conn_id or "<unnamed>"

        def fail(field: str, problem: str) -> VobizConfigError:
            return VobizConfigError(f"Vobiz connection {conn_id!r}: {field} {problem}")

        auth_id = (conn.login or "").strip()
        token = conn.password or ""
        if not auth_id:
            raise fail("login", "(Auth ID) is empty; set it to your MA_... or SA_... account id")
        if not token:
            raise fail("password", "(Auth Token) is empty")
        if extra is None:
            extra = conn.extra_dejson
        if not isinstance(extra, Mapping):
            raise fail("extra", "must be a JSON object")
        per_host = _whole(
            extra.get("max_connections_per_host"),
            "max_connections_per_host",
            DEFAULT_MAX_CONNECTIONS_PER_HOST,
            1,
            1000,
            fail,
        )
        in_all = _whole(extra.get("max_connections"), "max_connections", DEFAULT_MAX_CONNECTIONS, 1, 1000, fail)
        if in_all < per_host:
            raise fail("extra 'max_connections'", f"({in_all}) must be at least max_connections_per_host ({per_host})")
        return cls(
            conn_id=conn_id,
            base_url=_base_url(conn.host, conn.port, fail),
            auth_id=auth_id,
            auth_token=token,
            timeout=_seconds(extra.get("timeout") if timeout is None else timeout, "timeout", DEFAULT_TIMEOUT, fail),
            max_retries=_whole(
                extra.get("max_retries") if max_retries is None else max_retries,
                "max_retries",
                DEFAULT_MAX_RETRIES,
                0,
                100,
                fail,
            ),
            auth_hosts=_auth_hosts(extra.get("auth_hosts"), fail),
            proxy=_proxy(extra.get("proxy"), fail),
            max_connections_per_host=per_host,
            max_connections=in_all,
            pool_timeout=_seconds(extra.get("pool_timeout"), "pool_timeout", DEFAULT_POOL_TIMEOUT, fail),
        )


@dataclass(frozen=True)
class HookOptions:
    """What a hook's caller sets over the connection's extras.

    :param timeout: seconds per request; overrides the connection's extra.
    :param max_retries: retry budget; overrides the connection's extra.
    :param retry_backoff: the first backoff in seconds, doubling per retry (with jitter).
    """

    timeout: float | None = None
    max_retries: int | None = None
    retry_backoff: float = 1.0


class _Fail(Protocol):
    def __call__(self, field: str, problem: str) -> VobizConfigError: ...


def _base_url(host: str | None, port: int | None, fail: _Fail) -> str:
    raw = (host or "").strip() or DEFAULT_BASE_URL
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail("host", f"is not an http(s) URL or host name: {host!r}")
    try:
        explicit_port = parts.port
    except ValueError:
        raise fail("host", f"has an invalid port: {host!r}") from None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if port and explicit_port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


def _seconds(value: Any, name: str, default: float, fail: _Fail) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise fail(f"extra {name!r}", f"must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not 0 < seconds <= 3600:
        raise fail(f"extra {name!r}", f"must be between 0 and 3600 seconds, got {value!r}")
    return seconds


def _whole(value: Any, name: str, default: int, least: int, most: int, fail: _Fail) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise fail(f"extra {name!r}", f"must be a whole number, got {value!r}")
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise fail(f"extra {name!r}", f"must be a whole number, got {value!r}") from None
    if not least <= count <= most:
        raise fail(f"extra {name!r}", f"must be between {least} and {most}, got {value!r}")
    return count


def _auth_hosts(value: Any, fail: _Fail) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_AUTH_HOSTS
    if isinstance(value, str):
        # The UI may store a comma separated string; a JSON list is the documented form.
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise fail("extra 'auth_hosts'", f"must be a list of host names, got {value!r}")
    hosts = []
    for item in value:
        # "[::1]" as written in URLs; urlsplit().hostname gives the bare "::1" it is matched against.
        host = item.strip().lower().removeprefix("[").removesuffix("]")
        if not host or "/" in host or "://" in host or "@" in host or host.count("*") > 1:
            raise fail("extra 'auth_hosts'", f"has an entry that is not a host name or *.pattern: {item!r}")
        if "*" in host and not host.startswith("*."):
            raise fail("extra 'auth_hosts'", f"wildcards are only allowed as a leading '*.': {item!r}")
        hosts.append(host)
    return tuple(hosts)


def _proxy(value: Any, fail: _Fail) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # Not echoed: a proxy URL may carry a password.
        raise fail("extra 'proxy'", "must be an http:// or https:// proxy URL, e.g. http://proxy.internal:3128")
    return value


# -- sending: credentials, redirects, retries --------------------------------------------------------

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})

# -- credential scoping ---------------------------------------------------------------------------


def host_allowed(settings: VobizSettings, url: str) -> bool:
    """Whether ``url``'s host (port ignored) is the API host or matches ``auth_hosts``."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return False
    if host == settings.api_host:
        return True
    for pattern in settings.auth_hosts:
        # "*.example.com" matches any subdomain depth, not the bare domain.
        if (pattern.startswith("*.") and host.endswith(pattern[1:])) or host == pattern:
            return True
    return False


def credentials_for(settings: VobizSettings, url: str, *, origin: str | None = None) -> dict[str, str]:
    """The auth headers for a request to ``url``: none for a foreign host, and none over plain
    ``http://`` when the API is reached over ``https://`` or ``origin`` (where the request began) was
    ``https://``: a downgrade, even to an allowed host."""
    if not host_allowed(settings, url):
        return {}
    if urlsplit(url).scheme != "https" and "https" in (
        urlsplit(settings.base_url).scheme,
        urlsplit(origin or "").scheme,
    ):
        return {}
    return settings.auth_headers


# -- redirects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hop:
    """One leg of a request: what is sent where, credentials included only where allowed.

    :param method: the HTTP method of this leg.
    :param url: where it goes.
    :param params: query parameters (the first leg only: a redirect's Location carries its own).
    :param body: the JSON body, dropped when a redirect turns the method into GET.
    :param headers: the request's headers and, where allowed, the credentials.
    :param origin: the request's first URL, against which a downgrade is judged.
    :param number: 0 for the first leg, then one more per redirect followed.
    """

    method: str
    url: str
    params: dict[str, str] | None
    body: Mapping[str, Any] | None
    headers: dict[str, str] = field(repr=False)
    origin: str
    number: int = 0


def first_hop(settings: VobizSettings, request: ApiRequest, extra_headers: Mapping[str, str] | None = None) -> Hop:
    """The first leg of ``request``, with ``extra_headers`` (e.g. a ``Range``) on top of its own."""
    url = request.url(settings.base_url)
    headers = {**request.headers, **(extra_headers or {})}
    params = {key: str(value) for key, value in request.params.items()} or None
    return Hop(
        request.method,
        url,
        params,
        request.body,
        {**headers, **credentials_for(settings, url, origin=url)},
        origin=url,
    )


def next_hop(settings: VobizSettings, request: ApiRequest, hop: Hop, status: int, location: str | None) -> Hop | None:
    """The leg a redirect answer leads to, or None when the answer is not a followable redirect.

    303 turns every method into GET; 307/308 keep it; 301/302 keep HEAD and GET (as browsers do).
    The credentials are decided again for the new host.
    """
    if status not in REDIRECT_STATUSES or not location:
        return None
    if hop.number >= MAX_REDIRECTS:
        raise VobizResponseError(f"{request.description}: more than {MAX_REDIRECTS} redirects")
    url = urljoin(hop.url, location)
    method = "GET" if status == 303 or (status in (301, 302) and hop.method not in ("GET", "HEAD")) else hop.method
    headers = {key: value for key, value in hop.headers.items() if key not in settings.auth_headers}
    return replace(
        hop,
        method=method,
        url=url,
        params=None,
        body=None if method in ("GET", "HEAD") else hop.body,
        headers={**headers, **credentials_for(settings, url, origin=hop.origin)},
        number=hop.number + 1,
    )


# -- failures and retries --------------------------------------------------------------------------


def transport_failure(request: ApiRequest, error: BaseException, *, sent: bool) -> VobizError:
    """The typed error for a request that got no complete answer."""
    # requests' and aiohttp's texts quote the URL, a presigned query (its signature) included.
    reason = redact_queries(f"{type(error).__name__}: {error}")
    if sent and not request.idempotent:
        return VobizOutcomeUnknownError(
            f"{request.description}: no answer after the request was sent ({reason}); it is not replayed, "
            "check the state in Vobiz"
        )
    return VobizConnectionError(f"{request.description}: {reason}", sent=sent)


def is_retryable(request: ApiRequest, error: BaseException) -> bool:
    """429 and connection failures always (when safe); 500/502/503/504 only for idempotent requests."""
    if isinstance(error, VobizRateLimitError):
        return error.retry_after is None or error.retry_after <= MAX_RETRY_AFTER_S
    if isinstance(error, VobizConnectionError):
        return request.idempotent or not error.sent
    if isinstance(error, VobizOutcomeUnknownError):
        return False
    if isinstance(error, VobizUnavailableError):
        return request.idempotent
    if isinstance(error, VobizServerError):
        return request.idempotent and error.status_code in RETRYABLE_SERVER_STATUSES
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter up to ``max_wait``; ``Retry-After`` honoured up to
    :data:`~vobiz_provider.hooks.api.MAX_RETRY_AFTER_S` (a longer one is not retried, see :func:`is_retryable`).

    :param max_retries: retries after the first attempt.
    :param backoff: the first backoff in seconds; it doubles each retry.
    :param max_wait: the longest backoff of our own choosing.
    """

    max_retries: int
    backoff: float = 1.0
    max_wait: float = 60.0

    def wait_before(self, attempt_number: int, error: BaseException | None) -> float:
        """Seconds to wait before the retry after attempt ``attempt_number`` failed with ``error``."""
        asked = getattr(error, "retry_after", None)
        if asked is not None:
            return min(float(asked), MAX_RETRY_AFTER_S)
        # Doubling, plus up to one first backoff of jitter so many workers do not retry in step.
        exponential = self.backoff * 2 ** (attempt_number - 1)
        return min(exponential + random.uniform(0, self.backoff), self.max_wait)

    def _tenacity_arguments(self, request: ApiRequest, log: Log) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            return self.wait_before(state.attempt_number, state.outcome.exception() if state.outcome else None)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            asked = getattr(error, "retry_after", None)
            log.warning(
                "Vobiz: %s; retry %d of %d in %.2f s%s",
                error,
                state.attempt_number,
                self.max_retries,
                state.upcoming_sleep,
                "" if asked is None else f" (Vobiz asked to wait {asked:g} s)",
            )

        return {
            "retry": tenacity.retry_if_exception(lambda error: is_retryable(request, error)),
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": wait,
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def retrying(self, request: ApiRequest, log: Log) -> tenacity.Retrying:
        """``for attempt in policy.retrying(...): with attempt: ...`` in the sync hook."""
        return tenacity.Retrying(**self._tenacity_arguments(request, log))

    def async_retrying(self, request: ApiRequest, log: Log) -> SingleAttempt | tenacity.AsyncRetrying:
        """``async for attempt in policy.async_retrying(...): with attempt: ...`` in the async hook."""
        if self.max_retries == 0:
            # A trigger retries in its own loop: one plain attempt, without tenacity's setup on every
            # request (a sixth of a trigger poll's CPU, benchmarks/trigger_cpu.py).
            return SingleAttempt()
        return tenacity.AsyncRetrying(**self._tenacity_arguments(request, log))


class SingleAttempt:
    """``async for attempt in SingleAttempt(): with attempt: ...`` runs the block once; errors pass through."""

    def __init__(self) -> None:
        self._done = False

    def __aiter__(self) -> SingleAttempt:
        return self

    async def __anext__(self) -> AbstractContextManager[None]:
        if self._done:
            raise StopAsyncIteration
        self._done = True
        return nullcontext()
