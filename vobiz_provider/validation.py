"""Checks of task inputs, run after templates render and before any request is sent.

The one home of every input check (names, choices, URLs, instants, seconds, pacing, rendered
nulls). Light (``airflow.sdk``, the standard library, the provider's exceptions and instants):
operators, sensors and triggers may all use it. Each check names the parameter as the DAG author
wrote it and says what is wrong with the value.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.instants import parse_instant
from vobiz_provider.version_compat import AirflowFailException

# What Jinja makes of a None (or a missing value rendered by a lenient template): never a real name.
_RENDERED_NONE = "None"
# What a template renders for an unset value: a number argument takes them as "not given".
_RENDERED_NULLS = ("", _RENDERED_NONE, "null")


def _refuse_undefined(value: Any, param: str) -> None:
    """A DAG rendering templates as native objects hands over Jinja's Undefined for a missing name."""
    from jinja2 import Undefined  # Airflow's templating dependency; only needed when a task runs

    if isinstance(value, Undefined):
        why = getattr(value, "_undefined_message", "") or "undefined"
        raise VobizConfigError(f"{param} rendered to an undefined value: {why}")


def require_name(value: Any, param: str) -> str:
    """Return ``value`` if it is a usable name: a string with something other than whitespace.

    The string ``"None"`` is refused too: it is what ``{{ params.x }}`` renders for a null value.

    :param value: the rendered value.
    :param param: the parameter's name, for the message.
    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    if value is None:
        raise VobizConfigError(f"{param} is None; it must name something (did a template render a missing value?)")
    _refuse_undefined(value, param)
    if not isinstance(value, str):
        raise VobizConfigError(f"{param} must be a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise VobizConfigError(f"{param} must not be empty or only whitespace, got {value!r}")
    if value.strip() == _RENDERED_NONE:
        raise VobizConfigError(f"{param} rendered to {value!r}: a template turned a null or missing value into text")
    return value


def optional_name(value: Any, param: str) -> str | None:
    """None and "" mean "not given"; anything else must be a name (:func:`require_name`)."""
    if value is None or value == "":
        return None
    return require_name(value, param)


def optional_instant(value: Any, param: str) -> datetime | None:
    """None and "" mean "not given"; anything else must be an instant (aware UTC is returned).

    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, field=param)
    except ValueError as err:
        raise VobizConfigError(str(err)) from None


def require_epoch(value: Any, param: str) -> float:
    """Seconds since the epoch, from a number or an ISO-8601 instant.

    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    if isinstance(value, str):
        return parse_instant(value, field=param).timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise VobizConfigError(f"{param} must be seconds since the epoch or an ISO-8601 instant, got {value!r}")
    return float(value)


def seconds_argument(value: Any, param: str, *, positive: bool = False) -> float | None:
    """A number of seconds from a number or a rendered template; None (or a rendered null) for unset."""
    if value is None or (isinstance(value, str) and value.strip() in _RENDERED_NULLS):
        return None
    if isinstance(value, bool):
        raise VobizConfigError(f"{param} must be a number of seconds, got {value!r}")
    try:
        seconds = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise VobizConfigError(f"{param} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        bound = "greater than 0" if positive else "0 or more"
        raise VobizConfigError(f"{param} must be {bound} seconds, got {value!r}")
    return seconds


def as_duration(value: Any, param: str) -> timedelta | None:
    """A positive ``timedelta`` from a timedelta or a number of seconds; None stays None.

    :raises VobizConfigError: naming ``param``, for anything else.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        duration = timedelta(seconds=value)
    else:
        raise VobizConfigError(f"{param} must be a timedelta or seconds, got {type(value).__name__} {value!r}")
    if duration <= timedelta(0):
        raise VobizConfigError(f"{param} must be positive, got {value!r}")
    return duration


def check_pacing(
    interval: float,
    backoff: float,
    max_interval: float | None,
    max_failures: int,
    *,
    interval_param: str = "poll_interval",
    max_interval_param: str = "max_poll_interval",
) -> None:
    """Refuse pacing values that would poll in a tight loop or never give up, naming the parameter
    as the caller's author wrote it (a sensor's ``poke_interval`` and ``max_wait``)."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
        raise VobizConfigError(f"{interval_param} must be a number of seconds > 0, got {interval!r}")
    if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not backoff >= 1:
        raise VobizConfigError(f"poll_backoff must be a factor >= 1, got {backoff!r}")
    if max_interval is not None and (
        isinstance(max_interval, bool) or not isinstance(max_interval, (int, float)) or not max_interval > 0
    ):
        raise VobizConfigError(f"{max_interval_param} must be a number of seconds > 0 or None, got {max_interval!r}")
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
        raise VobizConfigError(f"max_consecutive_failures must be an integer >= 1, got {max_failures!r}")


def require_choice(value: Any, param: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (exactly, case included).

    :raises VobizConfigError: naming ``param``, the value and the choices.
    """
    _refuse_undefined(value, param)
    if not isinstance(value, str) or value not in choices:
        raise VobizConfigError(f"{param} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def require_http_url(value: Any, param: str, *, optional: bool = False) -> str | None:
    """Return ``value`` if it is an absolute ``http``/``https`` URL with a host.

    :param optional: accept None or an empty string, returned as None.
    :raises VobizConfigError: naming ``param`` and the value's problem.
    """
    _refuse_undefined(value, param)
    if optional and (value is None or value == ""):
        return None
    if not isinstance(value, str):
        raise VobizConfigError(f"{param} must be an http(s) URL string, got {type(value).__name__} {value!r}")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as err:
        raise VobizConfigError(f"{param} is not a valid URL: {value!r} ({err})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise VobizConfigError(f"{param} must be an http or https URL, got {value!r}")
    if not parts.hostname:
        raise VobizConfigError(f"{param} must name a host, got {value!r}")
    return value.strip()


def parse_mapping_text(text: str, param: str) -> Any:
    """A dict rendered as text: JSON, or Python's repr (what a template renders when native rendering is off).

    :raises VobizConfigError: naming ``param`` when the text is neither.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise VobizConfigError(
            f"{param} looks like a dict but is neither JSON nor a Python literal: {text[:80]!r}"
        ) from None


@contextmanager
def invalid_input_fails_task() -> Iterator[None]:
    """Turn a :class:`VobizConfigError` into :class:`AirflowFailException`: retrying cannot fix bad input."""
    try:
        yield
    except VobizConfigError as err:
        raise AirflowFailException(str(err)) from err
