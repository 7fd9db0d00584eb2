"""``python -m benchmarks.servers KIND JSON``: a loopback server in its own process.

Kinds:

- ``files``: serves the files of one folder at ``/files/{name}`` with aiohttp's ``FileResponse``
  (``sendfile``: the kernel copies the bytes, so the server is not the bottleneck), and answers
  401 unless ``X-Auth-ID`` and ``X-Auth-Token`` are the ones given, as Vobiz's media host does.
- ``fake``: the project's ``FakeVobizServer``, driven through its ``/_fake/`` control API.

When listening, prints one line ``BENCH-READY {json}`` with at least ``base_url``. Exits when
its stdin closes (the parent is done, or gone) or after ``max_seconds``.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.procs import READY_MARK


def wait_for_parent(max_seconds: float) -> None:
    """Block until stdin reaches end of file or ``max_seconds`` pass."""
    deadline = time.monotonic() + max_seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sys.stdin], [], [], min(left, 1.0))
        if ready and not sys.stdin.readline():
            return


def ready(**info: Any) -> None:
    print(READY_MARK + json.dumps(info), flush=True)


async def serve_files(root: str, auth_id: str, auth_token: str, max_seconds: float) -> None:
    from aiohttp import web

    folder = Path(root)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-Auth-ID") != auth_id or request.headers.get("X-Auth-Token") != auth_token:
            return web.json_response({"error": "authentication failed"}, status=401)
        path = folder / request.match_info["name"]
        if path.parent != folder or not path.is_file():
            return web.json_response({"error": "not found"}, status=404)
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/files/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    ready(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    try:
        await asyncio.get_running_loop().run_in_executor(None, wait_for_parent, max_seconds)
    finally:
        await runner.cleanup()


def serve_fake(auth_id: str, auth_token: str, max_seconds: float) -> None:
    from vobiz_provider.testing import FakeVobizServer

    with FakeVobizServer(auth_id=auth_id, auth_token=auth_token) as server:
        ready(base_url=server.base_url, connection=server.connection_json())
        wait_for_parent(max_seconds)


def main(argv: list[str]) -> int:
    kind, raw_args = argv
    args = json.loads(raw_args)
    if kind == "files":
        asyncio.run(serve_files(**args))
    elif kind == "fake":
        serve_fake(**args)
    else:
        raise SystemExit(f"unknown server kind {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
