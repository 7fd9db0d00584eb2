"""Recording files: WAV/MP3 bytes, Range, truncation, and the storage redirect."""

from __future__ import annotations

import hashlib
import io
import wave

import aiohttp
import mutagen.mp3
import pytest
import requests


def _row(server, **kwargs):
    rid = server.add_recording(conference_name="Daily Standup", **kwargs)
    return next(row for row in server.recordings if row["recording_id"] == rid)


def test_file_is_a_wav_of_the_recorded_length(api):
    row = _row(api.server, duration_s=2.5)
    response = api.download(row["recording_url"])
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == len(response.content)
    with wave.open(io.BytesIO(response.content)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getnframes() / wav.getframerate() == pytest.approx(2.5)
        assert any(wav.readframes(100))  # a tone, not silence
    assert response.content == api.server.recording_bytes(row["recording_id"])


def test_bytes_are_deterministic(api):
    first = _row(api.server, duration_s=1.0)
    second = _row(api.server, duration_s=1.0)
    digests = {hashlib.sha256(api.download(row["recording_url"]).content).hexdigest() for row in (first, second)}
    assert len(digests) == 1


def test_file_needs_credentials(api):
    row = _row(api.server)
    assert requests.get(row["recording_url"], timeout=5).status_code == 401
    bad = {"X-Auth-ID": api.server.auth_id, "X-Auth-Token": "nope"}
    assert requests.get(row["recording_url"], headers=bad, timeout=5).status_code == 401


def test_unknown_id_or_wrong_extension_is_404(api):
    row = _row(api.server)
    assert api.download(row["recording_url"].replace(".mp3", ".wav")).status_code == 404
    assert api.download(row["recording_url"].replace(row["recording_id"], "nope")).status_code == 404


def test_head_gives_length_without_body(api):
    row = _row(api.server, duration_s=1.0)
    response = api.session.head(row["recording_url"], headers=api.auth, timeout=5)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(api.server.recording_bytes(row["recording_id"]))
    assert response.content == b""


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=100-199", 100, 200), ("bytes=1000-", 1000, None), ("bytes=-10", -10, None)],
)
def test_range_requests(api, header, start, end):
    row = _row(api.server, duration_s=1.0)
    full = api.server.recording_bytes(row["recording_id"])
    response = api.download(row["recording_url"], headers={"Range": header})
    assert response.status_code == 206
    expected = full[start:end]
    assert response.content == expected
    first = start % len(full)
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(full)}"


