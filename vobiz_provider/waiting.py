"""A wait for a recording's file, shared by the sensor and its trigger (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from vobiz_provider.exceptions import (
    PollingGaveUpError,
    RecordingGoneError,
    UnreadableEventError,
    UnusableRecordingError,
    VobizAuthError,
    VobizClientError,
    VobizConfigError,
    VobizError,
    VobizNotFoundError,
    VobizRateLimitError,
)
from vobiz_provider.models import Recording, StopStatus
from vobiz_provider.validation import (
    check_pacing,
    isoformat_utc,
    optional_instant,
    optional_name,
    parse_instant,
    parse_mapping_text,
    require_choice,
    window_words,
)

if TYPE_CHECKING:
    from vobiz_provider.hooks.api import RecordingSearch
    from vobiz_provider.hooks.vobiz import VobizAsyncHook, VobizHook
    from vobiz_provider.triggers.shared_polling import SharedRoomSearch

# Vobiz and the worker stamp a part's end and the stop by different clocks (docs/meeting-window.md).
STOP_CLOCK_ALLOWANCE_S = 30.0


class Collect(str, Enum):
    """What a wait for a room returns: the one recording, or every part of the meeting."""

    NEWEST = "newest"
    ALL = "all"


def stop_time(after_stop: Any) -> datetime | None:
    """The ``stopped_at`` in the stop operator's XCom (dict, JSON or repr); None if it stopped nothing."""
    if after_stop is None or after_stop == "":
        return None
    if isinstance(after_stop, str) and after_stop.strip().startswith("{"):
        after_stop = parse_mapping_text(after_stop.strip(), "after_stop")
    if not isinstance(after_stop, Mapping):
        raise VobizConfigError(
            "after_stop must be the stop operator's XCom (a dict with status and stopped_at, or its JSON), "
            f"got {type(after_stop).__name__} {after_stop!r:.120}"
        )
    statuses = [status.value for status in StopStatus]
    status = require_choice(after_stop.get("status"), "after_stop['status']", statuses)
    if status != StopStatus.STOPPED.value:
        return None
    stopped_at = after_stop.get("stopped_at")
    if stopped_at is None or stopped_at == "":
        raise VobizConfigError("after_stop says 'stopped' but its stopped_at is empty: when did the stop stop?")
    try:
        return parse_instant(stopped_at, field="after_stop['stopped_at']")
    except ValueError as err:
        raise VobizConfigError(f"{err} (a stop that says 'stopped' carries when it stopped)") from None


@dataclass(frozen=True)
class RecordingTarget:
    """The recording a wait is for: one by id, or the newest of a room within ``[since, until]``.

    :param conference_name: the room, case-sensitive; with ``recording_id`` it must be that recording's room.
    :param recording_id: the recording's id.
    :param since: aware UTC, the window's start.
    :param until: aware UTC or None (no upper bound).
    :param stopped_at: aware UTC or None: when the pipeline's stop stopped the room's recording.
    :param collect: the newest, or every recording of the window.
    """

    conference_name: str | None
    recording_id: str | None
    since: datetime | None
    until: datetime | None = None
    stopped_at: datetime | None = None
    collect: Collect = Collect.NEWEST

    @classmethod
    def from_inputs(
        cls,
        *,
        conference_name: Any,
        recording_id: Any,
        since: Any,
        until: Any = None,
        stopped_at: Any = None,
        collect: Any = Collect.NEWEST.value,
    ) -> RecordingTarget:
        """Check rendered inputs before any request; the error names the parameter."""
        how = Collect(require_choice(getattr(collect, "value", collect), "collect", [c.value for c in Collect]))
        room = optional_name(conference_name, "conference_name")
        recording_id = optional_name(recording_id, "recording_id")
        if recording_id is not None and how is Collect.ALL:
            raise VobizConfigError(
                f"collect='all' gathers every recording of a room's window; with recording_id {recording_id!r} "
                "there is one recording: leave collect at 'newest' or give conference_name without recording_id"
            )
        if room is None and recording_id is None:
            raise VobizConfigError(
                "conference_name and recording_id are both empty: give the room (with since) or the recording's id"
            )
        when, last = optional_instant(since, "since"), optional_instant(until, "until")
        if when is None and recording_id is None:
            raise VobizConfigError("since is empty: looking for a recording by conference_name needs it")
        if when is not None and last is not None and last < when:
            raise VobizConfigError(
                f"until ({isoformat_utc(last)}) is before since ({isoformat_utc(when)}): the window is empty"
            )
        stop = None if recording_id is not None else optional_instant(stopped_at, "stopped_at")
        return cls(room, recording_id, when, last, stop, how)

    @property
    def ended_after(self) -> datetime | None:
        """The earliest end the stop's part may have, by Vobiz's clock."""
        if self.stopped_at is None:
            return None
        return self.stopped_at - timedelta(seconds=STOP_CLOCK_ALLOWANCE_S)

    def to_kwargs(self) -> dict[str, Any]:
        """The target as the trigger's plain JSON kwargs."""
        return {
            "conference_name": self.conference_name,
            "recording_id": self.recording_id,
            **{
                name: None if value is None else isoformat_utc(value)
                for name, value in (("since", self.since), ("until", self.until), ("stopped_at", self.stopped_at))
            },
            "collect": self.collect.value,
        }

    def describe(self) -> str:
        """The target in words, for logs and messages."""
        if self.recording_id is not None:
            return f"recording {self.recording_id!r}"
        assert self.since is not None
        what = "every recording" if self.collect is Collect.ALL else "a recording"
        text = f"{what} of {self.conference_name!r} {window_words(self.since, self.until)}"
        if self.stopped_at is not None:
            text += f", with the one the stop at {isoformat_utc(self.stopped_at)} ended"
        return text


