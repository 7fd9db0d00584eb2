"""Listing recordings: paging, the filter switch, the shapes and the wire types of each field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

NOW = datetime(2026, 5, 7, 4, 15, 35, 792760, tzinfo=timezone.utc)


def _fill(server, count: int) -> list[str]:
    """``count`` rows one minute apart, returned newest first."""
    ids = [
        server.add_recording(conference_name=f"Room {i}", add_time=NOW - timedelta(minutes=count - i))
        for i in range(count)
    ]
    return ids[::-1]


def test_pages_follow_meta_next_and_cap_limit_at_100(api):
    expected = _fill(api.server, 250)
    first = api.get("Recording/", params={"limit": 500}).json()
    meta = first["meta"]
    assert meta["limit"] == 100
    assert meta["total_count"] == 250
    assert meta["previous"] is None
    assert meta["next"] == f"/v1/Account/{api.server.auth_id}/Recording/?limit=100&offset=100"
    seen = [row["recording_id"] for row in first["objects"]]
    next_link = meta["next"]
    while next_link:
        # meta.next lacks the /api prefix, as on the wire: resolving it needs "/api" put back.
        page = api.session.get(f"{api.server.base_url}/api{next_link}", headers=api.auth, timeout=5).json()
        seen += [row["recording_id"] for row in page["objects"]]
        next_link = page["meta"]["next"]
    assert seen == expected  # all rows, once each, newest first
    assert page["meta"]["offset"] == 200
    assert len(page["objects"]) == 50


def test_default_limit_and_offset(api):
    expected = _fill(api.server, 25)
    body = api.get("Recording/").json()
    assert body["meta"]["limit"] == 20
    assert [row["recording_id"] for row in body["objects"]] == expected[:20]
    tail = api.get("Recording/", params={"offset": 20}).json()
    assert [row["recording_id"] for row in tail["objects"]] == expected[20:]
    assert tail["meta"]["next"] is None
    assert tail["meta"]["previous"].endswith("?limit=20&offset=0")


def test_empty_list_is_200(api):
    body = api.get("Recording/").json()
    assert body["objects"] == []
    assert body["meta"]["total_count"] == 0


@pytest.mark.parametrize("params", [{"limit": "x"}, {"limit": 0}, {"offset": -1}])
def test_bad_paging_is_400(api, params):
    assert api.get("Recording/", params=params).status_code == 400


def _decoys(server) -> dict[str, str]:
    return {
        "old": server.add_recording(conference_name="Daily Standup", add_time=NOW - timedelta(hours=2)),
        "new": server.add_recording(conference_name="Daily Standup", add_time=NOW - timedelta(minutes=10)),
        "other": server.add_recording(conference_name="Weekly Sync", add_time=NOW - timedelta(minutes=5)),
        "call": server.add_recording(
            conference_name=None, recording_type="call", file_format="wav", add_time=NOW - timedelta(minutes=1)
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"conference_name": "Standup"}, ["new", "old"]),
        ({"add_time__gte": "2026-05-07 03:45:00"}, ["call", "other", "new"]),
        ({"add_time__gt": "2026-05-07T09:15:35.792760+05:30", "conference_name": "Daily"}, ["new"]),
        ({"add_time__lt": "2026-05-07T03:00:00Z"}, ["old"]),
        ({"add_time__lte": "2026-05-07 04:05:35.792760"}, ["new", "old"]),
        ({"recording_type": "call"}, ["call"]),
        ({"recording_format": "wav"}, ["call"]),
    ],
)
def test_filters_honoured(api, params, expected):
    ids = _decoys(api.server)
    api.server.configure(list_filters="honour")
    assert [row["recording_id"] for row in api.objects(**params)] == [ids[key] for key in expected]


def test_time_filters_without_an_offset_are_read_in_the_servers_zone(api):
    ids = _decoys(api.server)
    api.server.configure(list_filters="honour", list_filter_utc_offset="-10:00")
    # 03:45 at -10:00 is 13:45 UTC: later than every row; with an offset the zone does not matter.
    assert api.objects(add_time__gte="2026-05-07 03:45:00") == []
    rows = api.objects(add_time__gte="2026-05-07T03:45:00+00:00")
    assert [row["recording_id"] for row in rows] == [ids["call"], ids["other"], ids["new"]]


def test_filter_by_call_uuid_and_bad_time(api):
    api.server.configure(list_filters="honour")
    rid = api.server.add_recording(conference_name=None, call_uuid="c0ffee00-0000-4000-8000-000000000001")
    api.server.add_recording(conference_name=None)
    rows = api.objects(call_uuid="c0ffee00-0000-4000-8000-000000000001")
    assert [row["recording_id"] for row in rows] == [rid]
    assert api.get("Recording/", params={"add_time__gte": "yesterday"}).status_code == 400


def test_filters_ignored_by_default_but_kept_in_next(api):
    ids = _decoys(api.server)
    rows = api.objects(conference_name="Standup", recording_type="call")
    assert len(rows) == len(ids)
    body = api.get("Recording/", params={"conference_name": "Standup", "limit": 1}).json()
    assert body["meta"]["next"].endswith("?limit=1&offset=1&conference_name=Standup")


def test_legacy_list_shape(api):
    rid = api.server.add_recording(conference_name="Daily Standup", duration_s=4.0, file_format="wav")
    api.server.add_recording(conference_name="Daily Standup")
    api.server.configure(list_shape="legacy")
    body = api.get("Recording/", params={"limit": 1, "offset": 1}).json()
    assert set(body) == {"recordings", "pagination"}
    assert body["pagination"] == {"limit": 1, "offset": 1, "total": 2, "has_more": False}
    item = body["recordings"][0]
    assert item["recording_id"] == rid
    assert item["format"] == "wav"
    assert item["duration"] == 4.0
    assert item["file_size"] == len(api.server.recording_bytes(rid))
    assert item["url"].endswith(f"{rid}.wav")
    assert item["conference_name"] == "Daily Standup"


def test_ms_fields_as_strings_or_floats(api):
    api.server.add_recording(conference_name="A", duration_s=10.08, add_time=NOW)
    row = api.objects()[0]
    assert row["recording_duration_ms"] == "10080.00000"
    assert row["recording_end_ms"] == f"{round(NOW.timestamp() * 1000)}.00000"  # whole ms, as on the wire
    api.server.configure(ms_as_strings=False)
    row = api.objects()[0]
    assert row["recording_duration_ms"] == 10080.0
    assert row["recording_start_ms"] == pytest.approx(NOW.timestamp() * 1000 - 10080, abs=1)


@pytest.mark.parametrize(
    ("style", "offset", "expected"),
    [
        ("space", "+00:00", "2026-05-07 04:15:35.792760+00:00"),
        ("space", "+05:30", "2026-05-07 09:45:35.792760+05:30"),
        ("iso_z", "+00:00", "2026-05-07T04:15:35Z"),
        ("iso_z", "-08:00", "2026-05-06T20:15:35-08:00"),
    ],
)
def test_add_time_styles(api, style, offset, expected):
    api.server.add_recording(conference_name="A", add_time=NOW)
    api.server.configure(add_time_style=style, add_time_utc_offset=offset)
    add_time = api.objects()[0]["add_time"]
    assert add_time == expected
    parsed = datetime.fromisoformat(add_time.replace("Z", "+00:00"))
    assert abs(parsed - NOW) < timedelta(seconds=1)  # same instant, whatever the rendering


def test_empty_conference_name_null_or_empty(api):
    rid = api.server.add_recording(conference_name=None, recording_type="call")
    assert api.get(f"Recording/{rid}/").json()["conference_name"] is None
    api.server.configure(empty_conference_name="empty")
    assert api.get(f"Recording/{rid}/").json()["conference_name"] == ""


def test_unready_recording_is_hidden_until_processed(api, poll):
    api.server.configure(processing_delay_s=0.1)
    rid = api.server.add_recording(conference_name="A", ready=False)
    assert api.get(f"Recording/{rid}/").status_code == 404
    assert api.server.recordings == []
    rows = poll(lambda: api.objects())
    assert rows[0]["recording_id"] == rid


def test_list_that_ignores_offset_always_answers_the_first_page(api):
    expected = _fill(api.server, 5)
    api.server.configure(list_offset="ignore")
    for offset in (0, 2, 4, 40):
        body = api.get("Recording/", params={"limit": 2, "offset": offset}).json()
        assert [row["recording_id"] for row in body["objects"]] == expected[:2]
        assert body["meta"]["next"] == f"/v1/Account/{api.server.auth_id}/Recording/?limit=2&offset=2"
        assert body["meta"]["total_count"] is None
    api.server.configure(list_shape="legacy")
    pagination = api.get("Recording/", params={"limit": 2, "offset": 4}).json()["pagination"]
    assert pagination["has_more"] is True
    assert pagination["total"] is None
