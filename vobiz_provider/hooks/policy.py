"""One policy for both transports: what an answer means, what may be retried, and how long to wait."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import tenacity

from vobiz_provider.exceptions import (
    VobizAuthError,
    VobizClientError,
    VobizConnectionError,
    VobizError,
    VobizNotFoundError,
    VobizOutcomeUnknownError,
    VobizRateLimitError,
    VobizServerError,
)
from vobiz_provider.hooks.api import ApiReply, ApiRequest, api_id_of


class WarningLog(Protocol):
    """Any logger: the stdlib's, Airflow's structlog-based one."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def error_text(reply: ApiReply) -> str:
    """Vobiz's own words from either error envelope, or a short body snippet; never whole bodies."""
    data = _json_or_none(reply.body)
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


def raise_for_reply(request: ApiRequest, reply: ApiReply) -> None:
    """Raise the typed error an answer of 400 or more stands for; a 2xx/3xx passes."""
    status = reply.status
    if status < 400:
        return
    body = _json_or_none(reply.body)
    api_id = api_id_of(body)
    said = error_text(reply) or None
    # Parentheses, not brackets: Airflow's CLI prints messages through rich, which eats "[...]".
    message = f"{request.what}: Vobiz answered {status}" + (f" ({said})" if said else "")
    if api_id:
        message += f", api_id {api_id}"
    context: dict[str, Any] = {"status_code": status, "api_id": api_id, "detail": said}
    if status in (401, 403):
        hint = ". Check the Auth ID and Token of the connection (Vobiz also answers 401 for a wrongly cased path)"
        raise VobizAuthError(message + hint, **context)
    if status == 404:
        raise VobizNotFoundError(message, **context)
    if status == 429:
        raise VobizRateLimitError(message, retry_after=retry_after_seconds(reply.headers, body), **context)
    if status >= 500:
        if not request.idempotent:
            raise VobizOutcomeUnknownError(
                message + "; the request may have taken effect, so it is not replayed: check the state in Vobiz",
                **context,
            )
        raise VobizServerError(message, retry_after=retry_after_seconds(reply.headers, body), **context)
    raise VobizClientError(message, **context)


def file_ready(request: ApiRequest, reply: ApiReply) -> bool | None:
    """A file probe's verdict: True when it answers, False while it 404s, None to try the next probe."""
    if reply.status in (200, 206):
        return True
    if reply.status in (404, 410, 416):
        return False
    if request.method == "HEAD" and reply.status in (405, 501):
        return None
    raise_for_reply(request, reply)
    return None


def transport_failure(request: ApiRequest, error: BaseException, *, sent: bool) -> VobizError:
    """The typed error for a request that got no complete answer."""
    reason = f"{type(error).__name__}: {error}"
    if sent and not request.idempotent:
        return VobizOutcomeUnknownError(
            f"{request.what}: no answer after the request was sent ({reason}); it is not replayed, "
            "check the state in Vobiz"
        )
    return VobizConnectionError(f"{request.what}: {reason}", sent=sent)


def is_retryable(request: ApiRequest, error: BaseException) -> bool:
    """429 and connection failures always (when safe); 500/502/503/504 only for idempotent requests."""
    if isinstance(error, VobizRateLimitError):
        return True
    if isinstance(error, VobizConnectionError):
        return request.idempotent or not error.sent
    if isinstance(error, VobizOutcomeUnknownError):
        return False
    if isinstance(error, VobizServerError):
        return request.idempotent and error.status_code in RETRYABLE_SERVER_STATUSES
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, ``Retry-After`` honoured up to ``max_wait``.

    :param max_retries: retries after the first attempt.
    :param backoff: the first backoff in seconds; it doubles each retry.
    :param max_wait: the longest single wait, ``Retry-After`` included.
    """

    max_retries: int
    backoff: float = 1.0
    max_wait: float = 60.0

    def _kwargs(self, request: ApiRequest, log: WarningLog) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            asked = getattr(error, "retry_after", None)
            if asked is not None:
                return min(float(asked), self.max_wait)
            # Doubling, plus up to one first backoff of jitter so many workers do not retry in step.
            exponential = self.backoff * 2 ** (state.attempt_number - 1)
            return min(exponential + random.uniform(0, self.backoff), self.max_wait)

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

    def retrying(self, request: ApiRequest, log: WarningLog) -> tenacity.Retrying:
        return tenacity.Retrying(**self._kwargs(request, log))

    def async_retrying(self, request: ApiRequest, log: WarningLog) -> OneAttempt | tenacity.AsyncRetrying:
        if self.max_retries == 0:
            # A trigger retries in its own loop: one plain attempt, without tenacity's setup on every
            # request (a sixth of a trigger poll's CPU, benchmarks/trigger_cpu.py).
            return OneAttempt()
        return tenacity.AsyncRetrying(**self._kwargs(request, log))


class OneAttempt:
    """``async for attempt in OneAttempt(): with attempt: ...`` runs the block once; errors pass through."""

    def __init__(self) -> None:
        self._done = False

    def __aiter__(self) -> OneAttempt:
        return self

    async def __anext__(self) -> AbstractContextManager[None]:
        if self._done:
            raise StopAsyncIteration
        self._done = True
        return nullcontext()