class RecordingWait:
    """One wait's state: the row once found, and what the last answer showed.

    :param target: what to look for.
    :param row_seen: the row was seen before (by an earlier check on the worker).
    """

    def __init__(self, target: RecordingTarget, *, row_seen: bool = False) -> None:
        self.target = target
        self.row_seen = row_seen
        self.row: Recording | None = None
        self.others: list[Recording] = []  # the room's other recordings in the window
        self.parts: list[Recording] = []
        self._ready_ids: set[str] = set()
        self._last_report = f"no answer from Vobiz yet about {target.describe()}"
        self._last_search: RecordingSearch | None = None
        self._earlier_parts: list[Recording] = []

    def note_row(self, recording: Recording) -> None:
        """The row asked for by id; it must be of the target's room, if one was given."""
        room = self.target.conference_name
        if room is not None and recording.conference_name != room:
            raise VobizConfigError(
                f"recording_id {self.target.recording_id!r} is a recording of conference "
                f"{recording.conference_name!r}, not of conference_name {room!r}"
            )
        self.row, self.row_seen = recording, True

    def note_row_missing(self, error: VobizNotFoundError | UnusableRecordingError) -> None:
        """The row asked for by id is not there (404) or lacks a field: a 404 after it was seen means deleted."""
        recording_id = self.target.recording_id
        if isinstance(error, UnusableRecordingError):
            if not error.missing:
                raise error
            self._last_report = f"recording {recording_id!r} has no {error.field} yet (Vobiz is still processing it?)"
        elif self.row_seen:
            raise RecordingGoneError(
                f"recording {recording_id!r} was seen before and now answers 404: it was deleted ({error})",
                status_code=error.status_code,
                api_id=error.api_id,
            ) from None
        else:
            self._last_report = f"Vobiz does not know recording {recording_id!r} yet (404)"

    def note_search(self, search: RecordingSearch) -> None:
        """Take the room's search in; with a stop, the earliest part ended after it (docs/meeting-window.md)."""
        target = self.target
        match = search.match
        ended_after = target.ended_after
        if ended_after is not None:
            stops = [rec for rec in search.in_window if rec.ended_at >= ended_after]
            match = min(stops, key=lambda rec: (rec.ended_at, rec.add_time)) if stops else None
        if match is None:
            self._last_search = search  # described only at a timeout: polls stay cheap
            self._earlier_parts = list(search.in_window)
            return
        self.others = search.others_in_window(match)
        if target.collect is Collect.ALL:
            self.parts = sorted(search.in_window, key=lambda rec: (rec.add_time, rec.recording_id))
        self.row, self.row_seen, self._last_search = match, True, None

    def files_to_probe(self) -> list[Recording]:
        """The found recordings whose files are not available yet."""
        if self.row is None:
            return []
        wanted = self.parts or [self.row]
        return [rec for rec in wanted if rec.recording_id not in self._ready_ids]

    def note_file(self, recording: Recording, ready: bool) -> None:
        """The probe of a found recording's file."""
        if ready:
            self._ready_ids.add(recording.recording_id)
        else:
            self._last_report = f"{_name(recording)} was found, but its file still answered 404 at the last check"

    def ready(self) -> Recording | None:
        """The recording once every file the wait needs is available, else None."""
        if self.row is None or self.files_to_probe():
            return None
        return self.row

    def collected(self) -> list[Recording]:
        """``collect="all"``: every part, oldest first."""
        return list(self.parts)

    def several_in_window(self) -> str | None:
        """When the window held several recordings of the room: which was chosen and which not."""
        if self.row is None or not self.others or self.target.collect is Collect.ALL:
            return None
        rest = ", ".join(_name(rec) for rec in self.others)
        chose = "the part the stop ended" if self.target.stopped_at is not None else "the newest"
        return (
            f"{len(self.others) + 1} recordings of {self.row.conference_name!r} in the meeting's window "
            f"(stopped and restarted?): chose {chose}, {_name(self.row)}; not chosen: {rest} "
            "(collect='all' returns every part)"
        )

    def describe(self) -> str:
        """What the last answer showed, for logs and a timeout."""
        if self._last_search is not None:
            self._last_report, self._last_search = self._last_search.describe(), None
            earlier, ended_after = self._earlier_parts, self.target.ended_after
            if earlier and ended_after is not None:
                names = ", ".join(_name(rec) for rec in earlier)
                self._last_report = (
                    f"the stop's part of {self.target.conference_name!r} has not been added yet: "
                    f"{len(earlier)} recording(s) of the window ended before the stop at "
                    f"{isoformat_utc(self.target.stopped_at or ended_after)} "
                    f"(less {STOP_CLOCK_ALLOWANCE_S:g} s for the clocks): {names}"
                )
        return self._last_report


