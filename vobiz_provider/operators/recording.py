"""Operators that stop and start a Vobiz conference room's recording, on the worker, through the hook.

Only ``airflow.sdk``, the standard library and the provider's light modules are imported here:
DAG files import this module at every parse. The hook is imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from vobiz_provider.constants import DEFAULT_CONN_ID, FILE_FORMATS
from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.instants import isoformat_utc
from vobiz_provider.meeting_window import DEFAULT_STALE_AFTER, meeting_end
from vobiz_provider.models import RecordingStopped, StopStatus
from vobiz_provider.validation import (
    as_duration,
    invalid_input_fails_task,
    require_choice,
    require_http_url,
    require_name,
)
from vobiz_provider.version_compat import AirflowFailException, AirflowSkipException, BaseOperator

if TYPE_CHECKING:
    from vobiz_provider.hooks.vobiz import VobizHook
    from vobiz_provider.version_compat import Context

__all__ = ["IfNotRecording", "StartConferenceRecordingOperator", "StopConferenceRecordingOperator"]


class IfNotRecording(str, Enum):
    """What a stop does when Vobiz has nothing to stop (the room is unknown or ended, or not recording)."""

    SUCCEED = "succeed"
    """Log a warning and succeed; XCom ``status`` is ``not_recording``."""
    SKIP = "skip"
    """Skip the task (and, by the usual trigger rules, what depends on it)."""
    FAIL = "fail"
    """Fail the task without retries, naming the room."""


def _answered_at() -> str:
    """Now, as ISO-8601 UTC with its offset: the moment Vobiz's answer was in hand."""
    return datetime.now(timezone.utc).isoformat()


