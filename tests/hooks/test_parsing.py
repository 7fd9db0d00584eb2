"""Every documented wire shape of a recording, page and single answer parses to the same values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vobiz_provider.exceptions import VobizResponseError
from vobiz_provider.hooks.api import parse_recording_page, parse_single_recording
from vobiz_provider.models import Recording
from vobiz_provider.validation import isoformat_utc, parse_instant

WHEN = datetime(2026, 5, 7, 4, 15, 35, 792760, tzinfo=timezone.utc)
CURRENT = {
    "recording_id": "rec_1",
    "recording_url": "https://media.vobiz.ai/api/v1/Account/MA_X/Recording/rec_1.mp3",
    "recording_format": "mp3",
    "call_uuid": "c-1",
    "conference_name": "Daily Standup",
    "recording_type": "conference",
    "add_time": "2026-05-07 09:45:35.79276+05:30",
    "recording_start_ms": "1778127325792.00000",
    "recording_end_ms": "1778127335792.00000",
    "recording_duration_ms": "10000.00000",
    "rounded_recording_duration": 60,
    "from_number": "919624705678",
    "to_number": "+918065480000",
    "recording_storage_duration": 0,
    "recording_storage_rate": 0.005,
    "monthly_recording_storage_amount": 0,
    "resource_uri": "/v1/Account/MA_X/Recording/rec_1/",
}
LEGACY_ITEM = {
    "recording_id": "rec_1",
    "call_id": "c-1",
    "recording_type": "conference",
    "url": CURRENT["recording_url"],
    "download_path": "/media/rec_1.mp3",
    "duration": 10.0,
    "created_at": "2026-05-07T04:15:35.79276Z",
    "file_size": 1234,
    "format": "MP3",
    "conference_name": "Daily Standup",
}


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-07 09:45:35.79276+05:30",  # the wire: space, 5-digit fraction, offset
        "2026-05-07T09:45:35.792760+05:30",
        "2026-05-07T09:45:35.79276+0530",
        "2026-05-07T04:15:35.79276Z",
        "2026-05-07 04:15:35.79276",  # no offset: UTC
        "2026-05-06T23:15:35.79276-05:00",
    ],
)
def test_add_time_variants_are_one_instant(text):
    assert Recording.from_api({**CURRENT, "add_time": text}).add_time == WHEN


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("10000.00000", 10000.0), (10000.0, 10000.0), (10000, 10000.0), ("", None), (None, None)],
)
def test_duration_ms_string_or_number(wire, expected):
    assert Recording.from_api({**CURRENT, "recording_duration_ms": wire}).duration_ms == expected


@pytest.mark.parametrize("name", [None, "", "  "])
def test_conference_name_null_or_empty_is_none(name):
    rec = Recording.from_api({**CURRENT, "conference_name": name, "recording_type": "call"})
    assert rec.conference_name is None
    assert not rec.is_conference


def test_current_object_with_unknown_keys():
    rec = Recording.from_api({**CURRENT, "brand_new_field": {"nested": [1]}, "transcription": None})
    assert rec == Recording(
        recording_id="rec_1",
        recording_url=CURRENT["recording_url"],
        conference_name="Daily Standup",
        recording_type="conference",
        recording_format="mp3",
        call_uuid="c-1",
        add_time=WHEN,
        duration_ms=10000.0,
        start_ms=1778127325792.0,
        end_ms=1778127335792.0,
        rounded_recording_duration=60,
        from_number="919624705678",
        to_number="+918065480000",
    )


def test_null_start_and_end_ms():
    rec = Recording.from_api({**CURRENT, "recording_start_ms": None, "recording_end_ms": None})
    assert (rec.start_ms, rec.end_ms) == (None, None)


def test_legacy_item():
    rec = Recording.from_api(LEGACY_ITEM)
    assert (rec.recording_id, rec.recording_url, rec.call_uuid) == ("rec_1", CURRENT["recording_url"], "c-1")
    assert (rec.duration_ms, rec.recording_format, rec.add_time) == (10000.0, "mp3", WHEN)


@pytest.mark.parametrize("missing", ["recording_id", "recording_url", "add_time"])
def test_missing_essentials_are_a_response_error(missing):
    with pytest.raises(VobizResponseError, match=missing):
        Recording.from_api({key: value for key, value in CURRENT.items() if key != missing})


@pytest.mark.parametrize(
    ("field", "value"),
    [("recording_duration_ms", "ten seconds"), ("recording_duration_ms", True), ("add_time", "yesterday")],
)
def test_garbage_values_are_a_response_error(field, value):
    with pytest.raises(VobizResponseError, match=field):
        Recording.from_api({**CURRENT, field: value})


def test_to_dict_is_the_xcom_shape_and_round_trips():
    rec = Recording.from_api(CURRENT)
    data = rec.to_dict()
    assert data["add_time"] == "2026-05-07T04:15:35.792760+00:00"
    assert data["duration_ms"] == 10000.0
    assert {"recording_id", "recording_url", "conference_name", "recording_type", "recording_format"} <= set(data)
    assert {"call_uuid", "start_ms", "end_ms", "rounded_recording_duration"} <= set(data)
    assert Recording.from_dict(data) == rec


def test_single_flat_and_wrapped():
    flat = parse_single_recording({**CURRENT, "api_id": "a-1"})
    wrapped = parse_single_recording({"api_id": "a-1", "meta": {"total_count": 1}, "objects": [CURRENT]})
    assert flat == wrapped == Recording.from_api(CURRENT)
    with pytest.raises(VobizResponseError, match="empty"):
        parse_single_recording({"meta": {}, "objects": []})


def test_current_page_reads_the_offset_from_meta_next_without_api_prefix():
    page = parse_recording_page(
        {
            "meta": {"next": "/v1/Account/MA_X/Recording/?limit=100&offset=100", "total_count": 250},
            "objects": [CURRENT],
        },
        0,
    )
    assert page.next_offset == 100
    assert [rec.recording_id for rec in page.recordings] == ["rec_1"]


def test_last_and_empty_pages():
    assert parse_recording_page({"meta": {"next": None}, "objects": [CURRENT]}, 200).next_offset is None
    assert parse_recording_page({"meta": {"total_count": 0, "next": None}, "objects": []}, 0).recordings == []


def test_next_past_the_total_ends_the_list():
    # A server that ignores ``offset`` keeps answering page one with a "next": the total stops it.
    endless = {"meta": {"next": "/v1/Account/MA_X/Recording/?limit=1&offset=1", "total_count": 1}, "objects": [CURRENT]}
    assert parse_recording_page(endless, 0).next_offset is None
    legacy = {"recordings": [LEGACY_ITEM], "pagination": {"has_more": True, "total": 1}}
    assert parse_recording_page(legacy, 0).next_offset is None


def test_legacy_page():
    more = parse_recording_page({"recordings": [LEGACY_ITEM], "pagination": {"has_more": True}}, 40)
    last = parse_recording_page({"recordings": [LEGACY_ITEM], "pagination": {"has_more": False}}, 41)
    assert (more.next_offset, last.next_offset) == (41, None)
    assert more.recordings[0].add_time == WHEN


def test_unknown_page_shape_names_what_came():
    with pytest.raises(VobizResponseError, match="error"):
        parse_recording_page({"error": "failed"}, 0)


def test_instants_helpers():
    assert isoformat_utc(parse_instant("2026-05-07 09:45:35+05:30")) == "2026-05-07T04:15:35Z"
    assert parse_instant(datetime(2026, 5, 7, 4, 15)) == datetime(2026, 5, 7, 4, 15, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="since"):
        parse_instant("last tuesday", field="since")


# -- the same shapes, served over HTTP ------------------------------------------------------------

SWITCHES = [
    {},
    {"list_shape": "legacy", "get_shape": "wrapped"},
    {"ms_as_strings": False, "add_time_style": "iso_z"},
    {"add_time_utc_offset": "+05:30", "get_shape": "wrapped"},
    {"add_time_utc_offset": "-03:00", "add_time_style": "iso_z", "ms_as_strings": False},
    {"empty_conference_name": "empty", "list_shape": "legacy"},
]


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default")
def test_served_shapes_parse_alike(vobiz_fake, make_hook, kind, switches):
    vobiz_fake.configure(**switches)
    added = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    rec_id = vobiz_fake.add_recording(conference_name="Daily Standup", duration_s=7.5, add_time=added)
    vobiz_fake.add_recording(conference_name=None, recording_type="call", add_time=added)
    hook = make_hook(kind)

    got = hook("get_recording", rec_id)
    found = hook("find_conference_recording", "Daily Standup", added - timedelta(minutes=1)).match

    # The legacy list carries fewer fields; what both carry must agree.
    assert found is not None
    for rec in (got, found):
        assert (rec.recording_id, rec.conference_name, rec.recording_type) == (rec_id, "Daily Standup", "conference")
        assert rec.add_time == added
        assert rec.duration_ms == 7500.0
        assert rec.recording_format == "mp3"
        assert rec.recording_url.endswith(f"/Recording/{rec_id}.mp3")


def test_a_page_skips_the_rows_it_cannot_use_and_names_the_field():
    no_url = {**CURRENT, "recording_id": "rec_2", "recording_url": None}
    no_id = {key: value for key, value in CURRENT.items() if key != "recording_id"}
    bad_number = {**CURRENT, "recording_id": "rec_3", "recording_end_ms": "later"}
    bad_time = {**CURRENT, "recording_id": "rec_4", "add_time": "yesterday"}
    page = parse_recording_page(
        {"meta": {"next": None}, "objects": [no_url, CURRENT, no_id, bad_number, bad_time, 7]}, 0
    )

    assert [rec.recording_id for rec in page.recordings] == ["rec_1"]
    fields = [(row.recording_id, row.field, row.missing) for row in page.skipped]
    assert fields == [
        ("rec_2", "recording_url", True),
        (None, "recording_id", True),
        ("rec_3", "recording_end_ms", False),
        ("rec_4", "add_time", False),
        (None, "recording", False),
    ]
    # A page of the wrong shape is still a failed read.
    with pytest.raises(VobizResponseError, match="no 'objects' or 'recordings'"):
        parse_recording_page({"objects": {"rec_1": CURRENT}}, 0)
