"""The aiohttp application: one dispatcher for every Vobiz path, plus the ``/_fake/`` control API.

The dispatcher logs the request, applies latency and queued faults for the route, checks the
credentials, then calls the route's handler.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import CIMultiDict

from vobiz_provider.testing.control import add_control_routes
from vobiz_provider.testing.faults import error_response, fault_response
from vobiz_provider.testing.routes import resolve
from vobiz_provider.testing.settings import LoggedRequest
from vobiz_provider.testing.state import FakeState

if TYPE_CHECKING:
    from vobiz_provider.testing.routes import Resolved

STATE_KEY = web.AppKey("vobiz_fake_state", FakeState)


def _same(given: str | None, expected: str) -> bool:
    # Constant-time compare: this is product code people copy patterns from.
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _authorised(request: web.Request, state: FakeState, account: str | None) -> bool:
    return (
        _same(request.headers.get("X-Auth-ID"), state.auth_id)
        and _same(request.headers.get("X-Auth-Token"), state.auth_token)
        and account == state.auth_id
    )


async def _answer(request: web.Request, state: FakeState, target: Resolved) -> web.StreamResponse:
    settings = state.settings
    delay = state.latency_for(target.key)
    if delay:
        await asyncio.sleep(delay)
    # Faults come first, as a gateway's 429/5xx would, before auth or routing is looked at.
    fault = state.pop_fault(target.key)
    if fault is not None and fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    elif fault is not None and fault.reset and request.transport is not None:
        request.transport.abort()  # no answer at all: the client sees a reset connection
        return web.Response(status=499)
    elif fault is not None and not fault.after_serving:
        return fault_response(fault, settings)
    response = await _serve(request, state, target)
    # A proxy that mangles the answer on its way back: the request itself was served.
    return fault_response(fault, settings) if fault is not None and fault.after_serving else response


async def _serve(request: web.Request, state: FakeState, target: Resolved) -> web.StreamResponse:
    settings = state.settings
    if target.kind == "wrong_case":
        return error_response(settings, 401, "authentication failed")
    if target.needs_auth and not _authorised(request, state, target.account):
        return error_response(settings, 401, "authentication failed")
    if target.kind == "method":
        return error_response(settings, 405, "method not allowed")
    if target.handler is None:
        # Includes a path without its trailing slash; the real API's answer there is unverified.
        return error_response(settings, 404, "not found")
    return await target.handler(request, state, target.params)


_ENTRY = web.RequestKey("vobiz_fake_log_entry", LoggedRequest)


async def dispatch(request: web.Request) -> web.StreamResponse:
    received_at = time.time()
    state = request.app[STATE_KEY]
    path, _, query = request.raw_path.partition("?")
    target = resolve(request.method, path)
    entry = LoggedRequest(
        method=request.method,
        host=request.headers.get("Host", ""),
        path=path,
        query=query,
        headers=CIMultiDict(request.headers),
        route=target.key,
        status=0,
        body=await request.read(),
        received_at=received_at,
    )
    # Logged on arrival (so the log is in arrival order); the status is filled in when known.
    state.log_request(entry)
    request[_ENTRY] = entry
    try:
        response = await _answer(request, state, target)
    except web.HTTPException as exc:
        entry.status = exc.status
        raise
    entry.status = response.status
    return response


async def _status_on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    # A streamed file's status must be in the log when its headers leave, not after the body:
    # a client may finish reading before the handler returns.
    entry = request.get(_ENTRY)
    if entry is not None:
        entry.status = response.status


def build_app(state: FakeState) -> web.Application:
    app = web.Application()
    app[STATE_KEY] = state
    app.on_response_prepare.append(_status_on_prepare)
    add_control_routes(app, state)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
