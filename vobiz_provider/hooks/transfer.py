"""Bookkeeping of a resumable file transfer, shared by whatever transport streams the bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from vobiz_provider.exceptions import VobizConnectionError, VobizTransferError, VobizUnexpectedSizeError
from vobiz_provider.models import FileTransfer

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass
class ResumableTransfer:
    """Writes a file that may arrive in several responses, continuing with ``Range`` where one broke.

    :param sink: a writable, seekable binary file (truncated when a server ignores ``Range``).
    :param description: what is downloaded, for messages.
    :param expected_size: the size the file must have, if known: another announced size raises
        :class:`~vobiz_provider.exceptions.VobizUnexpectedSizeError` before a byte is written.
    """

    sink: BinaryIO
    description: str
    expected_size: int | None = None
    written: int = 0
    total: int | None = None
    content_type: str | None = None
    resumed: int = 0
    _digest: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)

    def range_header(self) -> dict[str, str]:
        """The ``Range`` that continues after the bytes written so far (none at the start)."""
        return {"Range": f"bytes={self.written}-"} if self.written else {}

    def begin(self, status: int, headers: Mapping[str, str]) -> None:
        """Take a 200 or 206 answer's headers in; restart from zero if the server ignored the range."""
        self.content_type = headers.get("content-type", self.content_type)
        start = 0
        if status == 206:
            match = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if not match:
                raise VobizTransferError(f"{self.description}: 206 without a usable Content-Range")
            start = int(match.group(1))
            if match.group(3) != "*":
                self.total = int(match.group(3))
        elif "content-length" in headers:
            self.total = int(headers["content-length"])
        if self.expected_size is not None and self.total is not None and self.total != self.expected_size:
            raise VobizUnexpectedSizeError(
                f"{self.description}: the file has {self.total:,} bytes, not {self.expected_size:,}",
                announced=self.total,
            )
        if start != self.written:
            # A server that ignores Range sends the whole file again: start over rather than append.
            self.sink.seek(0)
            self.sink.truncate()
            self.written = 0
            self._digest = hashlib.sha256()
            if start:
                raise VobizTransferError(f"{self.description}: server resumed at byte {start}, expected 0")
        elif self.written:
            self.resumed += 1

    def write(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        self.sink.write(chunk)
        self.written += len(chunk)
        if self.total is not None and self.written > self.total:
            raise VobizTransferError(f"{self.description}: received more than the announced {self.total} bytes")

    def finish(self) -> None:
        """Raise a retryable error when the body ended before the announced length."""
        if self.total is not None and self.written < self.total:
            raise VobizConnectionError(
                f"{self.description}: connection ended after {self.written} of {self.total} bytes", sent=True
            )

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def result(self) -> FileTransfer:
        """What was written, once the transfer is complete."""
        return FileTransfer(self.written, self.sha256, self.content_type, self.resumed)
