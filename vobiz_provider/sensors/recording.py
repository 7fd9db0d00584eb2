"""ConferenceRecordingSensor: wait until a Vobiz conference recording's file can be downloaded.

Only ``airflow.sdk``, the standard library and the provider's light modules are imported here:
DAG files import this module at every parse. The hook and the trigger load when a task runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from vobiz_provider.constants import DEFAULT_CONN_ID
from vobiz_provider.exceptions import UnreadableEventError, VobizError
from vobiz_provider.instants import isoformat_utc
from vobiz_provider.meeting_window import window_from_context
from vobiz_provider.validation import check_pacing, invalid_input_fails_task
from vobiz_provider.version_compat import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from vobiz_provider.waiting import (
    Collect,
    FailureKind,
    RecordingTarget,
    RecordingWait,
    WaitStatus,
    asked_wait,
    classify,
    poll,
    read_event,
    stop_time,
)

if TYPE_CHECKING:
    from vobiz_provider.hooks.vobiz import VobizHook
    from vobiz_provider.models import Recording
    from vobiz_provider.version_compat import Context

__all__ = ["ConferenceRecordingSensor"]

# Airflow's own deferral timeout is a backstop set this much after the trigger's deadline, so
# the trigger's timeout event (which says what was seen) arrives first.
DEFERRAL_GRACE = timedelta(seconds=60)
# Exponential backoff doubles the interval, as BaseSensorOperator's does in poke mode.
BACKOFF_FACTOR = 2.0


def default_since(context: Context) -> datetime | None:
    """The default ``since`` of the run's meeting window (see :func:`~vobiz_provider.meeting_window.default_window`)."""
    window = window_from_context(context)
    return None if window is None else window.since


def _unset(value: Any) -> bool:
    return value is None or value == ""


