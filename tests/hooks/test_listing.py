"""Paging through recordings, finding a meeting's recording, and names that need percent-encoding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.models import StopStatus

IST = timezone(timedelta(hours=5, minutes=30))
FILTERS = ["honour", "ignore"]


def _fill(server, count: int, newest: datetime) -> list[str]:
    """``count`` recordings of other rooms, one minute apart, ending at ``newest``; newest first."""
    return [
        server.add_recording(conference_name=f"Room {i}", add_time=newest - timedelta(minutes=i)) for i in range(count)
    ]


def _queries(server) -> list[dict[str, list[str]]]:
    return [parse_qs(entry.query) for entry in api_requests(server, "recording.list")]


@pytest.mark.parametrize("list_filters", FILTERS)
@pytest.mark.parametrize("list_shape", ["current", "legacy"])
def test_iter_recordings_pages_through_250(vobiz_fake, make_hook, list_filters, list_shape):
    vobiz_fake.configure(list_filters=list_filters, list_shape=list_shape)
    expected = _fill(vobiz_fake, 250, datetime.now(timezone.utc))

    seen = [rec.recording_id for rec in make_hook("sync").hook.iter_recordings(page_size=500)]

    assert seen == expected
    queries = _queries(vobiz_fake)
    assert [(q["limit"], q["offset"]) for q in queries] == [(["100"], ["0"]), (["100"], ["100"]), (["100"], ["200"])]
    # meta.next reads "/v1/..." without "/api"; every request still went to the API path.
    assert all(entry.path.startswith("/api/v1/Account/") for entry in vobiz_fake.requests)


def test_iter_recordings_sends_filters_and_leaves_checking_to_the_caller(vobiz_fake, make_hook):
    vobiz_fake.configure(list_filters="ignore")
    _fill(vobiz_fake, 3, datetime.now(timezone.utc))
    vobiz_fake.add_recording(conference_name=None, recording_type="call")

    rows = list(make_hook("sync").hook.iter_recordings(recording_type="call", call_uuid=None))

    assert len(rows) == 4  # the server ignored the filter; the generator does not pretend otherwise
    (query,) = _queries(vobiz_fake)
    assert query["recording_type"] == ["call"] and "call_uuid" not in query


@pytest.fixture
def meeting(vobiz_fake):
    """The newest recording of "Daily Standup" since ``since`` sits on page 3, among decoys."""
    vobiz_fake.configure(add_time_utc_offset="+05:30")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    since = now - timedelta(hours=6)
    older_match = vobiz_fake.add_recording(conference_name="Daily Standup", add_time=since + timedelta(minutes=1))
    newest_match = vobiz_fake.add_recording(conference_name="Daily Standup", add_time=since + timedelta(minutes=30))
    decoys = [
        vobiz_fake.add_recording(conference_name="Daily Standup", add_time=since - timedelta(seconds=1)),
        vobiz_fake.add_recording(conference_name="Daily Standup 2", add_time=now - timedelta(minutes=1)),
        vobiz_fake.add_recording(conference_name="daily standup", add_time=now - timedelta(minutes=2)),
        vobiz_fake.add_recording(
            conference_name="Daily Standup", recording_type="call", add_time=now - timedelta(minutes=3)
        ),
    ]
    _fill(vobiz_fake, 230, now - timedelta(minutes=4))  # newer than the matches: pages 1 and 2
    return {"since": since, "match": newest_match, "older": older_match, "decoys": decoys}


@pytest.mark.parametrize("list_filters", FILTERS)
def test_find_picks_the_newest_of_the_room_in_its_window(vobiz_fake, make_hook, kind, meeting, list_filters):
    vobiz_fake.configure(list_filters=list_filters)
    since_in_ist = meeting["since"].astimezone(IST).isoformat()  # "...+05:30", the same instant
    until = meeting["since"] + timedelta(hours=1)

    search = make_hook(kind)("find_conference_recording", "Daily Standup", since_in_ist, until)

    assert search.match is not None and search.match.recording_id == meeting["match"]
    queries = _queries(vobiz_fake)
    assert all(q["conference_name"] == ["Daily Standup"] for q in queries)
    assert all(q["recording_type"] == ["conference"] for q in queries)
    # Sent in UTC without an offset (as documented), widened by 14 hours: no zone drops a row.
    expected_gte = (meeting["since"] - timedelta(hours=14)).strftime("%Y-%m-%d %H:%M:%S")
    expected_lte = (until + timedelta(hours=14)).strftime("%Y-%m-%d %H:%M:%S")
    assert all(q["add_time__gte"] == [expected_gte] and q["add_time__lte"] == [expected_lte] for q in queries)
    if list_filters == "ignore":
        # Three pages were needed, and none after the one that reached back before ``since``.
        assert [q["offset"] for q in queries] == [["0"], ["100"], ["200"]]
    else:
        assert len(queries) == 1


@pytest.mark.parametrize("zone", ["-12:00", "+14:00"])
def test_find_drops_nothing_when_the_server_reads_the_time_filters_in_another_zone(vobiz_fake, make_hook, kind, zone):
    # A server that reads "YYYY-MM-DD HH:MM:SS" in its own zone: at -12:00 a since sent as is would
    # start 12 hours late, at +14:00 an until would end 14 hours early.
    vobiz_fake.configure(list_filters="honour", list_filter_utc_offset=zone)
    since = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    first = vobiz_fake.add_recording(conference_name="Retro", add_time=since + timedelta(minutes=1))
    last = vobiz_fake.add_recording(conference_name="Retro", add_time=since + timedelta(minutes=59))
    vobiz_fake.add_recording(conference_name="Retro", add_time=since - timedelta(minutes=1))  # before the window

    search = make_hook(kind)("find_conference_recording", "Retro", since, since + timedelta(hours=1))

    assert search.match is not None and search.match.recording_id == last
    assert [rec.recording_id for rec in search.others_in_window()] == [first]


def test_find_stops_paging_once_the_list_is_older_than_since(vobiz_fake, make_hook, kind):
    now = datetime.now(timezone.utc)
    _fill(vobiz_fake, 250, now - timedelta(minutes=1))
    wanted = vobiz_fake.add_recording(conference_name="Retro", add_time=now)

    search = make_hook(kind)("find_conference_recording", "Retro", now - timedelta(minutes=30))

    assert search.match is not None and search.match.recording_id == wanted
    assert len(_queries(vobiz_fake)) == 1


def test_find_without_match_says_what_it_saw(vobiz_fake, make_hook, kind):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    vobiz_fake.add_recording(conference_name="Retro", add_time=now - timedelta(hours=2))
    vobiz_fake.add_recording(conference_name="Planning", add_time=now)

    search = make_hook(kind)("find_conference_recording", "Retro", now - timedelta(hours=1))

    assert search.match is None
    text = search.describe()
    assert "no recording of 'Retro' since" in text
    assert "'Planning'" in text and "1 recordings of 'Retro' before since" in text


# -- percent-encoding ------------------------------------------------------------------------------

ODD_NAMES = ["Q3 Review/EMEA #1", "Café Zürich 東京", "100% sync", "a+b?c=d&e"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_room_names_reach_the_server_as_one_segment(vobiz_fake, make_hook, name):
    vobiz_fake.add_room(name, recording=True)
    hook = make_hook("sync").hook

    assert hook.get_conference(name)["conference_name"] == name
    assert hook.stop_conference_recording(name).status is StopStatus.STOPPED

    prefix = f"/api/v1/Account/{vobiz_fake.auth_id}/Conference/{quote(name, safe='')}/"
    assert [(e.route, e.path) for e in vobiz_fake.requests] == [
        ("conference.get", prefix),
        ("conference.record.stop", prefix + "Record/"),
    ]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_in_filters_and_ids(vobiz_fake, make_hook, kind, name):
    vobiz_fake.configure(list_filters="honour")
    rec_id = vobiz_fake.add_recording(conference_name=name, recording_id=f"rec {name}")
    hook = make_hook(kind)

    assert hook("find_conference_recording", name, "2000-01-01").match.recording_id == rec_id
    assert hook("get_recording", rec_id).recording_id == rec_id

    (listed,) = _queries(vobiz_fake)
    assert listed["conference_name"] == [name]
    (got,) = api_requests(vobiz_fake, "recording.get")
    assert got.path == f"/api/v1/Account/{vobiz_fake.auth_id}/Recording/{quote(rec_id, safe='')}/"


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_segments_are_not_resolved_away(vobiz_fake, make_hook, kind, name):
    # Clients resolve "/./" and "/../" in paths; the hook encodes such a segment so it stays one.
    vobiz_fake.add_recording(conference_name="Standup", recording_id=name)

    assert make_hook(kind)("get_recording", name).recording_id == name
    (got,) = api_requests(vobiz_fake, "recording.get")
    assert got.path.startswith(f"/api/v1/Account/{vobiz_fake.auth_id}/Recording/")


@pytest.mark.parametrize("list_shape", ["current", "legacy"])
def test_a_list_that_ignores_offset_is_read_once_not_forever(vobiz_fake, make_hook, kind, list_shape):
    # meta.next on every page and no numeric total_count: paging by "next" alone never ends.
    vobiz_fake.configure(list_offset="ignore", list_shape=list_shape, list_filters="ignore")
    newest = datetime.now(timezone.utc)
    _fill(vobiz_fake, 150, newest)

    search = make_hook(kind)("find_conference_recording", "Standup", newest - timedelta(days=1))

    assert search.match is None
    assert search.seen == 100  # the first page, once
    assert len(api_requests(vobiz_fake, "recording.list")) == 2  # the second page repeats the first: stop
    assert "(it ignores offset), so older recordings could not be read" in search.describe()


def test_paging_has_a_hard_cap_with_a_clear_error(vobiz_fake, make_hook):
    from vobiz_provider.exceptions import VobizResponseError
    from vobiz_provider.hooks.api import RecordingPages

    _fill(vobiz_fake, 30, datetime.now(timezone.utc))
    hook = make_hook("sync").hook
    pages = RecordingPages(vobiz_fake.auth_id, {}, page_size=5, max_pages=3)

    with pytest.raises(VobizResponseError, match="still a next page after 3 pages"):
        while (request := pages.next_request()) is not None:
            pages.read(hook._call(request))

    assert len(api_requests(vobiz_fake, "recording.list")) == 3


# -- rows the provider cannot use ---------------------------------------------------------------------


def test_rows_it_cannot_use_are_skipped_by_every_reader_and_warned_about_once(vobiz_fake, make_hook, kind, logs):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    good = vobiz_fake.add_recording(conference_name="Daily Standup", add_time=now - timedelta(minutes=5))
    odd = [
        vobiz_fake.add_recording(conference_name="Webinar", add_time=now, wire={"recording_url": None}),
        vobiz_fake.add_recording(conference_name="Webinar", add_time=now, wire={"rounded_recording_duration": "x"}),
        vobiz_fake.add_recording(conference_name="Webinar", add_time=now, wire={"add_time": "yesterday"}),
    ]
    hook = make_hook(kind)
    since = now - timedelta(hours=1)

    for _ in range(2):  # two polls
        search = hook("find_conference_recording", "Daily Standup", since)
        index = hook("index_recordings", since)
        assert search.match is not None and search.match.recording_id == good
        assert index.search("Daily Standup", since, None).match == search.match
        assert (search.skipped, index.skipped) == (3, 3)
        assert "3 rows of the list skipped" in hook("find_conference_recording", "Nobody", since).describe()

    warned = [line for line in logs.warnings() if "Skipping a row of the recordings list" in line]
    assert len(warned) == 3  # one per row, however many reads
    for recording_id, field in zip(odd, ("recording_url", "rounded_recording_duration", "add_time"), strict=True):
        (line,) = [line for line in warned if recording_id in line]
        assert field in line


def test_iter_recordings_skips_them_too(vobiz_fake, make_hook):
    now = datetime.now(timezone.utc)
    good = vobiz_fake.add_recording(conference_name="Daily Standup", add_time=now - timedelta(minutes=1))
    vobiz_fake.add_recording(conference_name="Webinar", add_time=now, wire={"recording_id": None})

    assert [rec.recording_id for rec in make_hook("sync").hook.iter_recordings()] == [good]


def test_the_rows_warned_about_are_bounded():
    from vobiz_provider.exceptions import UnusableRecordingError
    from vobiz_provider.hooks.api import SkippedRows

    def row(n: int) -> UnusableRecordingError:
        return UnusableRecordingError(f"recording {n} lacks recording_url", field="recording_url", recording_id=str(n))

    rows = SkippedRows(limit=3)
    assert len(rows.not_warned(map(row, range(5)))) == 5
    assert rows.not_warned([row(4), row(3), row(2)]) == []  # the newest three are remembered
    assert len(rows._warned) == 3
    assert [r.recording_id for r in rows.not_warned([row(0)])] == ["0"]  # the oldest forgotten: warned again
