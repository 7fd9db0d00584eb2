"""The sensor's trigger and the ``AssetWatcher``'s trigger. DAG files import this module: light imports only."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from vobiz_provider.exceptions import TriggerArgumentError, VobizConfigError, VobizConnectionError, VobizError
from vobiz_provider.hooks.api import RecordingIndex, add_time_filters, skipped_words
from vobiz_provider.triggers.watermark import Watermark, WatermarkStore
from vobiz_provider.validation import (
    DEFAULT_CONN_ID,
    check_pacing,
    isoformat_utc,
    require_epoch,
)
from vobiz_provider.version_compat import BaseEventTrigger, require_airflow
from vobiz_provider.waiting import (
    DEFAULT_MAX_POLL_INTERVAL,
    FailureKind,
    PollSchedule,
    RecordingTarget,
    RecordingWait,
    classify,
    error_event,
    success_event,
    timeout_event,
)

if TYPE_CHECKING:
    from vobiz_provider.hooks.vobiz import VobizAsyncHook
    from vobiz_provider.models import Recording
    from vobiz_provider.triggers.shared_polling import SharedAccount, SharedRoomSearch

__all__ = ["ConferenceRecordingTrigger", "VobizRecordingEventTrigger"]


_T = TypeVar("_T")
_P = ParamSpec("_P")

MAX_WAKE_GRID = 1.0  # seconds
# The least time a poll gets: the last poll, at the deadline, still asks.
MIN_POLL_TIME_S = 0.5


def refused_kwargs_fail_only_this_trigger(init: Callable[_P, None]) -> Callable[_P, None]:
    """Refused kwargs raise :class:`TriggerArgumentError`, a ``TypeError``: only this trigger fails."""

    @functools.wraps(init)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            init(*args, **kwargs)
        except TriggerArgumentError:
            raise
        except ValueError as err:  # VobizConfigError, and parse_instant's errors (they name the field)
            raise TriggerArgumentError(str(err)) from None

    return checked


async def by_deadline(poll: Coroutine[Any, Any, _T], seconds: float) -> _T:
    """``poll``'s result, or :class:`asyncio.TimeoutError` after ``seconds``.

    Not ``asyncio.wait_for``: before Python 3.12 it can swallow the caller's cancel.
    """
    task = asyncio.ensure_future(poll)
    try:
        done, _ = await asyncio.wait((task,), timeout=seconds)
    finally:
        if not task.done():  # the deadline passed, or the caller was cancelled
            task.cancel()
    if not done:
        raise asyncio.TimeoutError
    return task.result()


def _on_grid(sleep: float, interval: float) -> float:
    """``sleep`` stretched to a grid of a tenth of the interval (a second at most): waits wake together."""
    tick = min(MAX_WAKE_GRID, interval / 10)
    now = asyncio.get_running_loop().time()
    return math.ceil((now + sleep) / tick) * tick - now


class ConferenceRecordingTrigger(BaseTrigger):
    """Poll Vobiz until a recording's file is available, then send one event (docs/architecture.md).

    :param deadline: when to give up: seconds since the epoch, or an ISO-8601 instant.
    :param conference_name: the room (with ``since``), or the room ``recording_id`` must belong to.
    :param recording_id: the recording's id.
    :param since: ISO-8601, the meeting window's start.
    :param until: ISO-8601 or None (no upper bound), the window's end.
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    :param poll_interval: seconds between polls.
    :param poll_backoff: factor the interval grows by after each poll (1: constant).
    :param max_poll_interval: the longest interval; default ten minutes.
    :param max_consecutive_failures: failed polls in a row (not 429) that end the wait.
    :param recording_seen: the worker's check saw the row: by id, a 404 now means it was deleted.
    :param first_poll_at: seconds since the epoch before which not to poll (the worker just did).
    :param stopped_at: ISO-8601 or None: when the pipeline's stop stopped the room's recording.
    :param collect: ``"newest"`` or ``"all"`` (the success event carries every part, oldest first).
    """

    @refused_kwargs_fail_only_this_trigger
    def __init__(
        self,
        *,
        deadline: float | str,
        conference_name: str | None = None,
        recording_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 60.0,
        poll_backoff: float = 1.0,
        max_poll_interval: float | None = None,
        max_consecutive_failures: int = 5,
        recording_seen: bool = False,
        first_poll_at: float | None = None,
        stopped_at: str | None = None,
        collect: str = "newest",
    ) -> None:
        super().__init__()
        # Imported now (with aiohttp): an import inside run() stalls the triggerer's event loop.
        import vobiz_provider.triggers.shared_polling  # noqa: F401

        check_pacing(poll_interval, poll_backoff, max_poll_interval, max_consecutive_failures)
        self.target = RecordingTarget.from_inputs(
            conference_name=conference_name,
            recording_id=recording_id,
            since=since,
            until=until,
            stopped_at=stopped_at,
            collect=collect,
        )
        self.deadline = require_epoch(deadline, "deadline")
        self.vobiz_conn_id = vobiz_conn_id
        self.poll_interval = float(poll_interval)
        self.poll_backoff = float(poll_backoff)
        self.max_poll_interval = None if max_poll_interval is None else float(max_poll_interval)
        self.max_consecutive_failures = max_consecutive_failures
        self.recording_seen = bool(recording_seen)
        self.first_poll_at = None if first_poll_at is None else require_epoch(first_poll_at, "first_poll_at")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.target.to_kwargs(),
                "deadline": self.deadline,
                "vobiz_conn_id": self.vobiz_conn_id,
                "poll_interval": self.poll_interval,
                "poll_backoff": self.poll_backoff,
                "max_poll_interval": self.max_poll_interval,
                "max_consecutive_failures": self.max_consecutive_failures,
                "recording_seen": self.recording_seen,
                "first_poll_at": self.first_poll_at,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        """The wait's outcome as an event payload; it leaves the shared account on every path."""
        from vobiz_provider.triggers.shared_polling import SharedRoomSearch, shared_account

        async with shared_account(self.vobiz_conn_id) as account:
            room_search = None
            if self.target.recording_id is None:
                assert self.target.since is not None
                room_search = SharedRoomSearch(account.reads, self.target.since, self.poll_interval)
            try:
                return await self._poll(account, room_search)
            finally:
                if room_search is not None:
                    room_search.leave()

    async def _poll(self, account: SharedAccount, room_search: SharedRoomSearch | None) -> dict[str, Any]:
        """Poll until the file is ready, the wait fails or the deadline passes."""
        wait = RecordingWait(self.target, row_seen=self.recording_seen)
        schedule = PollSchedule(
            self.poll_interval,
            backoff=self.poll_backoff,
            max_interval=self.max_poll_interval,
            max_failures=self.max_consecutive_failures,
            deadline=self.deadline,
        )
        if self.first_poll_at is not None:
            await asyncio.sleep(max(0.0, min(self.first_poll_at, self.deadline) - time.time()))
        last_error: VobizError | None = None
        # Asked once: a filtered structlog debug call still costs microseconds per poll.
        debug = self.log.isEnabledFor(logging.DEBUG)
        while True:
            try:
                # The session is shared, so the deadline bounds the poll here.
                time_left = max(self.deadline - time.time(), MIN_POLL_TIME_S)
                recording = await by_deadline(account.poll(wait, room_search), time_left)
            except asyncio.TimeoutError:
                last_error = VobizConnectionError("Vobiz did not answer the poll by the wait's deadline", sent=True)
                return timeout_event(self._timeout_message(wait, last_error))
            except VobizError as err:
                try:
                    pause = schedule.after_failure(err)
                except VobizError as fatal:
                    return error_event(f"Stopped waiting for {self.target.describe()}: {fatal}")
                last_error = err
                self.log.warning("Vobiz: %s; polling again in %.1f s", err, pause)
            else:
                if recording is not None:
                    self.log.info("The file of recording %r is ready", recording.recording_id)
                    several = wait.several_in_window()
                    if several:
                        self.log.warning("%s", several)
                    return success_event(recording, several, wait.collected())
                if room_search is not None and wait.row is not None:
                    room_search.leave()  # the row is found: files only from now on
                pause, last_error = schedule.after_answer(), None
                if debug:
                    self.log.debug("Not ready: %s; polling again in %.1f s", wait.describe(), pause)
            sleep = schedule.sleep_before_next_poll(pause, time.time())
            if sleep is None:
                return timeout_event(self._timeout_message(wait, last_error))
            # Woken on the grid, but never past the deadline: the poll due then is made at it.
            await asyncio.sleep(min(_on_grid(sleep, self.poll_interval), max(0.0, self.deadline - time.time())))

    def _timeout_message(self, wait: RecordingWait, last_error: VobizError | None) -> str:
        deadline = datetime.fromtimestamp(self.deadline, tz=timezone.utc).replace(microsecond=0)
        message = f"Timed out at {isoformat_utc(deadline)}: {wait.describe()}"
        if last_error is not None:
            message += f"; the last poll failed: {last_error}"
        return message


