"""Bookkeeping of a resumable file transfer, shared by whatever transport streams the bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from vobiz_provider.exceptions import VobizConnectionError, VobizTransferError

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
DEFAULT_CHUNK_SIZE = 1024 * 1024


@dataclass
class ResumableTransfer:
    """Writes a file that may arrive in several responses, continuing with ``Range`` where one broke.

    :param sink: a writable, seekable binary file (truncated when a server ignores ``Range``).
    :param what: what is downloaded, for messages.
    """

    sink: BinaryIO
    what: str
    written: int = 0
    total: int | None = None
    content_type: str | None = None
    resumed: int = 0
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)

    def range_header(self) -> dict[str, str]:
        return {"Range": f"bytes={self.written}-"} if self.written else {}

    def begin(self, status: int, headers: Mapping[str, str]) -> None:
        """Take a 200 or 206 answer's headers in; restart from zero if the server ignored the range."""
        self.content_type = headers.get("content-type", self.content_type)
        start = 0
        if status == 206:
            match = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if not match:
                raise VobizTransferError(f"{self.what}: 206 without a usable Content-Range")
            start = int(match.group(1))
            if match.group(3) != "*":
                self.total = int(match.group(3))
        elif "content-length" in headers:
            self.total = int(headers["content-length"])
        if start != self.written:
            # A server that ignores Range sends the whole file again: start over rather than append.
            self.sink.seek(0)
            self.sink.truncate()
            self.written = 0
            self._digest = hashlib.sha256()
            if start:
                raise VobizTransferError(f"{self.what}: server resumed at byte {start}, expected 0")
        elif self.written:
            self.resumed += 1

    def write(self, chunk: bytes) -> None:
        self.sink.write(chunk)
        self._digest.update(chunk)
        self.written += len(chunk)
        if self.total is not None and self.written > self.total:
            raise VobizTransferError(f"{self.what}: received more than the announced {self.total} bytes")

    def finish(self) -> None:
        """Raise a retryable error when the body ended before the announced length."""
        if self.total is not None and self.written < self.total:
            raise VobizConnectionError(
                f"{self.what}: connection ended after {self.written} of {self.total} bytes", sent=True
            )

    @property
    def sha256(self) -> str:
        return str(self._digest.hexdigest())
