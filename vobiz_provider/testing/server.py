"""``FakeVobizServer``: a stateful, in-memory Vobiz API on loopback, run in a background thread."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vobiz_provider.testing.app import build_app
from vobiz_provider.testing.faults import Fault
from vobiz_provider.testing.render import host_port
from vobiz_provider.testing.state import FakeState

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

    from vobiz_provider.testing.settings import FakeSettings, LoggedRequest

# How long stop() lets in-flight requests finish before cutting them off.
_SHUTDOWN_TIMEOUT_S = 0.25


def _bind(hosts: tuple[str, ...], port: int) -> list[socket.socket]:
    """Listening sockets on every host, on one port: the first picks it when ``port`` is 0."""
    attempts = 1 if port else 20  # a free port on 127.0.0.1 may be taken on 127.0.0.2
    for attempt in range(attempts):
        sockets: list[socket.socket] = []
        chosen = port
        try:
            for host in hosts:
                sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, chosen))
                chosen = sock.getsockname()[1]
            return sockets
        except OSError:
            for sock in sockets:
                sock.close()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class FakeVobizServer:
    """A fake Vobiz API served over real HTTP on loopback, for tests and demos.

    Rooms, recordings, faults and a request log live in memory; every method is thread-safe
    and may be called while the server runs. See :class:`FakeSettings` for the switches that
    play each contradiction in Vobiz's docs.

    :param auth_id: the account id (``X-Auth-ID`` and the path's ``{auth_id}``).
    :param auth_token: the token (``X-Auth-Token``).
    :param listen_hosts: addresses to listen on, all on the same port; the first names
        ``base_url``. Extra loopback addresses (``127.0.0.2``) let tests tell hosts apart.
    :param port: the port, 0 for a free one.
    """

    def __init__(
        self,
        auth_id: str = "MA_FAKE0001",
        auth_token: str = "fake-token-123",
        listen_hosts: tuple[str, ...] | list[str] = ("127.0.0.1",),
        port: int = 0,
    ) -> None:
        if not listen_hosts:
            raise ValueError("listen_hosts needs at least one address")
        self._state = FakeState(auth_id, auth_token, tuple(listen_hosts), port)
        self._requested_port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeVobizServer:
        """Bind and serve in a background thread with its own event loop; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("the fake Vobiz server is already running")
        sockets = _bind(self._state.hosts, self._requested_port)
        self._state.port = sockets[0].getsockname()[1]
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failures: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(sockets))
            except BaseException as exc:
                failures.append(exc)
                for sock in sockets:
                    sock.close()
            started.set()
            if not failures:
                loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"fake-vobiz-{self.port}", daemon=True)
        self._thread.start()
        if not started.wait(10) or failures:
            self._thread = None
            raise RuntimeError("the fake Vobiz server did not start") from (failures[0] if failures else None)
        return self

    async def _serve(self, sockets: list[socket.socket]) -> None:
        runner = web.AppRunner(build_app(self._state), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        self._runner = runner

    def stop(self) -> None:
        """Stop serving and close the port; in-flight requests get a quarter second. Idempotent."""
        thread, loop, runner = self._thread, self._loop, self._runner
        if thread is None or loop is None:
            return
        self._thread = self._loop = self._runner = None
        try:
            if runner is not None:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    def __enter__(self) -> FakeVobizServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # identity ------------------------------------------------------------------------------

    @property
    def auth_id(self) -> str:
        return self._state.auth_id

    @property
    def auth_token(self) -> str:
        return self._state.auth_token

    @property
    def port(self) -> int:
        """The port served (after ``start()``; before, the port asked for)."""
        return self._state.port

    @property
    def listen_hosts(self) -> tuple[str, ...]:
        return self._state.hosts

    @property
    def base_url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:8765`` (first listen host, no trailing slash)."""
        return f"http://{host_port(self._state.hosts[0], self.port)}"

    def connection_json(self, extra: dict[str, Any] | None = None) -> str:
        """An Airflow connection (type ``vobiz``) for this server, as JSON for ``AIRFLOW_CONN_*``."""
        return json.dumps(
            {
                "conn_type": "vobiz",
                "login": self.auth_id,
                "password": self.auth_token,
                "host": self.base_url,
                "extra": extra or {},
            }
        )

    # settings --------------------------------------------------------------------------------

    @property
    def settings(self) -> FakeSettings:
        """The live settings; assign fields directly or use :meth:`configure` (validated)."""
        return self._state.settings

    def configure(self, **changes: Any) -> None:
        """Set settings fields by name; unknown names or bad values raise and change nothing."""
        self._state.settings.update(**changes)

    def reset(self) -> None:
        """Forget all rooms, recordings, faults, latencies and the log; default settings and token."""
        self._state.reset()

    def set_auth_token(self, token: str) -> None:
        """Accept only ``token`` from now on, as after a rotation (:meth:`connection_json` carries it)."""
        self._state.set_auth_token(token)

    # rooms and recordings ----------------------------------------------------------------------

    def add_room(
        self,
        name: str,
        members: int = 1,
        recording: bool = False,
        file_format: str = "mp3",
        duration_s: float | None = None,
    ) -> None:
        """A live room with ``members`` callers, recording already when ``recording``.

        ``duration_s`` is the length of the recording a later stop produces (default:
        ``settings.recording_duration_s``). Raises ValueError if the room exists.
        """
        self._state.add_room(name, members, recording, file_format, duration_s)

    def start_recording(self, name: str, file_format: str = "mp3") -> None:
        """Start recording a live room, as the API's start does (KeyError: no such room)."""
        self._state.start_recording(name, file_format)

    def restart_recording(self, name: str, ago_s: float = 0.0) -> str:
        """The host stops the room's recording and starts it again mid-meeting: returns the id of the
        finished part, whose row and file appear as after any stop (the room keeps recording).

        ``ago_s``: the restart happened that many seconds ago, e.g. ``ago_s=600`` for a part that
        ended ten minutes before the pipeline's stop, already listed and downloadable when the
        processing delays are shorter than that. KeyError: no such room; ValueError: not recording.
        """
        return self._state.restart_recording(name, ago_s)

    def end_room(self, name: str) -> str | None:
        """Everyone leaves: any recording stops (its id is returned) and the room is gone."""
        return self._state.end_room(name)

    def add_recording(
        self,
        *,
        conference_name: str | None,
        duration_s: float = 5.0,
        add_time: datetime | None = None,
        recording_type: str = "conference",
        file_format: str = "mp3",
        ready: bool = True,
        recording_id: str | None = None,
        call_uuid: str | None = None,
        wire: dict[str, Any] | None = None,
        file_status: int | None = None,
    ) -> str:
        """Insert a finished recording row; returns its id.

        ``ready=True``: listed and downloadable now. ``ready=False``: like a just-stopped
        recording, it appears after ``processing_delay_s`` and its file after ``file_delay_s``
        more. A naive ``add_time`` is UTC; default: when the row appears. ``wire``: fields the
        list and the get answer send instead of the real ones (None leaves a field out, e.g.
        ``{"recording_url": None}`` for a row still being processed). ``file_status``: the file
        answers this status for ever (e.g. 403, a deleted object behind a presigned URL).
        """
        return self._state.add_recording(
            conference_name=conference_name,
            duration_s=duration_s,
            add_time=add_time,
            recording_type=recording_type,
            file_format=file_format,
            ready=ready,
            recording_id=recording_id,
            call_uuid=call_uuid,
            wire=wire,
            file_status=file_status,
        )

    def finish_processing(self) -> list[str]:
        """Vobiz finishes processing now: rows of stopped (or ``ready=False``) recordings still
        waiting out ``processing_delay_s`` appear at once, with ``add_time`` now unless one was
        given; each file follows ``file_delay_s`` later. Returns their ids.

        With a long ``processing_delay_s`` this puts a row's appearance under the test's control,
        e.g. only after a sensor has looked once and not found it.
        """
        return self._state.finish_processing()

    @property
    def recordings(self) -> list[dict[str, Any]]:
        """The rows the list shows now, newest first, in the current API object shape."""
        return self._state.rendered_recordings()

    def recording_bytes(self, recording_id: str) -> bytes:
        """The exact bytes the file URL serves (whole file in memory: for small files)."""
        rec = self._state.get_recording(recording_id)
        return self._state.audio(rec).read()

    # faults ----------------------------------------------------------------------------------

    def inject(
        self,
        route: str,
        status: int,
        *,
        body: bytes | str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | str | None = None,
        times: int = 1,
        after_serving: bool = False,
    ) -> None:
        """Queue ``times`` forced answers on ``route`` (FIFO), served before auth and routing.

        ``body`` None gives the current error envelope; ``retry_after`` adds ``Retry-After``.
        ``after_serving``: the request is served (a stop stops) and this answer replaces the real one.
        """
        fault = Fault(status, body, dict(headers or {}), retry_after, after_serving=after_serving)
        self._state.inject(route, fault, times)

    def inject_malformed_json(self, route: str, times: int = 1, after_serving: bool = False) -> None:
        """Queue 200 answers whose body is truncated JSON (``after_serving``: as for :meth:`inject`)."""
        self._state.inject(route, Fault(200, malformed=True, after_serving=after_serving), times)

    def inject_reset(self, route: str, times: int = 1) -> None:
        """Queue connections on ``route`` that are closed without an answer (a reset)."""
        self._state.inject(route, Fault(0, reset=True), times)

    def inject_delay(self, route: str, seconds: float, times: int = 1) -> None:
        """Queue ``times`` slow answers on ``route``: each waits ``seconds``, then answers normally."""
        if seconds <= 0:
            raise ValueError("a delay must be > 0 seconds")
        self._state.inject(route, Fault(200, delay_s=float(seconds)), times)

    def set_latency(self, route: str, seconds: float) -> None:
        """Delay every answer on ``route`` (faults included) by ``seconds``; 0 removes it.
        ``route="*"``: every route that has no latency of its own (a real network's round trip)."""
        self._state.set_latency(route, seconds)

    def overstate_file_length(self, extra_bytes: int, times: int = 1) -> None:
        """The next ``times`` whole-file answers claim ``extra_bytes`` more in ``Content-Length``
        than the file has, send the whole file, then close the connection."""
        self._state.overstate_length(extra_bytes, times)

    def drop_file_after(self, n_bytes: int, times: int = 1) -> None:
        """The next ``times`` file bodies (media or storage) stop after ``n_bytes`` bytes."""
        self._state.drop_file_after(n_bytes, times)

    # request log -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        """Requests received, oldest first (the last ``LOG_SIZE`` of ``state.py``; ``/_fake/`` ones are not logged)."""
        return self._state.logged()

    def clear_log(self) -> None:
        self._state.clear_log()