def _name(recording: Recording) -> str:
    room = f" of {recording.conference_name!r}" if recording.conference_name else ""
    return f"recording {recording.recording_id!r}{room} (added {isoformat_utc(recording.add_time)})"


def poll(hook: VobizHook, wait: RecordingWait) -> Recording | None:
    """Find the row unless known, then probe the files not available yet."""
    target = wait.target
    if wait.row is None and target.recording_id is not None:
        try:
            wait.note_row(hook.get_recording(target.recording_id))
        except (VobizNotFoundError, UnusableRecordingError) as missing:
            wait.note_row_missing(missing)
    elif wait.row is None:
        assert target.conference_name is not None and target.since is not None
        wait.note_search(hook.find_conference_recording(target.conference_name, target.since, target.until))
    for recording in wait.files_to_probe():
        wait.note_file(recording, hook.recording_file_ready(recording))
    return wait.ready()


async def poll_async(
    hook: VobizAsyncHook, wait: RecordingWait, shared: SharedRoomSearch | None = None
) -> Recording | None:
    """:func:`poll` with the async hook; a room is searched in ``shared`` when given."""
    target = wait.target
    if wait.row is None and target.recording_id is not None:
        try:
            wait.note_row(await hook.get_recording(target.recording_id))
        except (VobizNotFoundError, UnusableRecordingError) as missing:
            wait.note_row_missing(missing)
    elif wait.row is None:
        assert target.conference_name is not None and target.since is not None
        finder = hook if shared is None else shared
        wait.note_search(await finder.find_conference_recording(target.conference_name, target.since, target.until))
    for recording in wait.files_to_probe():
        wait.note_file(recording, await hook.recording_file_ready(recording))
    return wait.ready()


DEFAULT_MAX_POLL_INTERVAL = 600.0


class FailureKind(str, Enum):
    """What a failed poll means for the wait (docs/reliability.md)."""

    FATAL = "fatal"  # waiting cannot fix it (401/403, another 4xx, a deleted recording, bad input): stop
    RATE_LIMITED = "rate_limited"  # 429: wait as long as Vobiz asked, not a failure
    TRANSIENT = "transient"  # 5xx, transport, malformed answers: wait, and count it against the budget


def classify(error: VobizError) -> FailureKind:
    """The kind of a poll's failure."""
    if isinstance(error, VobizRateLimitError):
        return FailureKind.RATE_LIMITED
    # RecordingGoneError is a 404 for a row that had been seen; other 404s (a list) may pass.
    if isinstance(error, (VobizAuthError, VobizClientError, VobizConfigError, RecordingGoneError)):
        return FailureKind.FATAL
    if isinstance(error, UnusableRecordingError) and not error.missing:
        return FailureKind.FATAL
    return FailureKind.TRANSIENT


def asked_wait(error: VobizError) -> float:
    """Seconds Vobiz asked to wait (``Retry-After``); 0 when it did not say."""
    return float(getattr(error, "retry_after", None) or 0.0)


