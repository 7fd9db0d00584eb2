"""The default meeting window for every timetable kind Airflow 3 ships, from the data intervals
the timetables themselves give (scheduled, and manual), and for runs without a data interval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from vobiz_provider.exceptions import VobizConfigError
from vobiz_provider.validation import (
    LATE_ADD,
    LOOK_BACK,
    MeetingWindow,
    as_duration,
    default_window,
    meeting_end,
    window_from_context,
)

UTC = timezone.utc
START = pendulum.datetime(2026, 11, 2, tz="UTC")  # a Monday


def _scheduled(timetable: object) -> DataInterval:
    """The data interval of the timetable's first scheduled run after START."""
    info = timetable.next_dagrun_info(  # type: ignore[attr-defined]
        last_automated_data_interval=None, restriction=TimeRestriction(earliest=START, latest=None, catchup=True)
    )
    assert info is not None
    return info.data_interval


def _window(interval: DataInterval) -> MeetingWindow:
    window = default_window(data_interval_start=interval.start, data_interval_end=interval.end)
    assert window is not None
    return window


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_trigger_with_interval_is_the_meeting_plus_the_late_margin() -> None:
    timetable = CronTriggerTimetable("15 9 * * *", timezone="UTC", interval=timedelta(minutes=15))
    window = _window(_scheduled(timetable))
    # 09:00-09:15, and half the 15 minutes (shorter than 30) for Vobiz to add the row.
    assert (window.since, window.until) == (_at(2026, 11, 2, 9, 0), _at(2026, 11, 2, 9, 22, 30))


def test_cron_trigger_with_a_long_interval_allows_the_full_late_margin() -> None:
    timetable = CronTriggerTimetable("0 18 * * 1-5", timezone="UTC", interval=timedelta(hours=10))
    window = _window(_scheduled(timetable))
    assert (window.since, window.until) == (_at(2026, 11, 2, 8, 0), _at(2026, 11, 2, 18, 0) + LATE_ADD)


def test_cron_trigger_without_interval_looks_back_for_a_meeting_that_ended_early() -> None:
    timetable = CronTriggerTimetable("0 17 * * THU", timezone="UTC")
    interval = _scheduled(timetable)
    assert interval.start == interval.end == _at(2026, 11, 5, 17, 0)  # zero length
    window = _window(interval)
    assert (window.since, window.until) == (_at(2026, 11, 5, 16, 30), _at(2026, 11, 5, 17, 30))
    assert "zero-length" in window.rule
    # Everyone left at 16:55 and Vobiz added the row at 16:56: inside.
    assert window.since <= _at(2026, 11, 5, 16, 56) <= window.until


def test_cron_data_interval_ends_before_the_next_meeting() -> None:
    timetable = CronDataIntervalTimetable("0 * * * *", timezone="UTC")  # hourly, back to back
    interval = _scheduled(timetable)
    window = _window(interval)
    assert (window.since, window.until) == (interval.start, interval.end + LATE_ADD)
    # The next meeting ends at interval.end + 1 h: its row is never inside.
    assert window.until < interval.end + timedelta(hours=1)


def test_delta_data_interval_keeps_short_back_to_back_meetings_apart() -> None:
    timetable = DeltaDataIntervalTimetable(timedelta(minutes=15))
    interval = _scheduled(timetable)
    window = _window(interval)
    assert (window.since, window.until) == (interval.start, interval.end + timedelta(minutes=7, seconds=30))
    assert window.until < interval.end + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("timetable", "expected"),
    [
        # run_after 10:00: the last 15 minutes before it.
        (
            CronTriggerTimetable("15 9 * * *", timezone="UTC", interval=timedelta(minutes=15)),
            (_at(2026, 11, 2, 9, 45), _at(2026, 11, 2, 10, 7, 30)),
        ),
        # zero length at run_after.
        (CronTriggerTimetable("0 17 * * THU", timezone="UTC"), (_at(2026, 11, 2, 9, 30), _at(2026, 11, 2, 10, 30))),
        # the last complete hour.
        (CronDataIntervalTimetable("0 * * * *", timezone="UTC"), (_at(2026, 11, 2, 9, 0), _at(2026, 11, 2, 10, 30))),
    ],
)
def test_manual_run_with_a_logical_date_uses_the_inferred_interval(
    timetable: object, expected: tuple[datetime, datetime]
) -> None:
    interval = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2026, 11, 2, 10, tz="UTC"))  # type: ignore[attr-defined]
    window = _window(interval)
    assert (window.since, window.until) == expected


@pytest.mark.parametrize("run_type", ["manual", "asset_triggered"])
def test_runs_without_a_data_interval_center_on_run_after(run_type: str) -> None:
    # Airflow 3 creates both with logical_date=None and data_interval=None.
    run_after = _at(2026, 11, 2, 10, 0)
    context = {
        "data_interval_start": None,
        "data_interval_end": None,
        "logical_date": None,
        "dag_run": SimpleNamespace(run_after=run_after, run_type=run_type),
    }
    window = window_from_context(context)
    assert window is not None
    assert (window.since, window.until) == (run_after - LOOK_BACK, run_after + LATE_ADD)
    assert "run_after" in window.rule
    assert meeting_end(context) is None  # so the stop is sent, as today


def test_a_logical_date_without_interval_is_the_anchor_before_run_after() -> None:
    logical = _at(2026, 11, 2, 9, 0)
    window = default_window(
        data_interval_start=None, data_interval_end=None, logical_date=logical, run_after=logical + timedelta(days=1)
    )
    assert window is not None and window.since == logical - LOOK_BACK


def test_no_time_at_all_gives_no_window() -> None:
    assert default_window(data_interval_start=None, data_interval_end=None) is None


def test_offsets_are_compared_as_instants() -> None:
    start = pendulum.datetime(2026, 11, 2, 14, 30, tz="Asia/Kolkata")  # 09:00 UTC
    window = default_window(data_interval_start=start, data_interval_end=start + timedelta(minutes=15))
    assert window is not None and window.since == _at(2026, 11, 2, 9, 0) and window.since.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(hours=2), timedelta(hours=2)),
    ],
)
def test_as_duration_accepts_seconds_and_timedeltas(value: object, expected: timedelta | None) -> None:
    assert as_duration(value, "stale_after") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "stale_after must be positive"),
        (-5, "must be positive"),
        ("1h", "must be a timedelta or seconds"),
        (True, "must be a timedelta or seconds"),
    ],
)
def test_as_duration_refuses_the_rest(value: object, message: str) -> None:
    with pytest.raises(VobizConfigError, match=message):
        as_duration(value, "stale_after")
