"""A loopback port that refuses connections, to play a host that is down."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType


class RefusingPort:
    """A port on ``host`` where every connection is refused (``ECONNREFUSED``), until closed.

    The socket is bound but never listens: the kernel answers each SYN with a reset, and no
    other program can take the port meanwhile (a closed free port could be reused at once).

    :param host: the loopback address to bind.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> RefusingPort:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def refusing_port(host: str = "127.0.0.1") -> RefusingPort:
    """A :class:`RefusingPort` on ``host``; use it as a context manager."""
    return RefusingPort(host)