def test_range_past_the_end_is_416(api):
    row = _row(api.server, duration_s=1.0)
    size = len(api.server.recording_bytes(row["recording_id"]))
    response = api.download(row["recording_url"], headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


def test_drop_truncates_and_a_range_resumes(api):
    row = _row(api.server, duration_s=5.0)
    full = api.server.recording_bytes(row["recording_id"])
    api.server.drop_file_after(5000)
    got = bytearray()
    with (
        pytest.raises(requests.exceptions.ChunkedEncodingError),
        api.download(row["recording_url"], stream=True) as response,
    ):
        assert int(response.headers["Content-Length"]) == len(full)  # promised it all
        for chunk in response.iter_content(1000):  # divides 5000: no partial chunk is lost
            got += chunk
    assert len(got) == 5000
    rest = api.download(row["recording_url"], headers={"Range": f"bytes={len(got)}-"})
    assert rest.status_code == 206
    assert bytes(got) + rest.content == full


async def test_drop_seen_by_aiohttp(vobiz_fake):
    row = _row(vobiz_fake, duration_s=2.0)
    vobiz_fake.drop_file_after(100, times=2)
    headers = {"X-Auth-ID": vobiz_fake.auth_id, "X-Auth-Token": vobiz_fake.auth_token}
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            with pytest.raises(aiohttp.ClientPayloadError):
                async with session.get(row["recording_url"], headers=headers) as response:
                    await response.read()
        async with session.get(row["recording_url"], headers=headers) as response:
            assert await response.read() == vobiz_fake.recording_bytes(row["recording_id"])


def test_large_file_is_streamed(api):
    row = _row(api.server, duration_s=1800)  # 28.8 MB, generated on the fly
    digests, sizes = set(), set()
    for _ in range(2):
        digest, size = hashlib.sha256(), 0
        with api.download(row["recording_url"], stream=True) as response:
            for chunk in response.iter_content(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        digests.add(digest.hexdigest())
        sizes.add(size)
    assert sizes == {44 + 1800 * 8000 * 2}
    assert len(digests) == 1


def test_content_type_for_wav_under_mp3(api):
    mp3_row = _row(api.server, file_format="mp3")
    wav_row = _row(api.server, file_format="wav")
    assert wav_row["recording_url"].endswith(".wav")
    assert api.download(mp3_row["recording_url"]).headers["Content-Type"] == "audio/wav"
    api.server.configure(wav_as_mp3=True)
    response = api.download(mp3_row["recording_url"])
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.content[:4] == b"RIFF"  # the documented quirk: WAV bytes behind .mp3/audio/mpeg
    assert api.download(wav_row["recording_url"]).headers["Content-Type"] == "audio/wav"


def test_real_mp3_when_asked(api):
    api.server.configure(real_mp3=True)
    row = _row(api.server, file_format="mp3", duration_s=3.0)
    response = api.download(row["recording_url"])
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.content[:2] == b"\xff\xfb"
    assert mutagen.mp3.MP3(io.BytesIO(response.content)).info.length == pytest.approx(3.0, abs=0.05)


def test_storage_redirect_serves_without_credentials(api):
    if "127.0.0.2" not in api.server.listen_hosts:
        pytest.skip("127.0.0.2 is not a loopback address here")
    api.server.configure(storage_host="127.0.0.2")
    row = _row(api.server, duration_s=1.0)
    full = api.server.recording_bytes(row["recording_id"])
    redirect = api.download(row["recording_url"], allow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(f"http://127.0.0.2:{api.server.port}/storage/")
    api.server.clear_log()
    assert requests.get(location, timeout=5).content == full  # no credentials needed
    ranged = requests.get(location, headers={"Range": "bytes=10-19"}, timeout=5)
    assert ranged.status_code == 206
    assert ranged.content == full[10:20]
    logged = api.server.requests[0]
    assert logged.route == "storage"
    assert logged.host == f"127.0.0.2:{api.server.port}"
    assert "X-Auth-Token" not in logged.headers
    assert requests.get(location.replace("/storage/", "/storage/x"), timeout=5).status_code == 404


def test_media_host_names_the_url_host(api):
    if "127.0.0.3" not in api.server.listen_hosts:
        pytest.skip("127.0.0.3 is not a loopback address here")
    api.server.configure(media_host="127.0.0.3")
    row = _row(api.server)
    assert row["recording_url"].startswith(f"http://127.0.0.3:{api.server.port}/media/")
    assert api.download(row["recording_url"]).status_code == 200
    assert api.server.requests[-1].host == f"127.0.0.3:{api.server.port}"


def test_signed_storage_refuses_head_but_serves_get(api):
    api.server.configure(storage_host="127.0.0.1", storage_signed=True, storage_head_status=403)
    row = _row(api.server, duration_s=1.0)
    location = api.download(row["recording_url"], allow_redirects=False).headers["Location"]
    assert "X-Amz-Signature=" in location
    head = requests.head(location, timeout=5)
    assert head.status_code == 403
    assert head.headers["Content-Type"].startswith("application/xml")
    ranged = requests.get(location, headers={"Range": "bytes=0-0"}, timeout=5)
    assert ranged.status_code == 206
    assert ranged.content == api.server.recording_bytes(row["recording_id"])[:1]


def test_storage_on_a_refusing_port(api):
    from vobiz_provider.testing import refusing_port

    with refusing_port() as down:
        api.server.configure(storage_host="127.0.0.1", storage_port=down.port)
        row = _row(api.server, duration_s=1.0)
        location = api.download(row["recording_url"], allow_redirects=False).headers["Location"]
        assert location.startswith(f"http://127.0.0.1:{down.port}/storage/")
        with pytest.raises(requests.ConnectionError):
            requests.get(location, timeout=5)


def test_storage_settings_are_checked(api):
    with pytest.raises(ValueError, match="storage_head_status"):
        api.server.configure(storage_head_status=99)
    with pytest.raises(ValueError, match="storage_port"):
        api.server.configure(storage_port=70000)
