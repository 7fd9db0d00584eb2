"""Credentials go to the API host and ``auth_hosts`` only, on every redirect hop (read from the request log)."""

from __future__ import annotations

import io

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.exceptions import VobizAuthError
from vobiz_provider.hooks.connection import VobizSettings, credentials_for

MEDIA, STORAGE = "127.0.0.2", "127.0.0.3"


def _has_credentials(entry) -> bool:
    return "X-Auth-ID" in entry.headers or "X-Auth-Token" in entry.headers


@pytest.fixture
def on_other_hosts(vobiz_fake):
    """Files on 127.0.0.2, which redirects to unauthenticated storage on 127.0.0.3."""
    if MEDIA not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.2/3 are not loopback addresses on this machine")
    vobiz_fake.configure(media_host=MEDIA, storage_host=STORAGE)
    return vobiz_fake.add_recording(conference_name="Standup")


def test_probe_sends_credentials_to_listed_host_and_not_past_the_redirect(
    vobiz_fake, use_connection, make_hook, kind, on_other_hosts
):
    use_connection(extra={"auth_hosts": [MEDIA]})
    hook = make_hook(kind)
    recording = hook("get_recording", on_other_hosts)
    assert recording.recording_url.startswith(f"http://{MEDIA}:")

    assert hook("recording_file_ready", recording) is True

    media = api_requests(vobiz_fake, "media")
    storage = api_requests(vobiz_fake, "storage")
    assert media and storage
    assert all(_has_credentials(entry) for entry in media)
    assert all(entry.host.startswith(f"{MEDIA}:") for entry in media)
    assert not any(_has_credentials(entry) for entry in storage)
    assert all(entry.host.startswith(f"{STORAGE}:") for entry in storage)
    assert all(_has_credentials(entry) for entry in api_requests(vobiz_fake, "recording.get"))


def test_download_across_the_redirect_keeps_credentials_at_home(vobiz_fake, use_connection, make_hook, on_other_hosts):
    use_connection(extra={"auth_hosts": [MEDIA]})
    hook = make_hook("sync").hook
    sink = io.BytesIO()

    hook.download_recording_file(hook.get_recording(on_other_hosts).recording_url, sink)

    assert sink.getvalue() == vobiz_fake.recording_bytes(on_other_hosts)
    (media,) = api_requests(vobiz_fake, "media")
    (storage,) = api_requests(vobiz_fake, "storage")
    assert _has_credentials(media) and media.status == 302
    assert not _has_credentials(storage) and storage.status == 200


def test_default_auth_hosts_do_not_cover_another_host(vobiz_fake, make_hook, kind, on_other_hosts):
    # The default ["*.vobiz.ai"] does not name 127.0.0.2: nothing is sent there, so it answers 401.
    hook = make_hook(kind)
    recording = hook("get_recording", on_other_hosts)

    with pytest.raises(VobizAuthError) as raised:
        hook("recording_file_ready", recording)

    assert raised.value.status_code == 401
    media = api_requests(vobiz_fake, "media")
    assert media and not any(_has_credentials(entry) for entry in media)
    assert not api_requests(vobiz_fake, "storage")


def test_default_auth_hosts_download_fails_with_auth_error(vobiz_fake, make_hook, on_other_hosts):
    hook = make_hook("sync").hook
    url = hook.get_recording(on_other_hosts).recording_url

    with pytest.raises(VobizAuthError, match="401"):
        hook.download_recording_file(url, io.BytesIO())

    assert not any(_has_credentials(entry) for entry in api_requests(vobiz_fake, "media"))


# -- the rule itself, for hosts loopback cannot play -------------------------------------------------

SETTINGS = VobizSettings(
    conn_id="vobiz_default",
    base_url="https://api.vobiz.ai",
    auth_id="MA_X",
    auth_token="secret-token",
    auth_hosts=("*.vobiz.ai", "files.example.com", "::1"),
)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.vobiz.ai/api/v1/Account/MA_X/Recording/", True),
        ("https://API.Vobiz.AI:8443/x", True),  # case and port do not matter
        ("https://media.vobiz.ai/rec.mp3", True),
        ("https://a.b.vobiz.ai/rec.mp3", True),
        ("https://vobiz.ai/rec.mp3", False),  # "*." needs a subdomain
        ("https://evilvobiz.ai/rec.mp3", False),
        ("https://media.vobiz.ai.evil.com/rec.mp3", False),
        ("https://files.example.com/rec.mp3", True),
        ("https://www.files.example.com/rec.mp3", False),
        ("https://[::1]:8443/rec.mp3", True),
        ("https://s3.amazonaws.com/bucket/rec.mp3", False),
    ],
)
def test_which_hosts_get_credentials(url, allowed):
    assert bool(credentials_for(SETTINGS, url, origin=url)) is allowed


def test_no_credentials_after_a_downgrade_to_http():
    hop = "http://media.vobiz.ai/rec.mp3"
    assert credentials_for(SETTINGS, hop, origin="https://media.vobiz.ai/rec.mp3") == {}
    assert credentials_for(SETTINGS, "https://media.vobiz.ai/x", origin="https://api.vobiz.ai/y")
