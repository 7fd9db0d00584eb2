"""What a wait looks for and what one poll decides, written once for the sync and the async hook.

A poll is a generator that yields :class:`Ask` (a hook method and its arguments) and is sent
the hook's answer, or has the hook's error thrown into it. :func:`drive` runs it against
``VobizHook`` on the worker, :func:`drive_async` against ``VobizAsyncHook`` in the triggerer:
the decision stays free of I/O and both transports make exactly the same calls.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vobiz_provider.exceptions import VobizConfigError, VobizNotFoundError
from vobiz_provider.instants import isoformat_utc, parse_instant
from vobiz_provider.meeting_window import window_words
from vobiz_provider.models import Recording
from vobiz_provider.operators.validation import require_name

if TYPE_CHECKING:
    from vobiz_provider.hooks.search import RecordingSearch


class RecordingGoneError(VobizNotFoundError):
    """A recording that had been seen answers 404: it was deleted, so waiting cannot help."""


@dataclass(frozen=True)
class Ask:
    """One call a poll needs: a method both hooks have (sync or async) and its arguments."""

    method: str
    args: tuple[Any, ...]


Poll = Generator[Ask, Any, "Recording | None"]


def _optional_instant(value: Any, param: str) -> datetime | None:
    """None and "" mean "not given"; anything else must be an instant."""
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, field=param)
    except ValueError as err:
        raise VobizConfigError(str(err)) from None


def _optional_name(value: Any, param: str) -> str | None:
    """None and "" mean "not given" (one of the two names may be left out); anything else must be a name."""
    if value is None or value == "":
        return None
    return require_name(value, param)


@dataclass(frozen=True)
class RecordingTarget:
    """The recording a wait is for: one by id, or the newest of a room added within ``[since, until]``.

    :param conference_name: the room, case-sensitive; with ``recording_id`` it must be that recording's room.
    :param recording_id: the recording's id; when given, ``since`` and ``until`` are not used to choose.
    :param since: aware UTC; recordings of the room added before it belong to earlier meetings.
    :param until: aware UTC or None (no upper bound); recordings added after it belong to later meetings.
    """

    conference_name: str | None
    recording_id: str | None
    since: datetime | None
    until: datetime | None = None

    @classmethod
    def from_inputs(cls, *, conference_name: Any, recording_id: Any, since: Any, until: Any = None) -> RecordingTarget:
        """Check rendered inputs before any request: :class:`VobizConfigError` names the parameter at fault."""
        room = _optional_name(conference_name, "conference_name")
        recording_id = _optional_name(recording_id, "recording_id")
        if room is None and recording_id is None:
            raise VobizConfigError(
                "conference_name and recording_id are both empty: give the room (with since) or the recording's id"
            )
        when, last = _optional_instant(since, "since"), _optional_instant(until, "until")
        if when is None and recording_id is None:
            raise VobizConfigError("since is empty: looking for a recording by conference_name needs it")
        if when is not None and last is not None and last < when:
            raise VobizConfigError(
                f"until ({isoformat_utc(last)}) is before since ({isoformat_utc(when)}): the window is empty"
            )
        return cls(room, recording_id, when, last)

    def describe(self) -> str:
        """The target in words, for logs and messages."""
        if self.recording_id is not None:
            return f"recording {self.recording_id!r}"
        assert self.since is not None  # from_inputs guarantees it when there is no id
        return f"a recording of {self.conference_name!r} {window_words(self.since, self.until)}"


class RecordingLookup:
    """The state of one wait: the recording's row once found, and what the last poll saw.

    Once the row is known, a poll only probes its file: one request per poll while Vobiz
    finishes the file. By id, a 404 for the row means "not yet" until the row has been seen;
    after that it means the recording is gone (:class:`RecordingGoneError`).

    :param target: what to look for.
    :param seen: the row was seen before (by an earlier check on the worker).
    """

    def __init__(self, target: RecordingTarget, *, seen: bool = False) -> None:
        self.target = target
        self.seen = seen
        self.found: Recording | None = None
        # The room's other recordings in the window when the row was found (stopped and restarted).
        self.others: list[Recording] = []
        self._last_seen = f"no answer from Vobiz yet about {target.describe()}"

    def poll(self) -> Poll:
        """One poll: find the row (unless known), then probe its file; the ready recording or None."""
        if self.found is None:
            recording = yield from self._find_row()
            if recording is None:
                return None
            self.found, self.seen = recording, True
        ready = yield Ask("recording_file_ready", (self.found,))
        if not ready:
            self._last_seen = f"{_name(self.found)} was found, but its file still answered 404 at the last check"
            return None
        return self.found

    def _find_row(self) -> Generator[Ask, Any, Recording | None]:
        target = self.target
        if target.recording_id is None:
            search: RecordingSearch = yield Ask(
                "find_conference_recording", (target.conference_name, target.since, target.until)
            )
            if search.match is None:
                self._last_seen = search.describe()
            self.others = search.others_in_window()
            return search.match
        try:
            recording: Recording = yield Ask("get_recording", (target.recording_id,))
        except VobizNotFoundError as err:
            if self.seen:
                raise RecordingGoneError(
                    f"recording {target.recording_id!r} was seen before and now answers 404: it was deleted ({err})",
                    status_code=err.status_code,
                    api_id=err.api_id,
                ) from None
            self._last_seen = f"Vobiz does not know recording {target.recording_id!r} yet (404)"
            return None
        if target.conference_name is not None and recording.conference_name != target.conference_name:
            raise VobizConfigError(
                f"recording_id {target.recording_id!r} is a recording of conference "
                f"{recording.conference_name!r}, not of conference_name {target.conference_name!r}"
            )
        return recording

    def several_in_window(self) -> str | None:
        """When the window held more than one recording of the room: which was chosen and which not."""
        if self.found is None or not self.others:
            return None
        rest = ", ".join(_name(rec) for rec in self.others)
        return (
            f"{len(self.others) + 1} recordings of {self.found.conference_name!r} in the meeting's window "
            f"(stopped and restarted?): chose the newest, {_name(self.found)}; not chosen: {rest}"
        )

    def describe(self) -> str:
        """What the last poll saw, e.g. "no recording of 'Team Sync' since ...; newest seen: ...\"."""
        return self._last_seen


def _name(recording: Recording) -> str:
    room = f" of {recording.conference_name!r}" if recording.conference_name else ""
    return f"recording {recording.recording_id!r}{room} (added {isoformat_utc(recording.add_time)})"


async def drive_async(poll: Poll, hook: Any) -> Recording | None:
    """Run a poll against a hook: each :class:`Ask` becomes a call (awaited if the hook is async),
    the answer or the error goes back into the poll, and the poll's result is returned."""
    answer: Any = None
    error: Exception | None = None
    while True:
        try:
            ask = poll.throw(error) if error is not None else poll.send(answer)
        except StopIteration as done:
            return done.value
        try:
            answer, error = getattr(hook, ask.method)(*ask.args), None
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception as err:
            answer, error = None, err


def drive(poll: Poll, hook: Any) -> Recording | None:
    """Run a poll with the sync ``VobizHook``: the same loop as :func:`drive_async`, which never
    suspends when nothing is awaitable, so it completes on its first step without an event loop."""
    steps = drive_async(poll, hook)
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise TypeError("drive() needs a sync hook; use drive_async() for VobizAsyncHook")
