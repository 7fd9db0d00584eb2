"""Operators that stop and start a Vobiz conference room's recording, on the worker, through the hook.

Only ``airflow.sdk``, the standard library and the provider's light modules are imported here:
DAG files import this module at every parse. The hook is imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from vobiz_provider.models import FILE_FORMATS, RecordingStopped, StopStatus
from vobiz_provider.validation import (
    invalid_input_fails_task,
    require_choice,
    require_http_url,
    require_name,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from vobiz_provider.hooks.vobiz import VobizHook

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


def _try_number(context: Context) -> int:
    ti = context.get("ti")
    return int(getattr(ti, "try_number", 1) or 1)


class _VobizRecordingOperator(BaseOperator):
    """What both operators share: the connection, the room and the hook."""

    def __init__(self, *, conference_name: str, vobiz_conn_id: str = "vobiz_default", **kwargs: Any) -> None:
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

    Returns (XCom ``return_value``) ``{"conference_name", "status", "stopped_at"}``;
    ``stopped_at`` is ISO-8601 UTC, when Vobiz's answer arrived.

    :param conference_name: the room, case-sensitive (templated).
    :param if_not_recording: ``"succeed"`` (default: warn and succeed), ``"skip"`` (skip the
        task) or ``"fail"`` (fail it, without retries, naming the room).
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    """

    template_fields: Sequence[str] = ("conference_name",)
    ui_color = "#f4d6d6"

    def __init__(
        self,
        *,
        conference_name: str,
        if_not_recording: IfNotRecording | str = IfNotRecording.SUCCEED,
        vobiz_conn_id: str = "vobiz_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(conference_name=conference_name, vobiz_conn_id=vobiz_conn_id, **kwargs)
        try:
            self.if_not_recording = IfNotRecording(if_not_recording)
        except ValueError:
            choices = ", ".join(repr(choice.value) for choice in IfNotRecording)
            raise ValueError(f"if_not_recording must be one of {choices}, got {if_not_recording!r}") from None

    def execute(self, context: Context) -> dict[str, Any]:
        with invalid_input_fails_task():
            room = require_name(self.conference_name, "conference_name")
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
        else:
            self._not_recording(outcome, _try_number(context))
        return {"conference_name": room, "status": outcome.status.value, "stopped_at": stopped_at}

    def _not_recording(self, outcome: RecordingStopped, try_number: int) -> None:
        """Log, skip or fail for a room Vobiz had nothing to stop in."""
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
        vobiz_conn_id: str = "vobiz_default",
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
