"""``GET Recording/``: paging, the filters the docs half-promise, and both list shapes."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from vobiz_provider.testing.render import (
    legacy_recording,
    list_meta,
    new_api_id,
    page_link,
    parse_time,
    recording_object,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from vobiz_provider.testing.records import FakeRecording
    from vobiz_provider.testing.state import FakeState

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_TIME_FILTERS: dict[str, Callable[[datetime, datetime], bool]] = {
    "add_time__gte": operator.ge,
    "add_time__gt": operator.gt,
    "add_time__lte": operator.le,
    "add_time__lt": operator.lt,
}
_EXACT_FILTERS = ("recording_type", "call_uuid", "recording_format", "from_number", "to_number")


class BadQuery(ValueError):
    """A query parameter the server refuses (answered 400)."""


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadQuery(f"invalid {name}: {raw!r}") from None


def apply_filters(rows: list[FakeRecording], query: Mapping[str, str], zone: str = "+00:00") -> list[FakeRecording]:
    """Filter like the Bulk Delete page (and Plivo) describe; used when ``list_filters="honour"``.
    A time without an offset is read at the UTC offset ``zone``."""
    name = query.get("conference_name")
    if name:
        # "supports partial match"
        rows = [rec for rec in rows if rec.conference_name and name in rec.conference_name]
    for param, compare in _TIME_FILTERS.items():
        raw = query.get(param)
        if raw:
            try:
                bound = parse_time(raw, zone)
            except ValueError:
                raise BadQuery(f"invalid {param}: {raw!r}") from None
            rows = [rec for rec in rows if compare(rec.add_time, bound)]
    for param in _EXACT_FILTERS:
        raw = query.get(param)
        if raw:
            key = "file_format" if param == "recording_format" else param
            rows = [rec for rec in rows if getattr(rec, key) == raw]
    return rows


def list_body(state: FakeState, query: Mapping[str, str]) -> dict[str, Any]:
    """The list answer for this query, in the shape of ``settings.list_shape``.

    :raises BadQuery: for a limit/offset that is not a number or out of range, or a bad time.
    """
    settings = state.settings
    limit = _int_param(query, "limit", DEFAULT_LIMIT)
    offset = _int_param(query, "offset", 0)
    if limit < 1 or offset < 0:
        raise BadQuery("limit must be >= 1 and offset >= 0")
    limit = min(limit, MAX_LIMIT)  # the documented cap; larger values are clamped, not refused
    rows = state.visible_recordings()
    if settings.list_filters == "honour":
        rows = apply_filters(rows, query, settings.list_filter_utc_offset)
    if settings.list_offset == "ignore":
        offset = 0  # the broken list: always the first page, always a "next"
    page = rows[offset : offset + limit]
    if settings.list_shape == "legacy":
        items = []
        for rec in page:
            path = state.media_path(rec.recording_id, rec.file_format)
            items.append(legacy_recording(rec, state.recording_url(rec), path, state.audio(rec).size))
        more = offset + limit < len(rows)
        total: int | None = len(rows)
        if settings.list_offset == "ignore":
            more, total = True, None
        return {
            "recordings": items,
            "pagination": {"limit": limit, "offset": offset, "total": total, "has_more": more},
        }
    # meta.next keeps the other query parameters, so following it keeps the same filters.
    kept = [(k, v) for k, v in query.items() if k not in ("limit", "offset")]
    meta = list_meta(state.auth_id, limit, offset, len(rows), kept)
    if settings.list_offset == "ignore":
        meta["next"] = page_link(state.auth_id, limit, limit, kept)
        meta["total_count"] = None
    return {
        "api_id": new_api_id(),
        "meta": meta,
        "objects": [recording_object(rec, settings, state.recording_url(rec), state.auth_id) for rec in page],
    }
