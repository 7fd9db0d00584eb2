"""One policy for both hooks: where the credentials may go, how a redirect is followed, what may
be retried and how long to wait. Plain functions and values; the hooks only do the I/O.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import tenacity

from vobiz_provider.constants import MAX_RETRY_AFTER_S
from vobiz_provider.exceptions import (
    VobizConnectionError,
    VobizError,
    VobizOutcomeUnknownError,
    VobizRateLimitError,
    VobizResponseError,
    VobizServerError,
    VobizUnavailableError,
)
from vobiz_provider.hooks.api import ApiRequest, redact_queries
from vobiz_provider.hooks.settings import VobizSettings
from vobiz_provider.log import Log

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
    :data:`~vobiz_provider.constants.MAX_RETRY_AFTER_S` (a longer one is not retried, see :func:`is_retryable`).

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
