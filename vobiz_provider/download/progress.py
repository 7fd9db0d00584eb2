"""Progress lines for long downloads: bytes, percent and rate, at most one every few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable

from vobiz_provider.log import Log

MIB = 1024 * 1024


class ProgressLog:
    """An ``on_progress(written, total)`` callback that logs only every ``interval`` seconds.

    :param log: where the lines go.
    :param description: what is downloaded, for the line.
    :param interval: the least number of seconds between two lines.
    :param clock: the monotonic clock (a parameter for tests).
    """

    def __init__(
        self, log: Log, description: str, *, interval: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.log = log
        self.description = description
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last = self.started

    def __call__(self, written: int, total: int | None) -> None:
        now = self.clock()
        if now - self._last < self.interval:
            return
        self._last = now
        self.log.info("%s: %s", self.description, self.describe(written, total, now))

    def describe(self, written: int, total: int | None, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self.started
        rate = written / MIB / elapsed if elapsed > 0 else 0.0
        done = f"{written:,} of {total:,} bytes ({written / total:.0%})" if total else f"{written:,} bytes"
        return f"{done}, {rate:.1f} MiB/s"
