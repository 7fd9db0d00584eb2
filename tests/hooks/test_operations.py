"""The hook's operations against each documented behaviour of the API: start, stop, rooms, files."""

from __future__ import annotations

import hashlib
import io
import time

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.exceptions import VobizClientError, VobizConfigError, VobizNotFoundError
from vobiz_provider.models import StopStatus


@pytest.fixture
def hook(make_hook):
    return make_hook("sync").hook


def test_start_current_api_returns_no_id(vobiz_fake, hook):
    vobiz_fake.add_room("Standup")

    started = hook.start_conference_recording("Standup", file_format="wav", callback_url="https://example.com/cb")

    assert (started.recording_id, started.url, started.already_recording) == (None, None, False)
    assert started.api_id and started.message == "async api spawned"
    (entry,) = api_requests(vobiz_fake, "conference.record.start")
    assert b'"file_format": "wav"' in entry.body and b'"callback_url": "https://example.com/cb"' in entry.body


def test_start_legacy_api_returns_id_and_url(vobiz_fake, hook):
    vobiz_fake.configure(start_mode="legacy")
    vobiz_fake.add_room("Standup")

    started = hook.start_conference_recording("Standup")

    assert started.recording_id and started.url and started.url.endswith(".mp3")


def test_start_while_recording_is_reported(vobiz_fake, hook):
    vobiz_fake.add_room("Already Standup", recording=True)  # "already" in the name must not matter

    started = hook.start_conference_recording("Already Standup")

    assert started.already_recording is True
    assert "already" in (started.message or "")


def test_start_refusal_naming_already_only_in_the_room_is_raised(vobiz_fake, hook):
    vobiz_fake.add_room("already here")
    vobiz_fake.inject("conference.record.start", 400, body={"api_id": "a-1", "error": "bad request"})

    with pytest.raises(VobizClientError, match="Vobiz answered 400"):
        hook.start_conference_recording("already here")


@pytest.mark.parametrize(
    ("status", "said", "already"),
    [
        (400, "conference has already ended", False),  # "already", but not recording: an error
        (422, "recording already stopped", False),
        (422, "Recording is already active for this conference", True),
        (400, "conference is already being recorded", True),
    ],
)
def test_start_refusal_means_already_recording_only_in_those_words(vobiz_fake, hook, status, said, already):
    # The start matches Vobiz's phrases as the stop does (api.nothing_to_stop), not the bare word "already".
    vobiz_fake.add_room("Standup")
    vobiz_fake.inject("conference.record.start", status, body={"api_id": "a-2", "error": said})

    if already:
        assert hook.start_conference_recording("Standup").already_recording is True
    else:
        with pytest.raises(VobizClientError, match=said):
            hook.start_conference_recording("Standup")


def test_start_rejects_a_bad_format_before_sending(vobiz_fake, hook):
    with pytest.raises(VobizConfigError, match="file_format"):
        hook.start_conference_recording("Standup", file_format="ogg")
    assert vobiz_fake.requests == []


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"recording": True}, StopStatus.STOPPED),
        ({"recording": False}, StopStatus.STOPPED),  # agent rules: 204 when nothing records (indistinguishable)
        ({"recording": False, "stop_idle_status": 400}, StopStatus.NOT_RECORDING),  # older docs: an error
        (None, StopStatus.NOT_RECORDING),  # no such room: 404
    ],
)
def test_stop_outcomes(vobiz_fake, hook, setup, expected):
    if setup is not None:
        setup = dict(setup)
        if "stop_idle_status" in setup:
            vobiz_fake.configure(stop_idle_status=setup.pop("stop_idle_status"))
        vobiz_fake.add_room("Standup", **setup)

    stopped = hook.stop_conference_recording("Standup")

    assert stopped.status is expected
    assert stopped.http_status == api_requests(vobiz_fake, "conference.record.stop")[-1].status


@pytest.mark.parametrize("status", [400, 409, 410, 422])
def test_stop_refused_in_words_for_nothing_recording_is_not_recording(vobiz_fake, hook, status):
    vobiz_fake.add_room("Standup")
    vobiz_fake.inject("conference.record.stop", status, body={"error": "No active recording for this conference"})

    stopped = hook.stop_conference_recording("Standup")

    assert stopped.status is StopStatus.NOT_RECORDING
    assert stopped.http_status == status


