"""The fake server's API over real HTTP: auth, conferences, start/stop and the recording rows."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

ROOM = "Daily Standup"
ROOM_PATH = "Conference/Daily%20Standup/"


# auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Auth-ID": "MA_FAKE0001"},
        {"X-Auth-ID": "MA_FAKE0001", "X-Auth-Token": "wrong"},
        {"X-Auth-ID": "MA_OTHER001", "X-Auth-Token": "fake-token-123"},
    ],
    ids=["none", "no-token", "wrong-token", "wrong-id"],
)
def test_bad_credentials_answer_401(api, headers):
    response = requests.get(api.url("Recording/"), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "authentication failed"
    assert "api_id" in response.json()


def test_other_account_in_path_is_401_even_with_good_headers(api):
    url = f"{api.server.base_url}/api/v1/Account/MA_OTHER001/Recording/"
    assert requests.get(url, headers=api.auth, timeout=5).status_code == 401


def test_lowercase_account_path_is_401_not_404(api):
    url = f"{api.server.base_url}/api/v1/account/{api.server.auth_id}/Recording/"
    response = requests.get(url, headers=api.auth, timeout=5)
    assert response.status_code == 401


def test_missing_trailing_slash_is_404(api):
    assert api.get("Recording").status_code == 404
    assert api.get("Recording/").status_code == 200


def test_standard_error_envelope(api):
    api.server.configure(error_envelope="standard")
    body = api.get(f"Recording/{uuid.uuid4()}/").json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["message"] == "Recording not found"
    assert body["requestId"].startswith("req_")
    assert body["timestamp"].endswith("Z")
    unauthorised = requests.get(api.url("Recording/"), timeout=5)
    assert unauthorised.json()["error"]["code"] == "INVALID_CREDENTIALS"


# conferences ----------------------------------------------------------------------------------


def test_conference_list_get_and_unknown(api):
    api.server.add_room(ROOM, members=3)
    listed = api.get("Conference/").json()
    assert listed["conferences"] == [ROOM]
    room = api.get(ROOM_PATH).json()
    assert room["conference_name"] == ROOM
    assert room["conference_member_count"] == "3"
    assert isinstance(room["conference_run_time"], str)
    assert len(room["members"]) == 3
    missing = api.get("Conference/Nobody/")
    assert missing.status_code == 404
    assert missing.json()["error"] == "conference not found"


def test_conference_modes_failed_and_empty(api):
    api.server.add_room(ROOM)
    api.server.configure(conference_get_mode="failed", conference_list_mode="empty")
    failed = api.get(ROOM_PATH)
    assert failed.status_code == 200
    assert failed.json()["error"] == "failed"
    assert api.get("Conference/").json()["conferences"] == []
    assert api.get("Conference/Nobody/").status_code == 404


def test_hangup_ends_room_and_finalises_its_recording(api, poll):
    api.server.add_room(ROOM, recording=True)
    assert api.delete(ROOM_PATH).status_code == 204
    assert api.get(ROOM_PATH).status_code == 404
    assert api.delete(ROOM_PATH).status_code == 404
    rows = poll(lambda: api.objects())
    assert rows[0]["conference_name"] == ROOM


def test_hangup_all(api):
    assert api.delete("Conference/").status_code == 204  # also when no room is live
    api.server.add_room("A")
    api.server.add_room("B")
    assert api.delete("Conference/").status_code == 204
    assert api.get("Conference/").json()["conferences"] == []


# start ----------------------------------------------------------------------------------------


def test_start_current_mode_returns_no_id(api):
    api.server.add_room(ROOM)
    response = api.post(f"{ROOM_PATH}Record/", json={"file_format": "wav"})
    assert response.status_code == 200
    assert response.json().keys() == {"message", "api_id"}
    assert response.json()["message"] == "async api spawned"


def test_start_legacy_mode_names_the_row_that_appears_later(api, poll):
    api.server.configure(start_mode="legacy", processing_delay_s=0.05, file_delay_s=0.05)
    api.server.add_room(ROOM)
    started = api.post(f"{ROOM_PATH}Record/").json()
    assert started["message"] == "conference recording started"
    assert started["url"].endswith(f"/Recording/{started['recording_id']}.mp3")
    assert api.delete(f"{ROOM_PATH}Record/").status_code == 204
    rows = poll(lambda: api.objects())
    assert rows[0]["recording_id"] == started["recording_id"]
    assert rows[0]["recording_url"] == started["url"]


def test_start_errors(api):
    assert api.post("Conference/Nobody/Record/").status_code == 404
    api.server.add_room(ROOM)
    bad = api.post(f"{ROOM_PATH}Record/", json={"file_format": "ogg"})
    assert bad.status_code == 400
    assert api.post(f"{ROOM_PATH}Record/", data=b"not json").status_code == 400


def test_start_while_recording_status_is_switchable(api, poll):
    api.server.add_room(ROOM, recording=True)
    again = api.post(f"{ROOM_PATH}Record/")
    assert again.status_code == 400
    assert again.json()["error"] == "recording already in progress"
    api.server.configure(start_when_recording_status=409)
    assert api.post(f"{ROOM_PATH}Record/").status_code == 409
    api.server.configure(start_when_recording_status=200)
    assert api.post(f"{ROOM_PATH}Record/").status_code == 200
    api.delete(f"{ROOM_PATH}Record/")
    poll(lambda: api.objects())
    time.sleep(0.1)
    assert len(api.objects()) == 1  # the repeated starts did not start a second recording


def test_start_takes_either_callback_field(api):
    api.server.add_room("A")
    api.server.add_room("B")
    assert api.post("Conference/A/Record/", json={"callback_url": "http://x/cb"}).status_code == 200
    assert api.post("Conference/B/Record/", json={"recording_callback_url": "http://x/cb"}).status_code == 200


# stop and the row that follows -----------------------------------------------------------------


def test_stop_then_row_then_file(api, poll):
    srv = api.server
    srv.configure(processing_delay_s=0.3, file_delay_s=0.3, recording_duration_s=2.0)
    srv.add_room(ROOM, recording=True)
    started = time.monotonic()
    stop = api.delete(f"{ROOM_PATH}Record/")
    assert stop.status_code == 204
    assert stop.content == b""
    assert api.objects() == []
    row = poll(lambda: api.objects())[0]
    assert time.monotonic() - started >= 0.28
    assert row["recording_type"] == "conference"
    assert row["conference_name"] == ROOM
    assert row["recording_duration_ms"] == "2000.00000"
    assert api.get(f"Recording/{row['recording_id']}/").status_code == 200
    assert api.download(row["recording_url"]).status_code == 404  # listed, file not ready yet
    poll(lambda: api.download(row["recording_url"]).status_code == 200)
    assert time.monotonic() - started >= 0.58


def test_stop_idle_defaults_to_204(api):
    api.server.add_room(ROOM)
    response = api.delete(f"{ROOM_PATH}Record/")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize("status", [400, 404, 409])
def test_stop_idle_can_be_an_error(api, status):
    api.server.configure(stop_idle_status=status)
    api.server.add_room(ROOM)
    response = api.delete(f"{ROOM_PATH}Record/")
    assert response.status_code == status
    assert response.json()["error"] == "no active recording"


def test_stop_unknown_room_is_404(api):
    response = api.delete("Conference/Nobody/Record/")
    assert response.status_code == 404
    assert response.json()["error"] == "conference not found"


def test_room_duration_sets_recording_length(api, poll):
    api.server.configure(processing_delay_s=0)
    api.server.add_room(ROOM, recording=True, duration_s=12.5)
    rid = api.server.end_room(ROOM)
    row = poll(lambda: api.objects())[0]
    assert row["recording_id"] == rid
    assert float(row["recording_duration_ms"]) == 12500
    assert float(row["recording_end_ms"]) - float(row["recording_start_ms"]) == 12500
    assert row["rounded_recording_duration"] == 60


def test_python_helpers_refuse_mistakes(vobiz_fake):
    with pytest.raises(KeyError):
        vobiz_fake.end_room("Nobody")
    vobiz_fake.add_room(ROOM)
    with pytest.raises(ValueError):
        vobiz_fake.add_room(ROOM)
    vobiz_fake.start_recording(ROOM)
    with pytest.raises(RuntimeError):
        vobiz_fake.start_recording(ROOM)
    with pytest.raises(ValueError):
        vobiz_fake.add_recording(conference_name=None, file_format="ogg")


# recordings: get and delete -------------------------------------------------------------------


def test_get_flat_and_wrapped(api):
    rid = api.server.add_recording(conference_name=ROOM)
    flat = api.get(f"Recording/{rid}/").json()
    assert flat["recording_id"] == rid
    assert "api_id" in flat
    assert "objects" not in flat
    api.server.configure(get_shape="wrapped")
    wrapped = api.get(f"Recording/{rid}/").json()
    assert wrapped["meta"]["total_count"] == 1
    assert wrapped["objects"][0]["recording_id"] == rid
    assert "recording_id" not in wrapped


def test_get_unknown_and_delete(api):
    missing = api.get(f"Recording/{uuid.uuid4()}/")
    assert missing.status_code == 404
    assert missing.json()["error"] == "Recording not found"
    rid = api.server.add_recording(conference_name=ROOM)
    url = api.server.recordings[0]["recording_url"]
    assert api.delete(f"Recording/{rid}/").status_code == 204
    assert api.delete(f"Recording/{rid}/").status_code == 404
    assert api.get(f"Recording/{rid}/").status_code == 404
    assert api.download(url).status_code == 404


def test_recording_object_has_the_documented_fields(api):
    rid = api.server.add_recording(conference_name=ROOM, duration_s=10.08)
    row = api.get(f"Recording/{rid}/").json()
    assert set(row) == {
        "api_id",
        "recording_id",
        "recording_url",
        "recording_format",
        "call_uuid",
        "conference_name",
        "recording_type",
        "add_time",
        "recording_start_ms",
        "recording_end_ms",
        "recording_duration_ms",
        "rounded_recording_duration",
        "from_number",
        "to_number",
        "recording_storage_duration",
        "recording_storage_rate",
        "monthly_recording_storage_amount",
        "resource_uri",
    }
    assert uuid.UUID(row["recording_id"]) and uuid.UUID(row["call_uuid"])
    assert row["recording_duration_ms"] == "10080.00000"
    assert row["resource_uri"] == f"/v1/Account/{api.server.auth_id}/Recording/{rid}/"
    assert row["recording_url"] == (
        f"{api.server.base_url}/media/api/v1/Account/{api.server.auth_id}/Recording/{rid}.mp3"
    )
