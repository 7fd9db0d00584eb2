"""Forced answers, latency and the request log."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest


def test_inject_429_with_retry_after_then_normal(api):
    api.server.inject("recording.list", 429, retry_after=2)
    limited = api.get("Recording/")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert "error" in limited.json()
    assert api.get("Recording/").status_code == 200  # times=1: used up


def test_fractional_and_date_retry_after(api):
    api.server.inject("recording.get", 429, retry_after=0.25)
    api.server.inject("recording.get", 503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    assert api.get("Recording/x/").headers["Retry-After"] == "0.25"
    assert api.get("Recording/x/").headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"


def test_standard_envelope_429_details(api):
    api.server.configure(error_envelope="standard")
    api.server.inject("recording.list", 429, retry_after=1)
    body = api.get("Recording/").json()
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["error"]["details"]["retryAfter"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(api, status):
    api.server.add_room("Daily Standup", recording=True)
    api.server.inject("conference.record.stop", status, times=2)
    path = "Conference/Daily%20Standup/Record/"
    assert [api.delete(path).status_code for _ in range(3)] == [status, status, 204]


def test_faults_are_fifo_and_per_route(api):
    api.server.inject("recording.list", 500)
    api.server.inject("recording.list", 502)
    assert api.get("Conference/").status_code == 200  # another route is untouched
    assert [api.get("Recording/").status_code for _ in range(3)] == [500, 502, 200]


def test_fault_body_and_headers(api):
    api.server.inject("recording.list", 502, body="<html>Bad Gateway</html>", headers={"X-Edge": "1"})
    api.server.inject("recording.list", 400, body={"api_id": "x", "error": "custom"})
    api.server.inject("recording.list", 500, body=b"\x00\x01")
    html = api.get("Recording/")
    assert html.text == "<html>Bad Gateway</html>"
    assert html.headers["X-Edge"] == "1"
    assert api.get("Recording/").json() == {"api_id": "x", "error": "custom"}
    assert api.get("Recording/").content == b"\x00\x01"


def test_fault_on_media_route(api):
    rid = api.server.add_recording(conference_name="A")
    api.server.inject("media", 503)
    url = api.server.recordings[0]["recording_url"]
    assert api.download(url).status_code == 503
    assert api.download(url).content == api.server.recording_bytes(rid)


def test_malformed_json(api):
    api.server.inject_malformed_json("recording.get", times=1)
    response = api.get("Recording/anything/")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert api.get("Recording/anything/").status_code == 404


def test_unknown_route_key_is_refused(vobiz_fake):
    with pytest.raises(ValueError):
        vobiz_fake.inject("recordings.list", 500)
    with pytest.raises(ValueError):
        vobiz_fake.set_latency("nope", 1)


def test_latency_delays_only_its_route(api):
    # A latency far above a loaded machine's round trip, so "not delayed" needs no tight bound.
    latency = 2.0
    api.server.set_latency("recording.list", latency)
    started = time.monotonic()
    assert api.get("Recording/").status_code == 200
    assert time.monotonic() - started >= latency - 0.01
    started = time.monotonic()
    api.get("Conference/")
    assert time.monotonic() - started < latency
    api.server.set_latency("recording.list", 0)
    started = time.monotonic()
    api.get("Recording/")
    assert time.monotonic() - started < latency


def test_latency_trips_a_client_timeout(api):
    api.server.set_latency("conference.list", 0.5)
    with pytest.raises(Exception, match="timed out"):
        api.session.get(api.url("Conference/"), headers=api.auth, timeout=0.1)


def test_log_records_raw_path_query_host_route_and_status(api):
    api.server.add_room("Daily Standup")
    api.get("Conference/Daily%20Standup/")
    api.get("Recording/", params={"limit": 5, "conference_name": "Daily Standup"})
    api.session.get(api.url("Recording/"), timeout=5)  # no credentials
    room, listing, unauthorised = api.server.requests
    assert room.path == f"/api/v1/Account/{api.server.auth_id}/Conference/Daily%20Standup/"
    assert room.route == "conference.get"
    assert room.status == 200
    assert room.host == f"127.0.0.1:{api.server.port}"
    assert room.headers["x-auth-id"] == api.server.auth_id  # case-insensitive lookup
    assert listing.query == "limit=5&conference_name=Daily+Standup"
    assert "?" not in listing.path
    assert (unauthorised.status, unauthorised.route) == (401, "recording.list")
    assert "X-Auth-Token" not in unauthorised.headers


def test_log_keeps_faults_and_bodies(api):
    api.server.add_room("A")
    api.server.inject("conference.record.start", 429)
    api.post("Conference/A/Record/", json={"file_format": "wav"})
    entry = api.server.requests[-1]
    assert entry.status == 429
    assert json.loads(entry.body) == {"file_format": "wav"}


async def test_log_is_bounded_to_1000(vobiz_fake):
    url = f"{vobiz_fake.base_url}/not-an-api-path"
    connector = aiohttp.TCPConnector(limit=20)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def hit(i: int) -> None:
            async with session.get(f"{url}?i={i}") as response:
                await response.read()

        await asyncio.gather(*(hit(i) for i in range(1050)))
    logged = vobiz_fake.requests
    assert len(logged) == 1000
    assert {int(entry.query[2:]) for entry in logged} >= set(range(1040, 1050))  # the newest kept
    vobiz_fake.clear_log()
    assert vobiz_fake.requests == []


def test_latency_on_every_route_and_a_route_of_its_own(api):
    latency = 1.0
    api.server.set_latency("*", latency)
    api.server.set_latency("conference.list", 0)  # a route's own latency wins over every route's
    for path in ("Recording/", "Conference/Nobody/"):
        started = time.monotonic()
        api.get(path)
        assert time.monotonic() - started >= latency - 0.01
    started = time.monotonic()
    api.get("Conference/")
    assert time.monotonic() - started < latency
    with pytest.raises(ValueError):
        api.server.inject("*", 500)
