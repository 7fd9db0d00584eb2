"""ConferenceRecordingTrigger: waits in the triggerer until a recording's file can be downloaded.

The async hook (and aiohttp) load with this module, not inside ``run()``: an import in the
triggerer's event loop would stall every other trigger on it. The sensor's module never imports
this one at DAG-parse time (only when it defers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from vobiz_provider.constants import DEFAULT_CONN_ID
from vobiz_provider.exceptions import VobizConfigError, VobizError
from vobiz_provider.hooks.vobiz import VobizAsyncHook
from vobiz_provider.instants import isoformat_utc, parse_instant
from vobiz_provider.waiting.events import error_event, success_event, timeout_event
from vobiz_provider.waiting.polls import poll_async
from vobiz_provider.waiting.schedule import PollSchedule, check_pacing
from vobiz_provider.waiting.wait import RecordingTarget, RecordingWait

__all__ = ["ConferenceRecordingTrigger"]

# The trigger's own loop is the retry: a request that fails is not repeated inside the hook.
HOOK_MAX_RETRIES = 0


def _epoch(value: float | str, field: str) -> float:
    """Seconds since the epoch from a number or an ISO-8601 instant."""
    if isinstance(value, str):
        return parse_instant(value, field=field).timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise VobizConfigError(f"{field} must be seconds since the epoch or an ISO-8601 instant, got {value!r}")
    return float(value)


class ConferenceRecordingTrigger(BaseTrigger):
    """Poll Vobiz until a recording's file answers, then send one event.

    Looks the recording up by id, or as the newest conference recording of a room added within
    ``[since, until]`` (the meeting's window); once its row is found, only its file is probed (HEAD, else a one-byte
    ranged GET, with the scoped credentials). One :class:`~vobiz_provider.hooks.vobiz.VobizAsyncHook`
    (one HTTP session, kept alive) serves the whole wait; the connection is looked up once,
    asynchronously. Every poll is followed by a sleep of at least the poll interval, on errors
    too, stretched by ``Retry-After``; a last poll is made at the deadline.

    Sends exactly one event: ``{"status": "success", "recording": {...}}``,
    ``{"status": "timeout", "message": ...}`` (what was looked for and what was seen) or
    ``{"status": "error", "message": ...}`` (401/403, a recording id that answers 404 after its
    row had been seen, bad input, another 4xx, or ``max_consecutive_failures`` failed polls in a
    row; 429 is waited out and not counted).

    Every argument is plain JSON, so the trigger survives a triggerer restart unchanged.

    :param deadline: when to give up: seconds since the epoch, or an ISO-8601 instant.
    :param conference_name: the room (with ``since``), or the room ``recording_id`` must belong to.
    :param recording_id: the recording's id.
    :param since: ISO-8601; recordings of the room added before it are not this meeting's.
    :param until: ISO-8601 or None (no upper bound); recordings of the room added after it are not
        this meeting's.
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    :param poll_interval: seconds between polls.
    :param poll_backoff: factor the interval grows by after each poll (1: constant).
    :param max_poll_interval: the longest interval; default ten minutes.
    :param max_consecutive_failures: failed polls in a row (5xx, transport, malformed answers) that end the wait.
    :param recording_seen: the recording's row was seen already (by the worker's check): by id, a 404
        now means it was deleted.
    :param first_poll_at: seconds since the epoch before which not to poll (the worker just did).
    """

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
    ) -> None:
        super().__init__()
        check_pacing(poll_interval, poll_backoff, max_poll_interval, max_consecutive_failures)
        self.target = RecordingTarget.from_inputs(
            conference_name=conference_name, recording_id=recording_id, since=since, until=until
        )
        self.deadline = _epoch(deadline, "deadline")
        self.vobiz_conn_id = vobiz_conn_id
        self.poll_interval = float(poll_interval)
        self.poll_backoff = float(poll_backoff)
        self.max_poll_interval = None if max_poll_interval is None else float(max_poll_interval)
        self.max_consecutive_failures = max_consecutive_failures
        self.recording_seen = bool(recording_seen)
        self.first_poll_at = None if first_poll_at is None else float(first_poll_at)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        target = self.target
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "deadline": self.deadline,
                "conference_name": target.conference_name,
                "recording_id": target.recording_id,
                "since": None if target.since is None else isoformat_utc(target.since),
                "until": None if target.until is None else isoformat_utc(target.until),
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
        """The wait's outcome as an event payload; the hook's session is closed on every path (cancel too)."""
        hook = VobizAsyncHook(self.vobiz_conn_id, max_retries=HOOK_MAX_RETRIES)
        hook.set_deadline(self.deadline)  # a poll in flight ends by the deadline, not a full timeout later
        try:
            try:
                await hook.get_settings()
            except Exception as err:  # a missing or invalid connection: no poll can succeed
                return error_event(
                    f"Cannot wait for {self.target.describe()}: connection {self.vobiz_conn_id!r}: {err}"
                )
            return await self._poll(hook)
        finally:
            await hook.close()

    async def _poll(self, hook: VobizAsyncHook) -> dict[str, Any]:
        """Poll until the file is ready, the wait fails or the deadline passes; paced on every path."""
        wait = RecordingWait(self.target, seen=self.recording_seen)
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
        while True:
            try:
                recording = await poll_async(hook, wait)
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
                    return success_event(recording, several)
                pause, last_error = schedule.after_answer(), None
                self.log.debug("Not ready: %s; polling again in %.1f s", wait.describe(), pause)
            sleep = schedule.sleep_before_next_poll(pause, time.time())
            if sleep is None:
                return timeout_event(self._timeout_message(wait, last_error))
            await asyncio.sleep(sleep)

    def _timeout_message(self, wait: RecordingWait, last_error: VobizError | None) -> str:
        deadline = datetime.fromtimestamp(self.deadline, tz=timezone.utc).replace(microsecond=0)
        message = f"Timed out at {isoformat_utc(deadline)}: {wait.describe()}"
        if last_error is not None:
            message += f"; the last poll failed: {last_error}"
        return message
