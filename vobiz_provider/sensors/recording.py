"""ConferenceRecordingSensor. DAG files import this module: the hook and trigger are imported when a task runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from vobiz_provider.exceptions import UnreadableEventError, VobizError
from vobiz_provider.validation import (
    DEFAULT_CONN_ID,
    check_pacing,
    invalid_input_fails_task,
    isoformat_utc,
    window_from_context,
)
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

# Airflow's deferral timeout comes this much after the trigger's, whose timeout event says what was seen.
DEFERRAL_GRACE = timedelta(seconds=60)
# Exponential backoff doubles the interval, as BaseSensorOperator's does in poke mode.
BACKOFF_FACTOR = 2.0


def default_since(context: Context) -> datetime | None:
    """The default ``since`` of the run's meeting window."""
    window = window_from_context(context)
    return None if window is None else window.since


def _unset(value: Any) -> bool:
    return value is None or value == ""


class ConferenceRecordingSensor(BaseSensorOperator):
    """Wait until a Vobiz conference recording's file can be downloaded; return its dict (docs/meeting-window.md).

    :param conference_name: the room, case-sensitive (templated); with ``recording_id``, its room.
    :param recording_id: the recording's id (templated); ``since`` and ``until`` are then not used.
    :param since: the window's start: an ISO-8601 string or a datetime (templated; no offset: UTC).
    :param until: the window's end, as ``since``; not before it.
    :param after_stop: the stop operator's XCom: when ``"stopped"``, the part that stop ended.
    :param collect: ``"newest"`` (default) or ``"all"``: every recording of the window, oldest first.
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param max_consecutive_failures: deferrable only: failed polls in a row (not 429) that fail the sensor.
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
        """The wait's state, kept across pokes of one try."""
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
        return PokeReturnValue(
            is_done=True, xcom_value=self._ready(recording, wait.collected(), wait.several_in_window())
        )

    def _get_next_poke_interval(self, started_at: Any, run_duration: Callable[[], float], poke_count: int) -> float:
        """Airflow's interval, cut to end at the timeout: the last poke is made at the deadline."""
        interval = super()._get_next_poke_interval(started_at, run_duration, poke_count)
        return max(0.0, min(interval, self.timeout - run_duration()))

    def _check_then_defer(self, context: Context, wait: RecordingWait) -> dict[str, Any] | list[dict[str, Any]]:
        """One check on the worker, then defer to the trigger."""
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
            return self._ready(recording, wait.collected(), wait.several_in_window())
        self.log.info("Not ready yet, waiting in the triggerer: %s", wait.describe())
        with invalid_input_fails_task():
            trigger = ConferenceRecordingTrigger(
                **wait.target.to_kwargs(),
                deadline=deadline,
                vobiz_conn_id=self.vobiz_conn_id,
                poll_interval=self.poke_interval,
                poll_backoff=self._poll_backoff,
                max_poll_interval=self._max_poll_interval,
                max_consecutive_failures=self.max_consecutive_failures,
                recording_seen=wait.row_seen,
                # The worker has just asked: the trigger's first poll comes one interval later.
                first_poll_at=time.time() + max(self.poke_interval, pause),
            )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _skip_if_soft_fail(self, err: VobizError) -> None:
        """A failure waiting cannot fix skips the task with ``soft_fail`` (or ``never_fail``)."""
        for flag in ("soft_fail", "never_fail"):  # never_fail: newer Airflow releases only
            if getattr(self, flag, False):
                raise AirflowSkipException(f"Skipping due to {flag}: {err}") from err

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any] | list[dict[str, Any]]:
        """Resume after the trigger: the recording, or the trigger's failure."""
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
        return self._ready(outcome.recording, list(outcome.recordings or ()), outcome.message or None)

    def _ready(
        self, recording: Recording, parts: list[Recording], several: str | None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """The XCom, logged: the recording, or with ``collect="all"`` every part, oldest first."""
        result = [part.to_dict() for part in parts] if parts else recording.to_dict()
        if several:
            self.log.warning("%s", several)
        for ready in result if isinstance(result, list) else [result]:
            self.log.info(
                "The file of recording %r of %r (added %s) can be downloaded",
                ready["recording_id"],
                ready["conference_name"],
                ready["add_time"],
            )
        return result
