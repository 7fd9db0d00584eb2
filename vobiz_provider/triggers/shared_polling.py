"""What the waits on one connection share in one event loop of the triggerer: one hook and one read of
the list per interval (docs/architecture.md, docs/performance.md). Not imported at DAG parse."""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from vobiz_provider.exceptions import ConnectionLookupError, VobizAuthError, VobizConfigError, VobizRateLimitError
from vobiz_provider.hooks.api import RecordingIndex, RecordingSearch
from vobiz_provider.hooks.connection import VobizSettings
from vobiz_provider.hooks.vobiz import VobizAsyncHook
from vobiz_provider.models import Recording
from vobiz_provider.waiting import RecordingWait, asked_wait, poll_async

__all__ = ["SharedAccount", "SharedReads", "SharedRoomSearch", "shared_account"]

CONNECTION_REREAD_S = 300.0


def _now() -> float:
    """The event loop's monotonic clock, which orders reads."""
    return asyncio.get_running_loop().time()


# A wait this far behind searches its own room (docs/performance.md).
FAR_BEHIND = timedelta(hours=6)
RECENT_BAND = timedelta(hours=36)


@dataclass
class _Read:
    """One read of the list: when it started (the loop's clock), how far back it reaches, its outcome."""

    started: float
    since: datetime
    outcome: asyncio.Future[RecordingIndex | Exception]


class SharedReads:
    """The account's reads of the recording list, shared by the waits searching a room in the recent band.

    :param hook: the account's hook.
    """

    def __init__(self, hook: VobizAsyncHook) -> None:
        self.hook = hook
        self._since: Counter[datetime] = Counter()  # the ``since`` of every wait still searching
        self._newest_since: datetime | None = None
        self._latest: _Read | None = None
        self._paused_until = 0.0  # the loop's clock
        self._reads: set[asyncio.Task[None]] = set()

    def join(self, since: datetime) -> None:
        self._since[since] += 1
        if self._newest_since is None or since > self._newest_since:
            self._newest_since = since

    def leave(self, since: datetime) -> None:
        self._since[since] -= 1
        if self._since[since] <= 0:
            del self._since[since]
            if since == self._newest_since:
                self._newest_since = max(self._since, default=None)

    def band_start(self) -> datetime:
        """The oldest ``since`` the shared reads reach back to."""
        recent = datetime.now(timezone.utc) - RECENT_BAND
        return recent if self._newest_since is None else min(recent, self._newest_since - FAR_BEHIND)

    async def read(self, since: datetime, newer_than: float) -> tuple[RecordingIndex | Exception, float]:
        """A read reaching back to ``since``, started after ``newer_than`` unless a 429 pauses reads; and its start."""
        now = _now()
        read = self._latest
        fits = read is not None and read.started > newer_than and read.since <= since
        paused = read is not None and now < self._paused_until
        if read is None or not (fits or paused):
            # Back to the oldest ``since`` in the recent band, and to ``since`` at least.
            start = self.band_start()
            read = self._start(now, min([since, *(s for s in self._since if s >= start)]))
        if read.outcome.done():
            return read.outcome.result(), read.started
        # Shielded: a wait cancelled while the read runs does not cancel it for the others.
        return await asyncio.shield(read.outcome), read.started

    def _start(self, now: float, since: datetime) -> _Read:
        read = _Read(now, since, asyncio.get_running_loop().create_future())
        self._latest = read
        task = asyncio.ensure_future(self._run(read))
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)
        return read

    async def _run(self, read: _Read) -> None:
        try:
            outcome: RecordingIndex | Exception = await self.hook.index_recordings(read.since)
        except asyncio.CancelledError:
            read.outcome.cancel()
            raise
        except Exception as err:  # every waiter gets it
            outcome = err
            if isinstance(err, VobizRateLimitError):
                resume = _now() + asked_wait(err)
                self._paused_until = max(self._paused_until, resume)
        read.outcome.set_result(outcome)

    async def close(self) -> None:
        """Cancel the reads still running (their waits are gone)."""
        reads = list(self._reads)
        for task in reads:
            task.cancel()
        await asyncio.gather(*reads, return_exceptions=True)


