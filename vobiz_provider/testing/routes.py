"""Routing of the Vobiz API paths and the conference/recording handlers.

Paths are matched on the raw path, so percent-encoding (``Daily%20Standup``) is seen as sent
and case matters, as on the real API.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from vobiz_provider.testing.faults import error_response
from vobiz_provider.testing.listing import BadQuery, list_body
from vobiz_provider.testing.media import media, storage
from vobiz_provider.testing.render import conference_object, new_api_id, recording_object
from vobiz_provider.testing.state import RecordingInProgressError
from vobiz_provider.validation import FILE_FORMATS

if TYPE_CHECKING:
    from vobiz_provider.testing.state import FakeState

Handler = Callable[[web.Request, "FakeState", dict[str, str]], Awaitable[web.StreamResponse]]

_API = re.compile(r"^/api/v1/Account/(?P<account>[^/]+)/(?P<rest>.*)$")
_MEDIA = re.compile(r"^/media/api/v1/Account/(?P<account>[^/]+)/Recording/(?P<file>[^/]+)$")
_STORAGE = re.compile(r"^/storage/(?P<token>[^/]+)/(?P<file>[^/]+)$")
# Lowercased "/account/" (and friends) is another resource family: Vobiz answers 401, not 404.
_WRONG_CASE = re.compile(r"^/(?:media/)?api/v1/account/", re.IGNORECASE)


@dataclass(frozen=True)
class Resolved:
    """Where a request goes.

    :param kind: ``"route"``; ``"unknown"`` (an API path with no such resource, or a missing
        trailing slash: 404 after auth); ``"method"`` (405 after auth); ``"wrong_case"`` (401);
        ``"other"`` (not an API path: 404).
    """

    kind: str
    key: str | None = None
    handler: Handler | None = None
    params: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    needs_auth: bool = True


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _not_found_conference(state: FakeState) -> web.Response:
    return error_response(state.settings, 404, "conference not found")


def _name(params: dict[str, str]) -> str:
    return unquote(params["name"])


async def conference_list(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    # The current docs: the list "can be [] while rooms are live"; conference_list_mode="empty" plays that.
    names = [] if state.settings.conference_list_mode == "empty" else list(state.rooms)
    return _json({"conferences": names, "api_id": new_api_id()})


async def conference_get(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    with state.lock:
        room = state.rooms.get(_name(params))
        if room is None:
            return _not_found_conference(state)
        if state.settings.conference_get_mode == "failed":
            return _json({"error": "failed", "api_id": new_api_id()})
        run_time = int(time.monotonic() - room.created_mono)
        return _json(conference_object(room.name, run_time, room.member_uuids))


async def conference_hangup(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    try:
        state.end_room(_name(params))
    except KeyError:
        return _not_found_conference(state)
    return web.Response(status=204)


async def conference_hangup_all(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    state.end_all_rooms()
    return web.Response(status=204)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}  # "send an empty JSON object or omit the body"
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


async def record_start(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    settings = state.settings
    name = _name(params)
    if name not in state.rooms:
        return _not_found_conference(state)
    try:
        body = await _json_body(request)
    except ValueError:
        return error_response(settings, 400, "invalid JSON body")
    file_format = body.get("file_format", "mp3")
    if file_format not in FILE_FORMATS:
        return error_response(settings, 400, f"invalid file_format: {file_format!r}; use mp3 or wav")
    callback = body.get("callback_url") or body.get("recording_callback_url")
    try:
        active = state.start_recording(name, file_format, callback)
    except KeyError:  # the room ended between the check and the start
        return _not_found_conference(state)
    except RecordingInProgressError:
        status = settings.start_when_recording_status
        if status >= 300:
            return error_response(settings, status, "recording already in progress")
        with state.lock:
            room = state.rooms.get(name)
            if room is None or room.active is None:
                return _not_found_conference(state)
            active = room.active
    if settings.start_mode == "current":
        return _json({"message": "async api spawned", "api_id": new_api_id()})
    return _json(
        {
            "message": "conference recording started",
            "api_id": new_api_id(),
            "recording_id": active.recording_id,
            "url": state.media_url(active.recording_id, active.file_format),
        }
    )


async def record_stop(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    settings = state.settings
    try:
        recording_id = state.stop_recording(_name(params))
    except KeyError:
        return _not_found_conference(state)
    if recording_id is not None:
        return web.Response(status=204)
    status = settings.stop_idle_status
    if status == 204:
        return web.Response(status=204)
    if status < 300:
        return _json({"api_id": new_api_id(), "message": "no active recording"}, status)
    return error_response(settings, status, "no active recording")


async def recording_list(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    try:
        return _json(list_body(state, request.query))
    except BadQuery as exc:
        return error_response(state.settings, 400, str(exc))


async def recording_get(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    rec = state.visible_recording(unquote(params["id"]))
    if rec is None:
        return error_response(state.settings, 404, "Recording not found")
    obj = recording_object(rec, state.settings, state.recording_url(rec), state.auth_id)
    if state.settings.get_shape == "flat":
        return _json({**obj, "api_id": new_api_id()})
    meta = {"limit": 1, "next": None, "offset": 0, "previous": None, "total_count": 1}
    return _json({"api_id": new_api_id(), "meta": meta, "objects": [obj]})


async def recording_delete(request: web.Request, state: FakeState, params: dict[str, str]) -> web.Response:
    if not state.delete_recording(unquote(params["id"])):
        return error_response(state.settings, 404, "Recording not found")
    return web.Response(status=204)


_API_ROUTES: list[tuple[re.Pattern[str], dict[str, tuple[str, Handler]]]] = [
    (
        re.compile(r"^Conference/$"),
        {"GET": ("conference.list", conference_list), "DELETE": ("conference.hangup_all", conference_hangup_all)},
    ),
    (
        re.compile(r"^Conference/(?P<name>[^/]+)/$"),
        {"GET": ("conference.get", conference_get), "DELETE": ("conference.hangup", conference_hangup)},
    ),
    (
        re.compile(r"^Conference/(?P<name>[^/]+)/Record/$"),
        {"POST": ("conference.record.start", record_start), "DELETE": ("conference.record.stop", record_stop)},
    ),
    (re.compile(r"^Recording/$"), {"GET": ("recording.list", recording_list)}),
    (
        re.compile(r"^Recording/(?P<id>[^/]+)/$"),
        {"GET": ("recording.get", recording_get), "DELETE": ("recording.delete", recording_delete)},
    ),
]
_FILE_ROUTES: dict[str, Handler] = {"GET": media, "HEAD": media}
_STORAGE_ROUTES: dict[str, Handler] = {"GET": storage, "HEAD": storage}


def resolve(method: str, path: str) -> Resolved:
    """Find the route for a raw path (without query)."""
    found = _API.match(path)
    if found:
        account = found["account"]
        for pattern, methods in _API_ROUTES:
            hit = pattern.match(found["rest"])
            if hit is None:
                continue
            if method not in methods:
                return Resolved("method", account=account)
            key, handler = methods[method]
            return Resolved("route", key, handler, hit.groupdict(), account)
        return Resolved("unknown", account=account)
    found = _MEDIA.match(path)
    if found:
        if method not in _FILE_ROUTES:
            return Resolved("method", account=found["account"])
        return Resolved("route", "media", _FILE_ROUTES[method], {"file": found["file"]}, found["account"])
    if _WRONG_CASE.match(path):
        return Resolved("wrong_case")
    found = _STORAGE.match(path)
    if found:
        if method not in _STORAGE_ROUTES:
            return Resolved("method", needs_auth=False)
        return Resolved("route", "storage", _STORAGE_ROUTES[method], found.groupdict(), needs_auth=False)
    return Resolved("other", needs_auth=False)
