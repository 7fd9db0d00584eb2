"""Wire shapes: recordings, conferences, list pages and error envelopes as Vobiz sends them."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from vobiz_provider.testing.records import FakeRecording
    from vobiz_provider.testing.settings import FakeSettings

_STANDARD_CODES = {
    400: "BAD_REQUEST",
    401: "INVALID_CREDENTIALS",
    402: "INSUFFICIENT_BALANCE",
    403: "ACCOUNT_INACTIVE",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
STORAGE_RATE = 0.005


def new_api_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM:SS[.ffffff]`` or ISO-8601 (``Z`` allowed); no offset means UTC."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat accepts "Z" only from Python 3.11
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def format_add_time(value: datetime, settings: FakeSettings) -> str:
    local = value.astimezone(_offset(settings.add_time_utc_offset))
    if settings.add_time_style == "space":
        # The wire form: "2026-05-07 09:45:35.792760+05:30" (space, microseconds, offset).
        return local.isoformat(sep=" ", timespec="microseconds")
    text = local.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def error_body(
    settings: FakeSettings, status: int, message: str, *, retry_after: float | str | None = None
) -> dict[str, Any]:
    """The error body in the envelope chosen by ``settings.error_envelope``."""
    if settings.error_envelope == "plivo":
        return {"api_id": new_api_id(), "error": message}
    details: dict[str, Any] = {}
    if status == 429:
        wait = retry_after if isinstance(retry_after, (int, float)) else 1
        details = {"limitType": "cps", "limit": 1, "current": 2, "retryAfter": wait}
    return {
        "status": "error",
        "error": {"code": _STANDARD_CODES.get(status, f"HTTP_{status}"), "message": message, "details": details},
        "timestamp": utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": f"req_{uuid.uuid4().hex[:16]}",
    }


def _ms(value: float, settings: FakeSettings) -> str | float:
    return f"{value:.5f}" if settings.ms_as_strings else value


def recording_object(rec: FakeRecording, settings: FakeSettings, url: str, auth_id: str) -> dict[str, Any]:
    """A recording as the current docs show it, every field (docs/vobiz-api-quirks.md, row "Number fields")."""
    end_ms = rec.end_time.timestamp() * 1000
    duration_ms = rec.duration_s * 1000
    conference_name = rec.conference_name
    if not conference_name:
        conference_name = None if settings.empty_conference_name == "null" else ""
    rendered = {
        "recording_id": rec.recording_id,
        "recording_url": url,
        "recording_format": rec.file_format,
        "call_uuid": rec.call_uuid,
        "conference_name": conference_name,
        "recording_type": rec.recording_type,
        "add_time": format_add_time(rec.add_time, settings),
        "recording_start_ms": _ms(round(end_ms - duration_ms), settings),
        "recording_end_ms": _ms(round(end_ms), settings),
        "recording_duration_ms": _ms(round(duration_ms), settings),
        # Billed in 60 s steps, minimum 60.
        "rounded_recording_duration": max(60, math.ceil(rec.duration_s / 60) * 60),
        "from_number": rec.from_number,
        "to_number": rec.to_number,
        "recording_storage_duration": max(0, (utcnow() - rec.add_time).days),
        "recording_storage_rate": STORAGE_RATE,
        "monthly_recording_storage_amount": 0,
        "resource_uri": f"/v1/Account/{auth_id}/Recording/{rec.recording_id}/",
    }
    rendered.update(rec.wire)
    return {key: value for key, value in rendered.items() if value is not None or key not in rec.wire}


def legacy_recording(rec: FakeRecording, url: str, path: str, size: int) -> dict[str, Any]:
    """A list item as the older docs show it (docs/vobiz-api-quirks.md, row "List shape")."""
    return {
        "recording_id": rec.recording_id,
        "call_id": rec.call_uuid,
        "recording_type": rec.recording_type,
        "url": url,
        "download_path": path,
        "duration": round(rec.duration_s, 3),
        "created_at": rec.add_time.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "file_size": size,
        "format": rec.file_format,
        "conference_name": rec.conference_name,
    }


def page_link(auth_id: str, limit: int, offset: int, params: list[tuple[str, str]]) -> str:
    # meta.next / meta.previous carry no "/api" prefix, as on the wire (reference 4.1).
    query = urlencode([("limit", str(limit)), ("offset", str(offset)), *params])
    return f"/v1/Account/{auth_id}/Recording/?{query}"


def list_meta(auth_id: str, limit: int, offset: int, total: int, params: list[tuple[str, str]]) -> dict[str, Any]:
    next_link = page_link(auth_id, limit, offset + limit, params) if offset + limit < total else None
    previous = page_link(auth_id, limit, max(0, offset - limit), params) if offset > 0 else None
    return {"limit": limit, "next": next_link, "offset": offset, "previous": previous, "total_count": total}


def conference_object(name: str, run_time_s: int, member_uuids: list[str]) -> dict[str, Any]:
    """The conference object; counts and times are strings, as on the wire."""
    members = [
        {
            "muted": False,
            "member_id": str(index + 1),
            "deaf": False,
            "from": f"+9198765{index:05d}",
            "to": "+918065480000",
            "caller_name": f"Caller {index + 1}",
            "direction": "inbound",
            "call_uuid": call_uuid,
            "join_time": str(run_time_s),
        }
        for index, call_uuid in enumerate(member_uuids)
    ]
    return {
        "conference_name": name,
        "conference_run_time": str(run_time_s),
        "conference_member_count": str(len(members)),
        "members": members,
        "api_id": new_api_id(),
    }
