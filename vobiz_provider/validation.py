"""A run's inputs: checks of task arguments (each naming the argument), instants, the meeting window.

Light: DAG files import it at every parse (docs/meeting-window.md).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.version_compat import AirflowFailException

DEFAULT_CONN_ID = "vobiz_default"
FILE_FORMATS = ("mp3", "wav")  # the start request's ``file_format``
DEFAULT_CHUNK_SIZE = 1024 * 1024

# What a template renders for a None or an unset value: never a real name.
_RENDERED_NONE = "None"
_RENDERED_NULLS = ("", _RENDERED_NONE, "null")

# Vobiz sends "2025-11-06 13:49:10.751756+00:00", "2026-05-07 09:45:35.79276+05:30" and docs show
# "2026-05-07T04:15:35Z": a space or T, 0-9 fraction digits, Z, an offset or none (then UTC).
_INSTANT = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)


def parse_instant(value: str | datetime, *, field: str = "time") -> datetime:
    """``value`` (ISO-8601-like text or a datetime) as aware UTC; no offset means UTC; a ValueError names ``field``."""
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO-8601 string or a datetime, got {type(value).__name__}")
    match = _INSTANT.match(value)
    if not match:
        raise ValueError(f"{field} is not an ISO-8601 time: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz)
    except ValueError as err:
        raise ValueError(f"{field} is not a valid time: {value!r} ({err})") from None
    return dt.astimezone(timezone.utc)


def isoformat_utc(dt: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, the form the provider puts in XCom and messages."""
    text = dt.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def window_words(since: datetime, until: datetime | None) -> str:
    """ "since <since>" or "between <since> and <until>", for messages."""
    if until is None:
        return f"since {isoformat_utc(since)}"
    return f"between {isoformat_utc(since)} and {isoformat_utc(until)}"


def _refuse_undefined(value: Any, param: str) -> None:
    """A DAG rendering templates as native objects hands over Jinja's Undefined for a missing name."""
    from jinja2 import Undefined  # Airflow's templating dependency; only needed when a task runs

    if isinstance(value, Undefined):
        why = getattr(value, "_undefined_message", "") or "undefined"
        raise VobizConfigError(f"{param} rendered to an undefined value: {why}")


def require_name(value: Any, param: str) -> str:
    """``value`` if it is a usable name: a non-blank string, not ``"None"`` (a rendered null)."""
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
    """None and "" mean "not given"; anything else must be an instant (aware UTC is returned)."""
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, field=param)
    except ValueError as err:
        raise VobizConfigError(str(err)) from None


def require_epoch(value: Any, param: str) -> float:
    """Seconds since the epoch, from a number or an ISO-8601 instant (a ValueError naming ``param``)."""
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
    """A positive ``timedelta`` from a timedelta or a number of seconds; None stays None."""
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
    """Refuse pacing that would poll in a tight loop or never give up."""
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
    """Return ``value`` if it is one of ``choices`` (exactly, case included)."""
    _refuse_undefined(value, param)
    if not isinstance(value, str) or value not in choices:
        raise VobizConfigError(f"{param} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def require_http_url(value: Any, param: str, *, optional: bool = False) -> str | None:
    """``value`` if it is an absolute ``http``/``https`` URL with a host (``optional``: None or "" give None)."""
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
    """A dict rendered as text: JSON, or Python's repr (without native rendering)."""
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


# The run's meeting window: docs/meeting-window.md has the reasons for all three.
LOOK_BACK = timedelta(minutes=30)
LATE_ADD = timedelta(minutes=30)
DEFAULT_STALE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class MeetingWindow:
    """Recordings added within ``[since, until]`` are this run's meeting's.

    :param since: aware UTC, inclusive.
    :param until: aware UTC, inclusive.
    :param rule: which default applied, in words, for logs.
    """

    since: datetime
    until: datetime
    rule: str

    def describe(self) -> str:
        return f"[{isoformat_utc(self.since)}, {isoformat_utc(self.until)}] ({self.rule})"


def default_window(
    *,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    logical_date: datetime | None = None,
    run_after: datetime | None = None,
) -> MeetingWindow | None:
    """The default window for a run, or None when it carries no time (docs/meeting-window.md)."""
    if data_interval_start is not None and data_interval_end is not None:
        start = _utc(data_interval_start, "data_interval_start")
        end = _utc(data_interval_end, "data_interval_end")
        if end > start:
            return MeetingWindow(start, end + min(LATE_ADD, (end - start) / 2), "the run's data interval")
        return MeetingWindow(end - LOOK_BACK, end + LATE_ADD, "around the run's zero-length data interval")
    for anchor, name in ((logical_date, "logical date"), (run_after, "run_after")):
        if anchor is not None:
            at = _utc(anchor, name)
            return MeetingWindow(at - LOOK_BACK, at + LATE_ADD, f"around the run's {name}, it has no data interval")
    return None


def window_from_context(context: Mapping[str, Any]) -> MeetingWindow | None:
    """:func:`default_window` for the running task's context."""
    return default_window(
        data_interval_start=context.get("data_interval_start"),
        data_interval_end=context.get("data_interval_end"),
        logical_date=context.get("logical_date"),
        run_after=getattr(context.get("dag_run"), "run_after", None),
    )


def meeting_end(context: Mapping[str, Any]) -> datetime | None:
    """When the run's meeting ended: the end of its data interval; None for a run without one."""
    end = context.get("data_interval_end")
    return None if end is None else _utc(end, "data_interval_end")


def _utc(value: datetime, field: str) -> datetime:
    """A plain aware UTC ``datetime``: pendulum's subclass returns an Interval, not a timedelta."""
    dt = parse_instant(value, field=field)
    return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=timezone.utc)