def _hours(delta: timedelta) -> str:
    """A duration in words for a log line: "3 h 05 min", "42 min"."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _try_number(context: Context) -> int:
    ti = context.get("ti")
    return int(getattr(ti, "try_number", 1) or 1)


class _VobizRecordingOperator(BaseOperator):
    """What both operators share: the connection, the room and the hook."""

    def __init__(self, *, conference_name: str, vobiz_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conference_name = conference_name
        self.vobiz_conn_id = vobiz_conn_id

    def _hook(self) -> VobizHook:
        from vobiz_provider.hooks.vobiz import VobizHook

        return VobizHook(vobiz_conn_id=self.vobiz_conn_id)


class StopConferenceRecordingOperator(_VobizRecordingOperator):
    """Stop the recording of a Vobiz conference room.

    A stop Vobiz confirms is ``status: "stopped"``. When Vobiz has nothing to stop (the room is
    unknown or has ended, which stops its recording, or Vobiz refuses because nothing records)
    the status is ``"not_recording"`` and ``if_not_recording`` decides the task's outcome. So a
    retry after a try whose stop went through but whose answer was lost succeeds (unless
    ``"fail"``). Vobiz answers a live room with nothing recording with 204 too, which counts
    as ``"stopped"``: the two cannot be told apart.

    No stale stops: in a run whose meeting ended more than ``stale_after`` ago (the end of the
    run's data interval; a backfill, or a re-run of an old run) nothing is sent, because what
    the room records now is a later meeting. The task succeeds with ``status: "not_sent"``,
    ``stopped_at`` null and the ``reason`` in XCom and in the log, so the rest of the run goes
    on to collect that meeting's recording if it exists. Runs without a data interval (manual
    runs without a logical date, asset-triggered runs) and runs within ``stale_after`` of their
    interval's end stop as usual. A manual run with a logical date of a data-interval timetable
    (``CronDataIntervalTimetable``) gets the last complete interval, which may have ended hours
    ago: trigger it without a logical date to stop now.

    Returns (XCom ``return_value``) ``{"conference_name", "status", "stopped_at", "reason"}``;
    ``stopped_at`` is ISO-8601 UTC, when Vobiz's answer arrived (null for ``"not_sent"``);
    ``reason`` says why when the status is not ``"stopped"`` (else null).

    :param conference_name: the room, case-sensitive (templated).
    :param if_not_recording: ``"succeed"`` (default: warn and succeed), ``"skip"`` (skip the
        task) or ``"fail"`` (fail it, without retries, naming the room).
    :param stale_after: a ``timedelta`` or seconds: how long after the end of the run's data
        interval the meeting counts as long over, so nothing is sent. Default one hour: longer
        than a late scheduler, a queue and a few retries of the stop; shorter than the gap
        between meetings of one room that a backfill could otherwise cut short. None: always send.
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    """

    template_fields: Sequence[str] = ("conference_name",)
    ui_color = "#f4d6d6"

    def __init__(
        self,
        *,
        conference_name: str,
        if_not_recording: IfNotRecording | str = IfNotRecording.SUCCEED,
        stale_after: timedelta | float | None = DEFAULT_STALE_AFTER,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(conference_name=conference_name, vobiz_conn_id=vobiz_conn_id, **kwargs)
        try:
            self.if_not_recording = IfNotRecording(if_not_recording)
        except ValueError:
            choices = ", ".join(repr(choice.value) for choice in IfNotRecording)
            raise ValueError(f"if_not_recording must be one of {choices}, got {if_not_recording!r}") from None
        try:
            self.stale_after = as_duration(stale_after, "stale_after")
        except VobizConfigError as err:
            raise ValueError(str(err)) from None

    def execute(self, context: Context) -> dict[str, Any]:
        with invalid_input_fails_task():
            room = require_name(self.conference_name, "conference_name")
        stale = self._stale_reason(context)
        if stale is not None:
            self.log.warning("Not stopping the recording of conference %r: %s", room, stale)
            return {"conference_name": room, "status": StopStatus.NOT_SENT.value, "stopped_at": None, "reason": stale}
        hook = self._hook()
        try:
            outcome = hook.stop_conference_recording(room)
        finally:
            hook.close()
        stopped_at = _answered_at()
        if outcome.status is StopStatus.STOPPED:
            self.log.info(
                "Stopped the recording of conference %r: Vobiz answered %s, api_id %s",
                room,
                outcome.http_status,
                outcome.api_id or "not sent",
            )
            return {"conference_name": room, "status": outcome.status.value, "stopped_at": stopped_at, "reason": None}
        reason = self._not_recording(outcome, _try_number(context))
        return {"conference_name": room, "status": outcome.status.value, "stopped_at": stopped_at, "reason": reason}

    def _stale_reason(self, context: Context) -> str | None:
        """Why this run must not stop anything (its meeting ended over ``stale_after`` ago), or None."""
        end = meeting_end(context)
        if end is None or self.stale_after is None:
            return None
        now = datetime.now(timezone.utc)
        if now - end <= self.stale_after:
            return None
        return (
            f"the run's meeting ended at {isoformat_utc(end)} (its data interval's end), "
            f"{_hours(now - end)} ago, more than stale_after ({_hours(self.stale_after)}): "
            "this run is a backfill or a re-run, and what the room records now is a later meeting"
        )

    def _not_recording(self, outcome: RecordingStopped, try_number: int) -> str:
        """Log, skip or fail for a room Vobiz had nothing to stop in; the reason, for XCom."""
        # The hook's detail already says what was asked, Vobiz's status, its words and api_id.
        answer = outcome.detail or f"Vobiz answered {outcome.http_status}, api_id {outcome.api_id or 'not sent'}"
        message = (
            f"Nothing to stop in conference {outcome.conference_name!r} (the room is unknown or has ended, "
            f"or nothing is recording): {answer}"
        )
        if try_number > 1:
            message += f"; this is try {try_number}, so an earlier try may have stopped it"
        if self.if_not_recording is IfNotRecording.FAIL:
            raise AirflowFailException(message)
        self.log.warning("%s; status not_recording, if_not_recording=%r", message, self.if_not_recording.value)
        if self.if_not_recording is IfNotRecording.SKIP:
            raise AirflowSkipException(message)
        return message


class StartConferenceRecordingOperator(_VobizRecordingOperator):
    """Start recording a live Vobiz conference room.

    Vobiz answers 404 while nobody has joined the room: that fails the task, so give it
    ``retries`` to wait for the first member. A room that is recording already is a warning and
    a success. The current API returns no recording id or URL (find the recording afterwards
    with :class:`~vobiz_provider.sensors.recording.ConferenceRecordingSensor`); older API
    versions do, and then they are passed on.

    Returns (XCom ``return_value``) ``{"conference_name", "started_at", "api_id",
    "recording_id", "url"}``; ``recording_id`` and ``url`` are null unless Vobiz sent them.

    :param conference_name: the room, case-sensitive (templated).
    :param file_format: ``"mp3"`` (default) or ``"wav"`` (templated).
    :param callback_url: an http(s) URL Vobiz may call when the file is ready; Vobiz does not
        guarantee the call (templated, optional).
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    """

    template_fields: Sequence[str] = ("conference_name", "file_format", "callback_url")
    ui_color = "#d6f4dc"

    def __init__(
        self,
        *,
        conference_name: str,
        file_format: str = "mp3",
        callback_url: str | None = None,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(conference_name=conference_name, vobiz_conn_id=vobiz_conn_id, **kwargs)
        self.file_format = file_format
        self.callback_url = callback_url

    def execute(self, context: Context) -> dict[str, Any]:
        with invalid_input_fails_task():
            room = require_name(self.conference_name, "conference_name")
            file_format = require_choice(self.file_format, "file_format", FILE_FORMATS)
            callback_url = require_http_url(self.callback_url, "callback_url", optional=True)
        hook = self._hook()
        try:
            started = hook.start_conference_recording(room, file_format=file_format, callback_url=callback_url)
        finally:
            hook.close()
        started_at = _answered_at()
        if started.already_recording:
            self.log.warning(
                "Conference %r was recording already, nothing to start: %s",
                room,
                started.message,
            )
        else:
            self.log.info(
                "Started recording conference %r as %s: Vobiz said %r, api_id %s, recording_id %s",
                room,
                file_format,
                started.message,
                started.api_id or "not sent",
                started.recording_id or "not returned (find it by room and time after the meeting)",
            )
        return {
            "conference_name": room,
            "started_at": started_at,
            "api_id": started.api_id,
            "recording_id": started.recording_id,
            "url": started.url,
        }