# docs/event-driven.md has the reasons for these.
EVENT_STORED_AFTER = 5.0
WATCH_MAX_CONSECUTIVE_FAILURES = 5
PENDING_FILE_LIMIT = timedelta(hours=24)
PROBE_MAX_FAILURES = 5
PROBE_FAILING_FOR = timedelta(minutes=10)


class VobizRecordingEventTrigger(BaseEventTrigger):
    """Emit one event per new recording once its file can be downloaded, at least once (docs/event-driven.md).

    :param vobiz_conn_id: the Airflow connection to Vobiz.
    :param conference_name: one room to watch (exact name); None watches every room.
    :param recording_type: the recordings to emit: ``conference`` (default), ``call``, ``trunk``...
    :param poll_interval: seconds between polls of the list.
    """

    @refused_kwargs_fail_only_this_trigger
    def __init__(
        self,
        *,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        conference_name: str | None = None,
        recording_type: str = "conference",
        poll_interval: float = 60.0,
    ) -> None:
        require_airflow("VobizRecordingEventTrigger", (3, 0), "asset watchers")
        super().__init__()
        check_pacing(poll_interval, 1.0, None, WATCH_MAX_CONSECUTIVE_FAILURES)
        if not isinstance(vobiz_conn_id, str) or not vobiz_conn_id.strip():
            raise VobizConfigError(f"vobiz_conn_id must be a connection id, got {vobiz_conn_id!r}")
        if not isinstance(recording_type, str) or not recording_type.strip():
            raise VobizConfigError(f"recording_type must be a type such as 'conference', got {recording_type!r}")
        if conference_name not in (None, "") and (
            not isinstance(conference_name, str) or not conference_name.strip() or conference_name == "None"
        ):
            raise VobizConfigError(
                f"conference_name must be a room's name or None (every room), got {conference_name!r}"
            )
        self.vobiz_conn_id = vobiz_conn_id
        self.conference_name = conference_name or None
        self.recording_type = recording_type.strip().lower()
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # Plain, normalised values in a fixed order: Airflow finds the watcher's trigger row by a hash of them.
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "vobiz_conn_id": self.vobiz_conn_id,
                "conference_name": self.conference_name,
                "recording_type": self.recording_type,
                "poll_interval": self.poll_interval,
            },
        )

    @property
    def state_key(self) -> str:
        """The asset state store key of this watcher's watermark."""
        scope = {"conference_name": self.conference_name, "recording_type": self.recording_type}
        return "vobiz_recordings_watermark " + json.dumps(scope, sort_keys=True)

    def matches(self, recording: Recording) -> bool:
        """Whether ``recording`` is one this watcher emits (Vobiz may ignore the list's filters)."""
        if self.conference_name is not None and recording.conference_name != self.conference_name:
            return False
        if self.recording_type == "conference":
            return recording.is_conference
        return recording.recording_type == self.recording_type

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from vobiz_provider.triggers.shared_polling import shared_account

        store = WatermarkStore(getattr(self, "asset_state_store", None), self.state_key, self.log)
        while True:
            async with shared_account(self.vobiz_conn_id) as account:
                async for recording in self._watch(account, store):
                    yield TriggerEvent(recording.to_dict())
            # The watch gave up (bad credentials, a spent failure budget): pause, then start over.
            await asyncio.sleep(max(self.poll_interval, DEFAULT_MAX_POLL_INTERVAL))

    async def _watch(self, account: SharedAccount, store: WatermarkStore) -> AsyncIterator[Recording]:
        """Yield each new recording whose file is ready, until a failure waiting cannot fix."""
        hook = account.hook
        mark = await self._load(store)
        saved = mark
        schedule = PollSchedule(self.poll_interval, max_failures=WATCH_MAX_CONSECUTIVE_FAILURES)
        yielded: dict[str, float] = {}  # emitted, not yet known stored: id -> when (monotonic)
        abandoned: set[str] = set()  # files that never came or were refused: done without an event
        failing: dict[str, tuple[int, float]] = {}  # failed probes in a row: id -> (count, first at, monotonic)

        debug = self.log.isEnabledFor(logging.DEBUG)
        while True:
            poll_started = time.monotonic()
            try:
                await account.settings()  # looked up again now and then; a failed look-up is a failed poll
                listed, skipped = await self._list_past(hook, mark)
                for recording in listed:
                    rid = recording.recording_id
                    if not mark.is_new(recording) or rid in yielded or rid in abandoned:
                        continue
                    if await self._file_ready(hook, recording, failing, abandoned):
                        self.log.info("New recording %r of %r", rid, recording.conference_name)
                        yielded[rid] = time.monotonic()
                        yield recording
            except VobizError as err:
                try:
                    wait = schedule.after_failure(err)
                except VobizError as fatal:
                    self.log.error("Stopped watching Vobiz recordings for now: %s", fatal)
                    return
                self.log.warning("Vobiz: %s; polling again in %.1f s", err, wait)
            else:
                wait = schedule.after_answer()
                stored = [
                    rid
                    for rid, at in yielded.items()
                    if at < poll_started and time.monotonic() - at >= EVENT_STORED_AFTER
                ]
                mark = mark.advance(listed, [*stored, *abandoned])
                for rid in stored:  # now covered by the watermark (or ahead of it), or deleted
                    del yielded[rid]
                past = {r.recording_id for r in listed if not mark.covers(r)}
                abandoned &= past
                failing = {rid: failed for rid, failed in failing.items() if rid in past}
                if debug:
                    self.log.debug(
                        "Listed %d recordings past the watermark%s; polling again in %.1f s",
                        len(listed),
                        skipped_words(skipped),
                        wait,
                    )
            if mark != saved:
                saved = await self._save(store, mark, saved)
            await asyncio.sleep(wait)

    async def _file_ready(
        self,
        hook: VobizAsyncHook,
        recording: Recording,
        failing: dict[str, tuple[int, float]],
        abandoned: set[str],
    ) -> bool:
        """Whether the file is ready; a failed probe stays with this recording, but a 429 or 401 is raised."""
        rid = recording.recording_id
        try:
            ready = await hook.recording_file_ready(recording)
        except VobizError as err:
            kind = classify(err)
            if kind is FailureKind.RATE_LIMITED or err.status_code == 401:
                raise
            count, first = failing.get(rid, (0, time.monotonic()))
            count += 1
            if kind is FailureKind.FATAL or (
                count >= PROBE_MAX_FAILURES and time.monotonic() - first >= PROBE_FAILING_FOR.total_seconds()
            ):
                failing.pop(rid, None)
                abandoned.add(rid)
                self.log.warning(
                    "Giving up recording %r of %r (added %s), no event for it: the check of its file failed "
                    "(%d in a row); the last: %s",
                    rid,
                    recording.conference_name,
                    isoformat_utc(recording.add_time),
                    count,
                    err,
                )
            else:
                failing[rid] = (count, first)
                if count == 1:
                    self.log.warning("Recording %r: %s; checking its file again at the next polls", rid, err)
            return False
        failing.pop(rid, None)
        if not ready and datetime.now(timezone.utc) - recording.add_time > PENDING_FILE_LIMIT:
            self.log.error("Skipping recording %r: its file is still not available a day after it was added", rid)
            abandoned.add(rid)
        return ready

    async def _load(self, store: WatermarkStore) -> Watermark:
        """The saved watermark; on a first start, now (saved before anything is emitted)."""
        while True:
            try:
                mark = await store.load()
                if mark is not None:
                    self.log.info("Watching recordings added after %s", isoformat_utc(mark.add_time))
                    return mark
                mark = Watermark.starting_at(datetime.now(timezone.utc))
                await store.save(mark)
            except Exception as err:  # the API server holding the state store did not answer
                self.log.warning(
                    "Asset state store, key %r: %s; trying again in %.1f s", store.key, err, self.poll_interval
                )
                await asyncio.sleep(self.poll_interval)
            else:
                self.log.info("First start: emitting recordings added from %s on", isoformat_utc(mark.add_time))
                return mark

    async def _save(self, store: WatermarkStore, mark: Watermark, saved: Watermark) -> Watermark:
        """Save ``mark``; return the watermark saved now (``saved`` if the write failed)."""
        try:
            await store.save(mark)
        except Exception as err:
            self.log.warning("Asset state store, key %r: %s; saving again after the next poll", store.key, err)
            return saved
        return mark

    async def _list_past(self, hook: VobizAsyncHook, mark: Watermark) -> tuple[list[Recording], int]:
        """The recordings past the watermark this watcher emits, oldest first, and the rows skipped."""
        filters: dict[str, Any] = {"recording_type": self.recording_type, **add_time_filters(mark.add_time)}
        if self.conference_name is not None:
            filters["conference_name"] = self.conference_name
        index = RecordingIndex(mark.add_time, filters)
        async with aclosing(hook.iter_recording_pages(**index.filters)) as pages:
            async for page in pages:
                if not index.add_page(page):  # past the watermark (newest first, checked): nothing is new
                    break
        new = [rec for rec in index.rows if self.matches(rec) and not mark.covers(rec)]
        return sorted(new, key=lambda r: (r.add_time, r.recording_id)), index.skipped