class PollSchedule:
    """The pauses of one poll loop, its failure budget and its last poll at the deadline (docs/reliability.md).

    :param interval: seconds between polls.
    :param backoff: factor the interval grows by after each poll; 1 keeps it constant.
    :param max_interval: the longest interval; default ten minutes (or ``interval`` if longer).
    :param max_failures: failed polls in a row after which the loop gives up.
    :param deadline: seconds since the epoch; None for a loop without an end.
    """

    def __init__(
        self,
        interval: float,
        *,
        backoff: float = 1.0,
        max_interval: float | None = None,
        max_failures: int = 5,
        deadline: float | None = None,
    ) -> None:
        check_pacing(interval, backoff, max_interval, max_failures)
        self.interval = float(interval)
        self.backoff = float(backoff)
        self.max_interval = max(self.interval, DEFAULT_MAX_POLL_INTERVAL if max_interval is None else max_interval)
        self.max_failures = max_failures
        self.deadline = deadline
        self.failures = 0
        self._upcoming = self.interval
        self._last_poll_made = False

    def _next(self) -> float:
        wait = self._upcoming
        self._upcoming = min(wait * self.backoff, self.max_interval)
        return wait

    def after_answer(self) -> float:
        """The wait after a poll that got its answers: the failure count starts again."""
        self.failures = 0
        return self._next()

    def after_failure(self, error: VobizError) -> float:
        """The wait after a failed poll; raises ``error`` if fatal, :class:`PollingGaveUpError` past the budget."""
        kind = classify(error)
        if kind is FailureKind.FATAL:
            raise error
        if kind is FailureKind.TRANSIENT:
            self.failures += 1
            if self.failures >= self.max_failures:
                raise PollingGaveUpError(
                    f"gave up after {self.failures} failed polls in a row; the last: {error}",
                    status_code=error.status_code,
                    api_id=error.api_id,
                ) from error
        return max(self._next(), asked_wait(error))

    def sleep_before_next_poll(self, wait: float, now: float) -> float | None:
        """How long to sleep before the next poll (cut at the deadline), or None: the wait is over."""
        if self.deadline is None:
            return wait
        remaining = self.deadline - now
        if self._last_poll_made or remaining <= 0:
            return None
        self._last_poll_made = wait >= remaining
        return min(wait, remaining)


class WaitStatus(str, Enum):
    """How a deferred wait ended."""

    SUCCESS = "success"
    TIMEOUT = "timeout"
    ERROR = "error"


def success_event(
    recording: Recording, note: str | None = None, parts: list[Recording] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"status": WaitStatus.SUCCESS.value, "recording": recording.to_dict()}
    if note:
        event["message"] = note
    if parts:
        event["recordings"] = [part.to_dict() for part in parts]
    return event


def timeout_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.TIMEOUT.value, "message": message}


def error_event(message: str) -> dict[str, Any]:
    return {"status": WaitStatus.ERROR.value, "message": message}


@dataclass(frozen=True)
class WaitOutcome:
    """A validated event (docs/architecture.md)."""

    status: WaitStatus
    recording: Recording | None = None
    message: str = ""
    recordings: tuple[Recording, ...] | None = None  # collect="all": every part, oldest first


def read_event(event: Any) -> WaitOutcome:
    """Validate a trigger event; :class:`UnreadableEventError` says what is wrong with it."""
    if not isinstance(event, Mapping):
        raise UnreadableEventError(f"the trigger event must be a dict, got {type(event).__name__}: {event!r:.200}")
    try:
        status = WaitStatus(event.get("status"))
    except ValueError:
        known = ", ".join(repr(s.value) for s in WaitStatus)
        raise UnreadableEventError(
            f"the trigger event's status must be one of {known}, got {event.get('status')!r}"
        ) from None
    if status is not WaitStatus.SUCCESS:
        message = event.get("message")
        if not isinstance(message, str) or not message:
            raise UnreadableEventError(f"the {status.value} event must carry a message, got {message!r:.200}")
        return WaitOutcome(status, message=message)
    data, note, parts = event.get("recording"), event.get("message") or "", event.get("recordings")
    if not isinstance(data, Mapping):
        raise UnreadableEventError(f"a success event must carry the recording as a dict, got {data!r:.200}")
    if not isinstance(note, str):
        raise UnreadableEventError(f"a success event's message must be text, got {note!r:.200}")
    if parts is not None and (not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts)):
        raise UnreadableEventError(f"a success event's recordings must be a list of dicts, got {parts!r:.200}")
    try:
        recordings = None if parts is None else tuple(Recording.from_dict(part) for part in parts)
        return WaitOutcome(status, recording=Recording.from_dict(data), message=note, recordings=recordings)
    except (KeyError, TypeError, ValueError) as err:
        raise UnreadableEventError(f"the success event's recording cannot be read: {err!r}") from None
