"""The meeting a run is for: its window of ``add_time`` and when it ended, computed from the run.

Light (the standard library and :mod:`vobiz_provider.instants`): the sensor and the stop operator
use it at run time, DAG files import it through them at every parse. The rules are documented
in ``docs/meeting-window.md``; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from vobiz_provider.instants import isoformat_utc, parse_instant

# How far before a zero-length interval (or a run without one) a recording may have been added:
# everyone left early and Vobiz stopped the recording itself. Half an hour finds a meeting that
# ended up to 30 minutes early, and stays clear of an hourly meeting's previous recording.
LOOK_BACK = timedelta(minutes=30)
# How long after the interval's end Vobiz may add the row: the stop itself, processing, a run
# that started late. Capped at half the interval's length, so back-to-back intervals
# (``CronDataIntervalTimetable``, ``DeltaDataIntervalTimetable``) never reach the next meeting's row.
LATE_ADD = timedelta(minutes=30)
# A stop in a run whose meeting ended longer ago than this sends nothing: such a run is a
# backfill or a re-run, and whatever the room records now is a later meeting. An hour covers
# a scheduler that is late, a queue, and a few retries of the stop.
DEFAULT_STALE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class MeetingWindow:
    """Recordings added within ``[since, until]`` are this run's meeting's.

    :param since: aware UTC, inclusive.
    :param until: aware UTC, inclusive.
    :param rule: which default applied, in words, for logs.
    """

    since: datetime
    until: datetime
    rule: str

    def describe(self) -> str:
        return f"[{isoformat_utc(self.since)}, {isoformat_utc(self.until)}] ({self.rule})"


def default_window(
    *,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    logical_date: datetime | None = None,
    run_after: datetime | None = None,
) -> MeetingWindow | None:
    """The default window for a run (None when the run carries no time at all).

    - A data interval with a length: ``[start, end + min(LATE_ADD, length / 2)]``.
    - A zero-length interval (``CronTriggerTimetable`` without ``interval``, a manual run of a
      DAG without a schedule): ``[end - LOOK_BACK, end + LATE_ADD]``.
    - No data interval (a manual run without a logical date, an asset-triggered run): the same
      around the logical date if there is one, else around ``run_after``.
    """
    if data_interval_start is not None and data_interval_end is not None:
        start = _utc(data_interval_start, "data_interval_start")
        end = _utc(data_interval_end, "data_interval_end")
        if end > start:
            return MeetingWindow(start, end + min(LATE_ADD, (end - start) / 2), "the run's data interval")
        return MeetingWindow(end - LOOK_BACK, end + LATE_ADD, "around the run's zero-length data interval")
    for anchor, name in ((logical_date, "logical date"), (run_after, "run_after")):
        if anchor is not None:
            at = _utc(anchor, name)
            return MeetingWindow(at - LOOK_BACK, at + LATE_ADD, f"around the run's {name}, it has no data interval")
    return None


def window_from_context(context: Mapping[str, Any]) -> MeetingWindow | None:
    """:func:`default_window` for the running task's context."""
    return default_window(
        data_interval_start=context.get("data_interval_start"),
        data_interval_end=context.get("data_interval_end"),
        logical_date=context.get("logical_date"),
        run_after=getattr(context.get("dag_run"), "run_after", None),
    )


def meeting_end(context: Mapping[str, Any]) -> datetime | None:
    """When the run's meeting ended: the end of its data interval; None for a run without one."""
    end = context.get("data_interval_end")
    return None if end is None else _utc(end, "data_interval_end")


def _utc(value: datetime, field: str) -> datetime:
    """A plain aware UTC ``datetime``: pendulum's subclass does its own arithmetic (an Interval, not a timedelta)."""
    dt = parse_instant(value, field=field)
    return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=timezone.utc)


def window_words(since: datetime, until: datetime | None) -> str:
    """ "since <since>" or "between <since> and <until>", for messages."""
    if until is None:
        return f"since {isoformat_utc(since)}"
    return f"between {isoformat_utc(since)} and {isoformat_utc(until)}"