@pytest.mark.parametrize("status", [400, 409, 422])
def test_stop_refused_for_another_reason_fails_naming_vobizs_words(vobiz_fake, hook, status):
    # An "invalid request" used to become a warning while the recording kept running.
    vobiz_fake.add_room("Standup", recording=True)
    vobiz_fake.inject("conference.record.stop", status, body={"error": "invalid request: conference_name"})

    with pytest.raises(VobizClientError, match="invalid request: conference_name"):
        hook.stop_conference_recording("Standup")


def test_conferences(vobiz_fake, hook):
    vobiz_fake.add_room("Standup", members=3)

    assert hook.list_conferences() == ["Standup"]
    assert hook.get_conference("Standup")["conference_member_count"] == "3"
    assert hook.get_conference("Nobody Here") is None
    vobiz_fake.configure(conference_get_mode="failed", conference_list_mode="empty")
    assert hook.get_conference("Standup")["error"] == "failed"
    assert hook.list_conferences() == []


# -- files -----------------------------------------------------------------------------------------


def test_file_probe_waits_for_processing(vobiz_fake, make_hook, kind):
    rec_id = vobiz_fake.add_recording(conference_name="Standup", ready=False)  # row after 0.2 s, file 0.2 s later
    hook = make_hook(kind)
    with pytest.raises(VobizNotFoundError):
        hook("get_recording", rec_id)
    deadline = time.monotonic() + 3
    answers = []
    while time.monotonic() < deadline:
        try:
            answers.append(hook("recording_file_ready", hook("get_recording", rec_id)))
        except VobizNotFoundError:
            answers.append(None)
        if answers[-1]:
            break
        time.sleep(0.05)

    assert answers[-1] is True
    assert False in answers  # the row was there before its file
    heads = [entry for entry in api_requests(vobiz_fake, "media") if entry.method == "HEAD"]
    assert heads[-1].status == 200 and 404 in {entry.status for entry in heads}


def test_file_probe_falls_back_to_a_ranged_get(vobiz_fake, make_hook, kind):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("media", 405)
    hook = make_hook(kind)

    assert hook("recording_file_ready", hook("get_recording", rec_id)) is True

    head, get = api_requests(vobiz_fake, "media")
    assert (head.method, head.status) == ("HEAD", 405)
    assert (get.method, get.headers["Range"], get.status) == ("GET", "bytes=0-0", 206)


def test_download_resumes_after_a_drop(vobiz_fake, hook):
    rec_id = vobiz_fake.add_recording(conference_name="Standup", duration_s=2)
    vobiz_fake.drop_file_after(5000)
    sink = io.BytesIO()
    progress = []

    transfer = hook.download_recording_file(
        hook.get_recording(rec_id).recording_url, sink, chunk_size=4096, on_progress=lambda n, t: progress.append(n)
    )

    expected = vobiz_fake.recording_bytes(rec_id)
    assert sink.getvalue() == expected
    assert (transfer.bytes_written, transfer.sha256, transfer.resumed) == (
        len(expected),
        hashlib.sha256(expected).hexdigest(),
        1,
    )
    first, second = api_requests(vobiz_fake, "media")
    assert "Range" not in first.headers and second.headers["Range"].startswith("bytes=")
    assert progress[-1] == len(expected)


def test_download_of_a_missing_file(vobiz_fake, hook):
    url = f"{vobiz_fake.base_url}/media/api/v1/Account/{vobiz_fake.auth_id}/Recording/nope.mp3"

    with pytest.raises(VobizNotFoundError, match="404"):
        hook.download_recording_file(url, io.BytesIO())


def test_call_reaches_any_endpoint_with_the_scoped_credentials(vobiz_fake, hook):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")

    listed = hook.call("GET", "Recording/", params={"limit": 1})
    single = hook.call("GET", f"Recording/{rec_id}/")

    assert [item["recording_id"] for item in listed["objects"]] == [rec_id]
    assert single["recording_id"] == rec_id
    (entry, _) = api_requests(vobiz_fake, "recording.list") + api_requests(vobiz_fake, "recording.get")
    assert entry.headers["X-Auth-ID"] == vobiz_fake.auth_id


def test_call_refuses_a_full_url_before_any_request(vobiz_fake, hook):
    with pytest.raises(VobizConfigError, match="path must be a path below the account"):
        hook.call("GET", "https://elsewhere.example/Recording/")

    assert vobiz_fake.requests == []
