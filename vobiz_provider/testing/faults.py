"""Forced answers ("faults") queued per route key, and the responses they turn into."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vobiz_provider.testing.render import error_body

if TYPE_CHECKING:
    from vobiz_provider.testing.settings import FakeSettings

# Truncated JSON: what a client sees when a proxy cuts a 200 answer short.
MALFORMED_JSON = b'{"api_id": '

_DEFAULT_MESSAGES = {
    400: "bad request",
    401: "authentication failed",
    403: "forbidden",
    404: "not found",
    409: "conflict",
    422: "validation error",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


@dataclass
class Fault:
    """One forced answer.

    :param status: the status to answer.
    :param body: dict (sent as JSON), str (text), bytes (as is), or None for the error envelope
        of the current ``error_envelope`` setting (empty for statuses without a body).
    :param headers: extra response headers.
    :param retry_after: value of a ``Retry-After`` header (seconds or an HTTP-date string).
    :param malformed: answer 200 with a body that is not valid JSON, ignoring the rest.
    :param reset: close the connection without an answer (a reset), ignoring the rest.
    :param after_serving: serve the request first (its effects happen), then send this answer
        instead of the real one, as a proxy that mangles answers on their way back would.
    :param delay_s: a one-off slow answer: wait this long, then answer as the route would (the
        status and body are ignored).
    """

    status: int
    body: bytes | str | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | str | None = None
    malformed: bool = False
    reset: bool = False
    after_serving: bool = False
    delay_s: float = 0.0


def retry_after_value(value: float | str) -> str:
    if isinstance(value, str):
        return value
    # "2" rather than "2.0": integer seconds is what RFC 9110 allows; fractions are for fast tests.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def fault_response(fault: Fault, settings: FakeSettings) -> web.Response:
    """Turn a queued fault into the response sent instead of the route's real answer."""
    if fault.malformed:
        return web.Response(status=200, body=MALFORMED_JSON, content_type="application/json")
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = retry_after_value(fault.retry_after)
    body: bytes
    content_type: str | None
    if fault.status in (204, 304) or (fault.status < 200 and fault.body is None):
        body, content_type = b"", None
    elif fault.body is None:
        message = _DEFAULT_MESSAGES.get(fault.status, f"error {fault.status}")
        envelope = error_body(settings, fault.status, message, retry_after=fault.retry_after)
        body, content_type = json.dumps(envelope).encode(), "application/json"
    elif isinstance(fault.body, dict):
        body, content_type = json.dumps(fault.body).encode(), "application/json"
    elif isinstance(fault.body, str):
        body, content_type = fault.body.encode(), "text/plain; charset=utf-8"
    else:
        body, content_type = fault.body, "application/octet-stream"
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(fault.headers)  # the caller's headers win, Content-Type included
    return web.Response(status=fault.status, body=body, headers=headers)


def error_response(settings: FakeSettings, status: int, message: str) -> web.Response:
    """An error answer in the envelope of ``settings.error_envelope``."""
    return web.json_response(error_body(settings, status, message), status=status)