class SharedRoomSearch:
    """One wait's search of its room in the shared reads; each poll gets a read newer than the last.

    :param reads: the account's shared reads of the list.
    :param since: the wait's ``since``.
    :param interval: the wait's poll interval; its first poll takes a read up to one interval old.
    """

    __slots__ = ("_interval", "_joined", "_last_read_started", "_reads", "_since")

    def __init__(self, reads: SharedReads, since: datetime, interval: float) -> None:
        self._reads = reads
        self._since = since
        self._interval = interval
        self._last_read_started: float | None = None
        self._joined = True
        reads.join(since)

    async def find_conference_recording(
        self, conference_name: str, since: datetime, until: datetime | None
    ) -> RecordingSearch:
        """The hook's method of that name, answered from a shared read."""
        if since < self._reads.band_start():
            return await self._reads.hook.find_conference_recording(conference_name, since, until)
        newer_than = _now() - self._interval if self._last_read_started is None else self._last_read_started
        outcome, self._last_read_started = await self._reads.read(since, newer_than)
        if isinstance(outcome, Exception):
            raise outcome.with_traceback(None)
        return outcome.search(conference_name, since, until)

    def leave(self) -> None:
        if self._joined:
            self._joined = False
            self._reads.leave(self._since)


class SharedAccount:
    """What the waits on one connection share in one event loop: one hook and the reads of the list.

    :param vobiz_conn_id: the Airflow connection to Vobiz.
    """

    def __init__(self, vobiz_conn_id: str) -> None:
        self.hook = VobizAsyncHook(vobiz_conn_id, max_retries=0)  # the trigger's loop is the retry
        self.reads = SharedReads(self.hook)
        self.users = 0
        self._settings_lock = asyncio.Lock()
        self._settings: VobizSettings | None = None
        self._next_lookup = 0.0  # the loop's clock
        self._lookups = 0  # look-ups finished
        self._lookup_failed: ConnectionLookupError | None = None

    async def settings(self) -> VobizSettings:
        """The connection for the next poll, looked up once for all the waits (docs/deployment.md)."""
        asked = self._lookups
        async with self._settings_lock:
            if self._settings is None and self._lookups != asked and self._lookup_failed is not None:
                # A look-up failed while this wait queued for it: its failure, not one more look-up.
                raise self._lookup_failed.with_traceback(None)
            if self._settings is None or _now() >= self._next_lookup:
                await self._look_up(keep_on_failure=True)
            assert self._settings is not None
            return self._settings

    async def poll(self, wait: RecordingWait, room_search: SharedRoomSearch | None) -> Recording | None:
        """One poll of ``wait``; after a 401 the connection is looked up, and if it changed, polled again."""
        used = await self.settings()
        try:
            return await poll_async(self.hook, wait, room_search)
        except VobizAuthError as refused:
            if refused.status_code != 401 or not await self._changed_since(used):
                raise
        return await poll_async(self.hook, wait, room_search)

    async def _changed_since(self, used: VobizSettings) -> bool:
        """Whether the connection differs from ``used``, looked up now unless it was since ``used``."""
        async with self._settings_lock:
            if self._settings is used:
                await self._look_up(keep_on_failure=False)
            return self._settings != used

    async def _look_up(self, *, keep_on_failure: bool) -> None:
        """Look the connection up (the lock is held); ``keep_on_failure``: the last one read stays in use."""
        now = _now()
        try:
            self._settings = await self.hook.read_settings()
        except VobizConfigError as unusable:
            if self._settings is None or not keep_on_failure:
                raise
            self.hook.log.warning("Vobiz: %s; polling on with the connection as it was", unusable)
        except Exception as err:  # not found, or the secrets backend or API server did not answer
            conn_id = self.hook.vobiz_conn_id
            failure = ConnectionLookupError(f"Vobiz connection {conn_id!r} could not be looked up: {err}")
            if self._settings is None or not keep_on_failure:
                self._lookup_failed = failure
                raise failure from None
            self.hook.log.warning("%s; polling on with the connection as it was", failure)
        else:
            self._lookup_failed = None
        finally:
            self._lookups += 1
        self._next_lookup = now + CONNECTION_REREAD_S

    async def close(self) -> None:
        await self.reads.close()
        await self.hook.close()


# Per event loop (a restarted triggerer has a new loop, and its waits join afresh), per connection.
_accounts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, SharedAccount]] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def shared_account(vobiz_conn_id: str) -> AsyncIterator[SharedAccount]:
    """The connection's shared account in the running loop, for one wait."""
    loop = asyncio.get_running_loop()
    accounts = _accounts.setdefault(loop, {})
    account = accounts.get(vobiz_conn_id)
    if account is None:
        account = accounts[vobiz_conn_id] = SharedAccount(vobiz_conn_id)
    account.users += 1
    try:
        yield account
    finally:
        account.users -= 1
        if account.users == 0:
            del accounts[vobiz_conn_id]
            if not accounts:
                del _accounts[loop]
            await account.close()


def accounts_in_loop() -> int:
    """How many shared accounts the running loop holds."""
    return len(_accounts.get(asyncio.get_running_loop(), {}))