class ConferenceRecordingSensor(BaseSensorOperator):
    """Wait until a Vobiz conference recording exists and its file can be downloaded.

    The recording is chosen by ``recording_id``, or as the newest conference recording of
    ``conference_name`` added within the meeting's window ``[since, until]`` (instants, both
    bounds inclusive), so a re-run or a backfill collects its own meeting's recording. Every row
    is checked here (Vobiz may ignore list filters); the sensor succeeds only when the file is
    available (HEAD, else a one-byte ranged GET). 401/403 fail at once (with ``soft_fail``, the
    task is skipped); so does a recording id that answers 404 after its row had been seen.
    Unset bounds default from the run's data interval (docs/meeting-window.md, "The sensor's
    default window", and "When to set the bounds by hand").

    Several recordings of the room in the window (stopped and restarted): the newest is returned
    and a warning names the others; ``after_stop`` waits for the part the pipeline's stop ended,
    ``collect="all"`` returns every part (docs/meeting-window.md, "Several recordings in one
    meeting").

    ``poke`` and ``reschedule`` use the connection's retry policy per poke. Deferrable (default:
    ``[operators] default_deferrable``), it checks once on the worker, then defers to
    :class:`~vobiz_provider.triggers.recording.ConferenceRecordingTrigger` with a deadline
    ``timeout`` seconds after the task started (docs/architecture.md follows that path).

    Returns (XCom) the recording as a dict (``recording_id``, ``recording_url``,
    ``conference_name``, ``add_time``, ...; :meth:`~vobiz_provider.models.Recording.to_dict`), or
    with ``collect="all"`` a list of them, oldest first. A timeout says what was looked for and
    what was seen.

    :param conference_name: the room, case-sensitive (templated). With ``recording_id``, the
        recording must be of this room.
    :param recording_id: the recording's id (templated); ``since`` and ``until`` are then not used.
    :param since: the window's start (inclusive): an ISO-8601 string or a datetime (templated);
        a value without an offset is UTC. Empty or None: the default from the run (see above).
    :param until: the window's end (inclusive), the same types and rules as ``since``; it must not
        be before ``since``. Empty or None: the default from the run (see above).
    :param after_stop: the stop operator's XCom (templated: ``after_stop=stop.output``; a dict, or
        its JSON). When its ``status`` is ``"stopped"``, only a recording of the room that ended at
        or after its ``stopped_at`` (its ``end_ms``, else its ``add_time``; less 30 s for the
        difference between Vobiz's clock and the worker's) is the recording: an earlier part of
        the window is never returned as it. ``"not_recording"`` and ``"not_sent"`` change nothing.
        Not used with ``recording_id``.
    :param collect: ``"newest"`` (default): one recording dict; ``"all"``: a list of every
        recording of the room added within ``[since, until]``, oldest first, returned once each
        file can be downloaded (and, with ``after_stop``, once the stop's part is among them).
        Not with ``recording_id`` (refused).
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param max_consecutive_failures: deferrable only: failed polls in a row (5xx, transport
        failures, malformed answers) after which the sensor fails; 429 does not count.

    ``poke_interval``, ``timeout``, ``mode``, ``exponential_backoff`` and ``max_wait`` (the cap
    of the growing interval) apply as for every sensor, to the trigger's polls too.
    """

    template_fields: Sequence[str] = ("conference_name", "recording_id", "since", "until", "after_stop")
    ui_color = "#e6dcf4"

    def __init__(
        self,
        *,
        conference_name: str | None = None,
        recording_id: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        after_stop: dict[str, Any] | str | None = None,
        collect: str = Collect.NEWEST.value,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_failures: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conference_name = conference_name
        self.recording_id = recording_id
        self.since = since
        self.until = until
        self.after_stop = after_stop
        self.collect = collect
        self.vobiz_conn_id = vobiz_conn_id
        self.deferrable = deferrable
        self.max_consecutive_failures = max_consecutive_failures
        if deferrable:
            check_pacing(
                self.poke_interval,
                self._poll_backoff,
                self._max_poll_interval,
                max_consecutive_failures,
                interval_param="poke_interval",
                max_interval_param="max_wait",
            )
        self._wait: RecordingWait | None = None
        self._hook: VobizHook | None = None

    @property
    def _poll_backoff(self) -> float:
        return BACKOFF_FACTOR if self.exponential_backoff else 1.0

    @property
    def _max_poll_interval(self) -> float | None:
        return None if self.max_wait is None else self.max_wait.total_seconds()

    def _get_wait(self, context: Context) -> RecordingWait:
        """The wait's state, kept across pokes of one try; the inputs are checked on first use."""
        if self._wait is None:
            since, until = self.since, self.until
            window = window_from_context(context) if self.recording_id in (None, "") else None
            if window is not None and (_unset(since) or _unset(until)):
                self.log.info("The run's meeting window: %s", window.describe())
                since = window.since if _unset(since) else since
                until = window.until if _unset(until) else until
            with invalid_input_fails_task():
                stopped_at = None if self.recording_id not in (None, "") else stop_time(self.after_stop)
                target = RecordingTarget.from_inputs(
                    conference_name=self.conference_name,
                    recording_id=self.recording_id,
                    since=since,
                    until=until,
                    stopped_at=stopped_at,
                    collect=self.collect,
                )
            if stopped_at is not None:
                self.log.info("Waiting for the part the stop at %s ended", isoformat_utc(stopped_at))
            self._wait = RecordingWait(target)
        return self._wait

    def _get_hook(self, **kwargs: Any) -> VobizHook:
        if self._hook is None:
            from vobiz_provider.hooks.vobiz import VobizHook

            self._hook = VobizHook(self.vobiz_conn_id, **kwargs)
        return self._hook

    def execute(self, context: Context) -> Any:
        wait = self._get_wait(context)
        try:
            if self.deferrable:
                return self._check_then_defer(context, wait)
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                raise AirflowSensorTimeout(f"Timed out after {self.timeout:g} s: {wait.describe()}") from err
        finally:
            if self._hook is not None:
                self._hook.close()
                self._hook = None

    def poke(self, context: Context) -> PokeReturnValue:
        wait = self._get_wait(context)
        try:
            with invalid_input_fails_task():
                recording = poll(self._get_hook(), wait)
        except VobizError as err:
            if classify(err) is FailureKind.FATAL:
                self._skip_if_soft_fail(err)
            raise
        if recording is None:
            self.log.info("Not ready yet: %s", wait.describe())
            return PokeReturnValue(is_done=False)
        result = self._result(recording, wait.collected())
        self._log_ready(result, wait.several_in_window())
        return PokeReturnValue(is_done=True, xcom_value=result)

    def _get_next_poke_interval(self, started_at: Any, run_duration: Callable[[], float], poke_count: int) -> float:
        """Airflow's interval, cut to end at the timeout: the last poke is made at the deadline, as
        the trigger's is, not up to an interval after it."""
        interval = super()._get_next_poke_interval(started_at, run_duration, poke_count)
        return max(0.0, min(interval, self.timeout - run_duration()))

    def _check_then_defer(self, context: Context, wait: RecordingWait) -> dict[str, Any] | list[dict[str, Any]]:
        """One check on the worker (a ready recording returns at once), then defer to the trigger."""
        from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

        deadline = time.time() + self.timeout
        pause = 0.0
        try:
            # No retries here: the trigger's loop is the retry, paced and with its own budget.
            hook = self._get_hook(max_retries=0)
            hook.set_deadline(deadline)  # the first check ends by the deadline, whatever the request timeout
            with invalid_input_fails_task():
                recording = poll(hook, wait)
        except VobizError as err:
            if classify(err) is FailureKind.FATAL:
                self._skip_if_soft_fail(err)
                raise
            self.log.warning("Vobiz: %s; the triggerer will keep trying", err)
            recording, pause = None, asked_wait(err)
        if recording is not None:
            result = self._result(recording, wait.collected())
            self._log_ready(result, wait.several_in_window())
            return result
        self.log.info("Not ready yet, waiting in the triggerer: %s", wait.describe())
        target = wait.target
        with invalid_input_fails_task():
            trigger = ConferenceRecordingTrigger(
                deadline=deadline,
                conference_name=target.conference_name,
                recording_id=target.recording_id,
                since=None if target.since is None else isoformat_utc(target.since),
                until=None if target.until is None else isoformat_utc(target.until),
                vobiz_conn_id=self.vobiz_conn_id,
                poll_interval=self.poke_interval,
                poll_backoff=self._poll_backoff,
                max_poll_interval=self._max_poll_interval,
                max_consecutive_failures=self.max_consecutive_failures,
                recording_seen=wait.row_seen,
                # The worker has just asked: the trigger's first poll comes one interval later.
                first_poll_at=time.time() + max(self.poke_interval, pause),
                stopped_at=None if target.stopped_at is None else isoformat_utc(target.stopped_at),
                collect=target.collect.value,
            )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _skip_if_soft_fail(self, err: VobizError) -> None:
        """A failure waiting cannot fix (401/403, another 4xx) skips the task with ``soft_fail`` (or
        ``never_fail``), as Airflow does for a sensor's own failures and the trigger's error event."""
        for flag in ("soft_fail", "never_fail"):  # never_fail: newer Airflow releases only
            if getattr(self, flag, False):
                raise AirflowSkipException(f"Skipping due to {flag}: {err}") from err

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any] | list[dict[str, Any]]:
        """Resume after the trigger: the recording (as the poke path returns it), or the trigger's failure."""
        try:
            outcome = read_event(event)
        except UnreadableEventError as err:
            raise AirflowException(f"{self.task_id} cannot read the trigger's event: {err}") from err
        if outcome.status is WaitStatus.TIMEOUT:
            raise AirflowSensorTimeout(outcome.message)
        if outcome.status is WaitStatus.ERROR or outcome.recording is None:
            raise AirflowException(outcome.message)
        if self.collect == Collect.ALL.value and not outcome.recordings:
            raise AirflowException(f"{self.task_id} asked for every part, but the trigger's event carries none")
        result = self._result(outcome.recording, list(outcome.recordings or ()))
        self._log_ready(result, outcome.message or None)
        return result

    @staticmethod
    def _result(recording: Recording, parts: list[Recording]) -> dict[str, Any] | list[dict[str, Any]]:
        """The XCom: the recording, or with ``collect="all"`` every part, oldest first."""
        return [part.to_dict() for part in parts] if parts else recording.to_dict()

    def _log_ready(self, result: dict[str, Any] | list[dict[str, Any]], several: str | None = None) -> None:
        if several:
            self.log.warning("%s", several)
        for recording in result if isinstance(result, list) else [result]:
            self.log.info(
                "The file of recording %r of %r (added %s) can be downloaded",
                recording["recording_id"],
                recording["conference_name"],
                recording["add_time"],
            )
