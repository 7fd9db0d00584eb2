"""Presigned storage: a HEAD on a URL signed for GET answers 403; the probe falls back to a ranged
GET instead of blaming the connection's credentials (docs/vobiz-api-quirks.md, "Presigned storage")."""

from __future__ import annotations

import io

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.exceptions import VobizAuthError

STORAGE = "127.0.0.3"


@pytest.fixture
def signed_storage(vobiz_fake):
    if STORAGE not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.3 is not a loopback address on this machine")
    vobiz_fake.configure(storage_host=STORAGE, storage_signed=True, storage_head_status=403)
    return vobiz_fake.add_recording(conference_name="Standup")


def test_probe_of_get_signed_storage_falls_back_to_a_ranged_get(
    vobiz_fake, use_connection, make_hook, kind, signed_storage
):
    use_connection()
    hook = make_hook(kind)

    assert hook("recording_file_ready", hook("get_recording", signed_storage)) is True

    methods = [(entry.method, entry.status) for entry in api_requests(vobiz_fake, "storage")]
    assert methods == [("HEAD", 403), ("GET", 206)]


def test_a_403_from_a_host_with_credentials_is_still_an_auth_error(vobiz_fake, use_connection, make_hook, kind):
    use_connection()
    rid = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("media", 403)
    hook = make_hook(kind)

    with pytest.raises(VobizAuthError, match="Check the Auth ID and Token"):
        hook("recording_file_ready", hook("get_recording", rid))


def test_a_get_refused_too_by_the_storage_host_fails(vobiz_fake, use_connection, make_hook, kind, signed_storage):
    use_connection()
    hook = make_hook(kind)
    recording = hook("get_recording", signed_storage)
    vobiz_fake.inject("storage", 403, times=2)  # an expired signature refuses GET as well

    with pytest.raises(VobizAuthError) as raised:
        hook("recording_file_ready", recording)

    # The storage host got no credentials: the message names it and auth_hosts, not the token.
    message = str(raised.value)
    assert f"{STORAGE} was sent no credentials" in message and "auth_hosts" in message
    assert "Check the Auth ID and Token" not in message and "X-Amz-Signature" not in message


def test_a_download_refused_by_the_storage_host_names_the_host(vobiz_fake, use_connection, make_hook, signed_storage):
    use_connection()
    hook = make_hook("sync").hook
    url = hook.get_recording(signed_storage).recording_url
    vobiz_fake.inject("storage", 403)

    with pytest.raises(VobizAuthError) as raised:
        hook.download_recording_file(url, io.BytesIO())

    message = str(raised.value)
    assert f"{STORAGE} was sent no credentials" in message and "auth_hosts" in message
    assert "Check the Auth ID and Token" not in message and "X-Amz-Signature" not in message
