"""A presigned URL is a credential: its query (X-Amz-Signature...) appears in no exception, retry
warning or log line, including requests' and aiohttp's own connection-error texts."""

from __future__ import annotations

import io

import pytest

from vobiz_provider.exceptions import VobizConnectionError
from vobiz_provider.testing import refusing_port

STORAGE = "127.0.0.3"


@pytest.fixture
def storage_down(vobiz_fake):
    if STORAGE not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.3 is not a loopback address on this machine")
    with refusing_port(STORAGE) as down:
        vobiz_fake.configure(storage_host=STORAGE, storage_port=down.port, storage_signed=True)
        yield vobiz_fake.add_recording(conference_name="Standup")


def _leaks(text: str) -> bool:
    return "X-Amz-Signature" in text or "X-Amz-Credential" in text


def test_probe_of_a_refusing_storage_host_keeps_the_signature_out(
    vobiz_fake, use_connection, make_hook, kind, storage_down, logs
):
    use_connection(extra={"max_retries": 1})
    hook = make_hook(kind)
    recording = hook("get_recording", storage_down)

    with pytest.raises(VobizConnectionError) as raised:
        hook("recording_file_ready", recording)

    assert STORAGE in str(raised.value)  # the error still says where
    assert not _leaks(str(raised.value))
    assert logs.warnings(), "the retry was logged"
    assert not _leaks(logs.text())


def test_download_from_a_refusing_storage_host_keeps_the_signature_out(
    vobiz_fake, use_connection, make_hook, storage_down, logs
):
    use_connection(extra={"max_retries": 1})
    hook = make_hook("sync").hook

    with pytest.raises(VobizConnectionError) as raised:
        hook.download_recording_file(hook.get_recording(storage_down).recording_url, io.BytesIO())

    assert not _leaks(str(raised.value))
    assert not _leaks(logs.text())
