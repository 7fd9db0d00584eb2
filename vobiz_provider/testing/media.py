"""Recording files: the authenticated media route and the unauthenticated storage route.

Both support ``Range`` (``bytes=N-``, ``bytes=N-M``, ``bytes=-S``) and stream the generated
file in chunks, so large files cost no memory. ``drop_file_after`` cuts the connection after
a number of body bytes, with the full ``Content-Length`` already sent.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from vobiz_provider.testing.faults import error_response

if TYPE_CHECKING:
    from vobiz_provider.testing.records import FakeRecording
    from vobiz_provider.testing.state import FakeState

_SIGNATURE_MISMATCH = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    "<Message>The request signature we calculated does not match the signature you provided.</Message></Error>"
)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(ValueError):
    """A range that starts past the end of the file (answered 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single satisfiable range, None to send the whole file.

    Syntax the server does not support (several ranges, garbage) is ignored, as RFC 9110 allows.
    """
    found = _RANGE.match(header.strip()) if header else None
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise Unsatisfiable
        return max(0, size - length), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, size if not last else min(int(last) + 1, size)


def _split_file(params: dict[str, str]) -> tuple[str, str]:
    recording_id, _, ext = unquote(params["file"]).rpartition(".")
    return recording_id, ext


async def media(request: web.Request, state: FakeState, params: dict[str, str]) -> web.StreamResponse:
    """``GET/HEAD /media/api/v1/Account/{id}/Recording/{recording_id}.{ext}`` (auth checked before)."""
    recording_id, ext = _split_file(params)
    rec = state.downloadable(recording_id)
    # Not processed yet, deleted, unknown or the wrong extension: the file is "not there".
    if rec is None or ext != rec.file_format:
        return error_response(state.settings, 404, "Recording not found")
    if rec.file_status is not None and not state.settings.storage_host:
        return error_response(state.settings, rec.file_status, "the file cannot be served")
    if state.settings.storage_host:
        raise web.HTTPFound(state.storage_url(rec))
    return await serve(request, state, rec)


async def storage(request: web.Request, state: FakeState, params: dict[str, str]) -> web.StreamResponse:
    """``GET/HEAD /storage/{token}/{file}``: a presigned-style link, no credentials needed."""
    rec = state.storage_lookup(params["token"])
    recording_id, ext = _split_file(params)
    if rec is None or rec.recording_id != recording_id or rec.file_format != ext:
        return web.Response(status=404, text="NoSuchKey")
    if rec.file_status is not None:  # a deleted object behind a presigned URL answers 403, not 404
        return web.Response(status=rec.file_status, text="AccessDenied", content_type="application/xml")
    refused = state.settings.storage_head_status
    if request.method == "HEAD" and refused is not None:
        # S3/GCS sign the method: a HEAD on a URL signed for GET fails the signature check.
        return web.Response(status=refused, text=_SIGNATURE_MISMATCH, content_type="application/xml")
    return await serve(request, state, rec)


async def serve(request: web.Request, state: FakeState, rec: FakeRecording) -> web.StreamResponse:
    audio = state.audio(rec)
    size = audio.size
    headers = {"Content-Type": state.content_type(rec, audio), "Accept-Ranges": "bytes"}
    try:
        wanted = None if state.settings.ignore_range else parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
    start, end = wanted or (0, size)
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response = web.StreamResponse(status=206 if wanted else 200, headers=headers)
    overstated = state.pop_overstated() if not wanted and request.method == "GET" else 0
    response.content_length = end - start + overstated
    # Take the drop before the headers go out: a client that stops reading after the status (a
    # ranged probe) must not leave this handler to take a drop meant for a later download.
    drop = state.pop_drop() if request.method == "GET" else None
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    stop = end if drop is None else min(end, start + drop)
    for chunk in audio.iter_range(start, stop):
        await response.write(chunk)
    if (stop < end or overstated) and request.transport is not None:
        # Let the bytes reach the socket first: aiohttp may abort() a connection whose handler
        # returned unfinished, which would discard them under load and turn a drop after N
        # bytes into a drop after 0. Then close() ends the body short of Content-Length.
        transport = request.transport
        for _ in range(200):
            if transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.005)
        transport.close()
        return response
    await response.write_eof()
    return response
