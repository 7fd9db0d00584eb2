"""Instants as Vobiz writes them, parsed leniently; light enough for DAG-parse-time imports."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Vobiz sends "2025-11-06 13:49:10.751756+00:00", "2026-05-07 09:45:35.79276+05:30" and docs show
# "2026-05-07T04:15:35Z": a space or T, 0-9 fraction digits, Z, an offset or none (then UTC).
_INSTANT = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)


def parse_instant(value: str | datetime, *, field: str = "time") -> datetime:
    """Return ``value`` as an aware UTC datetime; a value without an offset is taken as UTC.

    :param value: an ISO-8601-like string (space or ``T``, ``Z`` or an offset) or a datetime.
    :param field: the name used in the error message.
    :raises ValueError: naming ``field`` when the value is not a time.
    """
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
