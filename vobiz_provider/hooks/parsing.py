"""Reading Vobiz's answers: every documented shape of pages, single recordings and conference lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vobiz_provider.exceptions import VobizResponseError
from vobiz_provider.models import Recording


@dataclass(frozen=True)
class RecordingPage:
    """One page of the list: its recordings and the offset of the next page (None on the last)."""

    recordings: list[Recording]
    next_offset: int | None


def parse_recording_page(data: Mapping[str, Any], offset: int) -> RecordingPage:
    """Parse ``{meta, objects}`` (current) or ``{recordings, pagination}`` (older docs)."""
    if isinstance(data.get("objects"), list):
        items = data["objects"]
        meta = data.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        next_offset = _next_offset(meta.get("next"), offset, len(items))
        total = meta.get("total_count")
        if next_offset is None and meta.get("next") is None and isinstance(total, int) and total > offset + len(items):
            next_offset = offset + len(items) if items else None
    elif isinstance(data.get("recordings"), list):
        items = data["recordings"]
        pagination = data.get("pagination")
        pagination = pagination if isinstance(pagination, Mapping) else {}
        next_offset = offset + len(items) if pagination.get("has_more") and items else None
        total = pagination.get("total")
    else:
        raise VobizResponseError(f"list recordings: no 'objects' or 'recordings' in keys {sorted(data)}")
    if next_offset is not None and isinstance(total, int) and next_offset >= total:
        # A "next" past the announced total (a server that ignores offset says "next" forever) ends the list.
        next_offset = None
    return RecordingPage([Recording.from_api(item) for item in items], next_offset)


def _next_offset(next_link: Any, offset: int, count: int) -> int | None:
    """Read the offset from ``meta.next`` ("/v1/Account/..." without "/api"), not the link's path."""
    if not next_link or not count:
        return None
    query = parse_qs(urlsplit(str(next_link)).query)
    try:
        following = int(query["offset"][0])
    except (KeyError, ValueError, IndexError):
        following = offset + count
    return following if following > offset else offset + count


def parse_single_recording(data: Mapping[str, Any]) -> Recording:
    """The flat object (current docs) or the ``{meta, objects: [one]}`` wrapper (older docs)."""
    objects = data.get("objects")
    if isinstance(objects, list):
        if not objects:
            raise VobizResponseError("get recording: the answer's 'objects' list is empty")
        return Recording.from_api(objects[0])
    return Recording.from_api(data)


def parse_conference_names(data: Mapping[str, Any]) -> list[str]:
    """``{"conferences": [...]}`` now; older examples show ``objects`` of ``{conference_name}``."""
    if isinstance(data.get("conferences"), list):
        return [str(name) for name in data["conferences"] if name]
    if isinstance(data.get("objects"), list):
        return [str(item["conference_name"]) for item in data["objects"] if item.get("conference_name")]
    raise VobizResponseError(f"list live conferences: no conference list in keys {sorted(data)}")
