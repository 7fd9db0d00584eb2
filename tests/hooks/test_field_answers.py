"""Answers seen in the field: a maintenance page or a body cut short where JSON belongs, an http://
file URL under an https:// API, and the extras read asynchronously in the triggerer."""

from __future__ import annotations

import asyncio

import pytest

from tests.compat import needs_task_sdk
from tests.hooks.support import api_requests
from vobiz_provider.exceptions import VobizAuthError, VobizUnavailableError
from vobiz_provider.hooks.connection import VobizSettings, credentials_for
from vobiz_provider.hooks.vobiz import VobizAsyncHook
from vobiz_provider.models import StopStatus

MAINTENANCE = "<html><body><h1>Down for maintenance</h1></body></html>"


def test_an_html_page_is_retried_like_a_503(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"max_retries": 2})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", 200, body=MAINTENANCE, headers={"Content-Type": "text/html"})

    assert make_hook(kind)("get_recording", rid).recording_id == rid
    assert [entry.status for entry in api_requests(vobiz_fake, "recording.get")] == [200, 200]


def test_an_html_page_that_outlasts_the_retries_is_a_transient_error(vobiz_fake, use_connection, make_hook, kind):
    from vobiz_provider.waiting import FailureKind, classify

    use_connection(extra={"max_retries": 1})
    vobiz_fake.inject("recording.get", 200, body=MAINTENANCE, headers={"Content-Type": "text/html"}, times=2)

    with pytest.raises(VobizUnavailableError, match="HTML page") as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert classify(raised.value) is FailureKind.TRANSIENT


@pytest.mark.parametrize("cut", ["malformed", "empty"])
def test_a_list_answer_cut_short_is_asked_again(vobiz_fake, use_connection, make_hook, kind, cut):
    # A 200 whose body is truncated or empty (a proxy dropped the rest): the same GET answers whole.
    use_connection(extra={"max_retries": 2})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    if cut == "malformed":
        vobiz_fake.inject_malformed_json("recording.list")
    else:
        vobiz_fake.inject("recording.list", 200, body=b"")

    search = make_hook(kind)("find_conference_recording", "Standup", "2000-01-01")

    assert search.match is not None and search.match.recording_id == rid
    assert [entry.status for entry in api_requests(vobiz_fake, "recording.list")] == [200, 200]


def test_a_stop_answered_2xx_with_a_body_cut_short_is_stopped(vobiz_fake, make_hook, logs):
    vobiz_fake.add_room("Standup", recording=True)
    vobiz_fake.inject_malformed_json("conference.record.stop", after_serving=True)

    stopped = make_hook("sync").hook.stop_conference_recording("Standup")

    # Stopped (not "not_recording", which sending it again would report), and only once.
    assert stopped.status is StopStatus.STOPPED and stopped.api_id is None
    assert len(api_requests(vobiz_fake, "conference.record.stop")) == 1
    assert any("with a body that is not JSON" in line for line in logs.warnings())


def test_no_credentials_over_http_when_the_api_is_https():
    settings = VobizSettings("c", "https://api.vobiz.ai", "MA_X", "tok", auth_hosts=("media.vobiz.ai",))
    assert credentials_for(settings, "https://media.vobiz.ai/r.mp3")
    # A recording URL Vobiz hands out as http:// on an allowed host: a downgrade, even as the first hop.
    assert credentials_for(settings, "http://media.vobiz.ai/r.mp3") == {}
    assert credentials_for(settings, "http://api.vobiz.ai/api/v1/") == {}
    lab = VobizSettings("c", "http://127.0.0.1:8765", "MA_X", "tok")
    assert credentials_for(lab, "http://127.0.0.1:8765/media/r.mp3")  # an http API: the user chose it


def test_an_http_file_url_under_an_https_api_gets_no_credentials(
    vobiz_fake, use_connection, make_hook, kind, closed_port
):
    # The API is https:// (nothing needs to answer there); the file URL Vobiz handed out is http://.
    use_connection(host=f"https://127.0.0.1:{closed_port}", extra={"max_retries": 0})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    url = next(row["recording_url"] for row in vobiz_fake.recordings if row["recording_id"] == rid)
    assert url.startswith("http://127.0.0.1:")

    with pytest.raises(VobizAuthError):
        make_hook(kind)("recording_file_ready", url)

    media = api_requests(vobiz_fake, "media")
    assert media and not any("X-Auth-Token" in entry.headers for entry in media)


@needs_task_sdk
def test_async_hook_reads_extras_with_aextra_dejson(vobiz_fake, use_connection, monkeypatch):
    # In the triggerer the sync extra_dejson would call the API server from the event loop.
    from airflow.sdk.definitions.connection import Connection

    if not hasattr(Connection, "aextra_dejson"):
        pytest.skip("Airflow 3.2 has no Connection.aextra_dejson (3.3 added it); the hook falls back to extra_dejson")
    use_connection(extra={"timeout": 7, "auth_hosts": ["media.example.com"]})
    read: list[str] = []

    def refuse(self):
        raise AssertionError("extra_dejson read synchronously in the event loop")

    original = Connection.aextra_dejson

    async def counted(self):
        read.append(self.conn_id)
        return await original(self)

    monkeypatch.setattr(Connection, "extra_dejson", property(refuse))
    monkeypatch.setattr(Connection, "aextra_dejson", counted)

    async def settings():
        hook = VobizAsyncHook()
        try:
            return await hook.get_settings()
        finally:
            await hook.close()

    got = asyncio.run(settings())
    assert set(read) == {"vobiz_default"}
    assert got.timeout == 7 and got.auth_hosts == ("media.example.com",)
