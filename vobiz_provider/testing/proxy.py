"""A tiny HTTP forward proxy on loopback that counts what it forwards, to test egress proxies.

Plain ``http://`` targets only (absolute-form request lines, as clients send to an HTTP proxy);
one request per connection (``Connection: close`` towards both sides), which every client handles.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from types import TracebackType

_HEAD_LIMIT = 64 * 1024
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"}


class CountingProxy:
    """An HTTP forward proxy on ``127.0.0.1`` in a background thread; ``seen`` lists the URLs it forwarded.

    >>> with CountingProxy() as proxy:  # doctest: +SKIP
    ...     requests.get(url, proxies={"http": proxy.url})
    ...     proxy.seen  # ["http://127.0.0.1:8765/api/v1/..."]
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CountingProxy:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="counting-proxy", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the counting proxy did not start")
        return self

    def stop(self) -> None:
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None:
            return
        self._loop = self._thread = self._server = None

        async def close() -> None:
            if server is not None:
                server.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > _HEAD_LIMIT:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with self._lock:
                self.seen.append(target)
            headers = [line for line in header_lines if line and line.split(":", 1)[0].lower() not in _HOP_BY_HOP]
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            up_reader, upstream = await asyncio.open_connection(parts.hostname, parts.port or 80)
            upstream.write(f"{method} {path} {version}\r\n".encode("latin-1"))
            upstream.write(("\r\n".join([*headers, "Connection: close"]) + "\r\n\r\n").encode("latin-1"))
            length = next((int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0)
            if length:
                upstream.write(await reader.readexactly(length))
            await upstream.drain()
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()
