"""``/_fake/``: drive the fake server over HTTP (no auth), for tests in another process or language.

Each endpoint maps to a method of :class:`~vobiz_provider.testing.FakeVobizServer`:

==========================================  =====================================================
``POST /_fake/reset``                       ``reset()``
``GET|POST /_fake/settings``                read / ``configure(**json)``; answers the settings
``POST /_fake/credentials``                 ``set_auth_token(auth_token)`` (a rotated token)
``POST /_fake/rooms``                       ``add_room(name, members, recording, file_format, duration_s)``
``POST /_fake/rooms/{name}/record``         ``start_recording(name, file_format)``
``POST /_fake/rooms/{name}/restart``        ``restart_recording(name, ago_s)`` -> ``{"recording_id"}``
``POST /_fake/rooms/{name}/end``            ``end_room(name)`` -> ``{"recording_id"}``
``GET|POST /_fake/recordings``              ``recordings`` / ``add_recording(**json)`` (add_time ISO)
``POST /_fake/faults``                      ``{route, status, retry_after, body, headers, times}``,
                                            ``{route, malformed: true, times}``, ``{route, latency}``
                                            (route ``"*"``: every route),
                                            or ``{drop_after_bytes, times}``
``GET|DELETE /_fake/log``                   ``requests`` / ``clear_log()``
==========================================  =====================================================

Bad input answers 400 ``{"error": ...}``; an unknown room 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vobiz_provider.testing.faults import Fault
from vobiz_provider.testing.render import parse_time
from vobiz_provider.testing.state import RecordingInProgressError

if TYPE_CHECKING:
    from vobiz_provider.testing.state import FakeState

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ROOM_FIELDS = ("name", "members", "recording", "file_format", "duration_s")
_RECORDING_FIELDS = (
    "conference_name",
    "duration_s",
    "add_time",
    "recording_type",
    "file_format",
    "ready",
    "recording_id",
    "call_uuid",
    "wire",
    "file_status",
)
_FAULT_FIELDS = ("route", "status", "retry_after", "body", "headers", "times")


def _guarded(handler: _Handler) -> _Handler:
    """Turn the Python API's exceptions into HTTP answers."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except KeyError as exc:
            return web.json_response({"error": str(exc.args[0] if exc.args else exc)}, status=404)
        except (TypeError, ValueError, RecordingInProgressError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return wrapper


async def _body(request: web.Request, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    raw = await request.read()
    body = await request.json() if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(body) - set(allowed) if allowed is not None else set()
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}; allowed: {list(allowed or ())}")
    return body


def add_control_routes(app: web.Application, state: FakeState) -> None:
    """Register the ``/_fake/`` endpoints on ``app``, all bound to ``state``."""

    async def reset(request: web.Request) -> web.StreamResponse:
        state.reset()
        return web.json_response({"ok": True})

    async def settings(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            state.settings.update(**await _body(request))
        return web.json_response(state.settings.as_dict())

    async def credentials(request: web.Request) -> web.StreamResponse:
        state.set_auth_token((await _body(request, ("auth_token",))).get("auth_token", ""))
        return web.json_response({"ok": True})

    async def add_room(request: web.Request) -> web.StreamResponse:
        body = await _body(request, _ROOM_FIELDS)
        state.add_room(**body)
        return web.json_response({"ok": True}, status=201)

    async def record_room(request: web.Request) -> web.StreamResponse:
        body = await _body(request, ("file_format",))
        active = state.start_recording(request.match_info["name"], body.get("file_format", "mp3"))
        return web.json_response({"recording_id": active.recording_id})

    async def restart_room(request: web.Request) -> web.StreamResponse:
        body = await _body(request, ("ago_s",))
        ago_s = body.get("ago_s", 0.0)
        if isinstance(ago_s, bool) or not isinstance(ago_s, (int, float)):
            raise ValueError(f"ago_s must be a number of seconds, not {ago_s!r}")
        return web.json_response({"recording_id": state.restart_recording(request.match_info["name"], float(ago_s))})

    async def end_room(request: web.Request) -> web.StreamResponse:
        return web.json_response({"recording_id": state.end_room(request.match_info["name"])})

    async def recordings(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            return web.json_response(state.rendered_recordings())
        body = await _body(request, _RECORDING_FIELDS)
        if "conference_name" not in body:
            raise ValueError("conference_name is required (it may be null)")
        if body.get("add_time") is not None:
            body["add_time"] = parse_time(body["add_time"])
        return web.json_response({"recording_id": state.add_recording(**body)}, status=201)

    async def finish_processing(request: web.Request) -> web.StreamResponse:
        return web.json_response({"recording_ids": state.finish_processing()})

    async def faults(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        times = int(body.get("times", 1))
        if "drop_after_bytes" not in body and not body.get("route"):
            raise ValueError("route is required")
        if "drop_after_bytes" in body:
            state.drop_file_after(int(body["drop_after_bytes"]), times)
        elif body.get("malformed"):
            state.inject(body["route"], Fault(200, malformed=True), times)
        elif "latency" in body:
            state.set_latency(body["route"], float(body["latency"]))
        else:
            unknown = set(body) - set(_FAULT_FIELDS)
            if unknown:
                raise TypeError(f"unknown fields {sorted(unknown)}")
            fault = Fault(
                status=int(body["status"]),
                body=body.get("body"),
                headers=dict(body.get("headers") or {}),
                retry_after=body.get("retry_after"),
            )
            state.inject(body["route"], fault, times)
        return web.json_response({"ok": True})

    async def log(request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE":
            state.clear_log()
            return web.json_response({"ok": True})
        return web.json_response([entry.as_dict() for entry in state.logged()])

    routes: list[tuple[str, str, _Handler]] = [
        ("POST", "/_fake/reset", reset),
        ("GET", "/_fake/settings", settings),
        ("POST", "/_fake/settings", settings),
        ("POST", "/_fake/credentials", credentials),
        ("POST", "/_fake/rooms", add_room),
        ("POST", "/_fake/rooms/{name}/record", record_room),
        ("POST", "/_fake/rooms/{name}/restart", restart_room),
        ("POST", "/_fake/rooms/{name}/end", end_room),
        ("GET", "/_fake/recordings", recordings),
        ("POST", "/_fake/recordings", recordings),
        ("POST", "/_fake/recordings/finish-processing", finish_processing),
        ("POST", "/_fake/faults", faults),
        ("GET", "/_fake/log", log),
        ("DELETE", "/_fake/log", log),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _guarded(handler))
