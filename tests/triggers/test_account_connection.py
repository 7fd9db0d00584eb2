"""The connection of a shared account in the triggerer, against the fake Vobiz server over real HTTP:
its pool (limits per host, a bounded wait for a connection) and its changes (a rotated token, a
connection missing for a moment, an edited connection) reaching waits that are already running."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import pytest

from tests.sensors.support import ROOM, SINCE, requests_on
from tests.triggers.test_recording_trigger import SLACK, make_trigger, run_trigger
from tests.triggers.test_shared_polling import assert_nothing_left, room, run_all
from vobiz_provider.exceptions import VobizConnectionError
from vobiz_provider.hooks.vobiz import VobizAsyncHook
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.triggers import shared_polling

MEDIA, OTHER_API = "127.0.0.2", "127.0.0.3"
CONN_VAR = "AIRFLOW_CONN_VOBIZ_DEFAULT"


@pytest.fixture
def media_host(vobiz_fake: FakeVobizServer) -> str:
    """Recording files on 127.0.0.2, a host of their own (the API stays on 127.0.0.1)."""
    if MEDIA not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.2 is not a loopback address on this machine")
    vobiz_fake.configure(media_host=MEDIA)
    return MEDIA


def use_extra(fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    monkeypatch.setenv(CONN_VAR, fake.connection_json({"auth_hosts": [MEDIA], **extra}))


# -- the pool -------------------------------------------------------------------------------------


async def test_a_slow_media_host_leaves_the_api_host_its_connections(
    vobiz_fake: FakeVobizServer, media_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_extra(vobiz_fake, monkeypatch)
    vobiz_fake.set_latency("media", 2.0)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(8)]
    started = time.time()
    waits = [make_trigger(conference_name=room(n), deadline=started + 8) for n in range(8)]
    # A wait whose row has not appeared reads the list at every poll, while the files take their time.
    nobody = make_trigger(conference_name="Nobody", deadline=started + 2.5)

    events = await run_all([*waits, nobody])

    assert [e.get("recording", {}).get("recording_id") for e in events[:8]] == recs
    assert events[8]["status"] == "timeout"
    # The eight probes went out together, not four now and four once the first had answered.
    probes = [r.received_at for r in requests_on(vobiz_fake, "media")]
    assert len(probes) == 8 and max(probes) - min(probes) < 1.0
    # And the list reads went on while the media host was slow (one every 0.2 s poll).
    reads = [r.received_at - started for r in requests_on(vobiz_fake, "recording.list")]
    assert len([at for at in reads if 0.5 <= at <= 2.0]) >= 3, reads
    assert_nothing_left()


async def test_a_request_that_gets_no_pooled_connection_in_time_fails_rather_than_waits(
    vobiz_fake: FakeVobizServer, media_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_extra(vobiz_fake, monkeypatch, max_connections_per_host=1, pool_timeout=0.3, max_retries=0)
    vobiz_fake.set_latency("media", 1.0)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(2)]
    async with VobizAsyncHook() as hook:
        urls = [(await hook.get_recording(rec)).recording_url for rec in recs]
        started = time.monotonic()

        async def probe(url: str) -> tuple[bool | Exception, float]:
            try:
                return await hook.recording_file_ready(url), time.monotonic() - started
            except VobizConnectionError as err:
                return err, time.monotonic() - started

        results = sorted(await asyncio.gather(*(probe(url) for url in urls)), key=lambda result: result[1])

    (second, second_took), (first, first_took) = results
    assert first is True and first_took >= 1.0 - SLACK
    # One connection to the media host, busy for a second: the other probe gave up after 0.3 s.
    assert isinstance(second, VobizConnectionError) and second_took < 0.9
    assert "no connection within 0.3 s" in str(second) and "max_connections_per_host" in str(second)
    assert len(requests_on(vobiz_fake, "media")) == 1


async def test_a_poll_that_gets_no_pooled_connection_is_a_failed_poll_and_the_wait_goes_on(
    vobiz_fake: FakeVobizServer, media_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_extra(vobiz_fake, monkeypatch, max_connections_per_host=1, pool_timeout=0.3)
    vobiz_fake.set_latency("media", 1.0)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(2)]
    waits = [make_trigger(conference_name=room(n), max_consecutive_failures=5) for n in range(2)]

    events = await run_all(waits)

    assert [e["recording"]["recording_id"] for e in events] == recs
    # The media host never had two probes at once: each came after the one before had answered.
    probes = sorted(r.received_at for r in requests_on(vobiz_fake, "media"))
    assert len(probes) == 2 and probes[1] - probes[0] >= 1.0 - SLACK
    assert_nothing_left()


# -- connection changes ---------------------------------------------------------------------------


async def test_a_rotated_token_is_picked_up_after_a_401_without_restarting_the_wait(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    vobiz_fake.configure(processing_delay_s=0, file_delay_s=1.0)
    rec = vobiz_fake.add_recording(conference_name=ROOM, ready=False, add_time=SINCE)
    by_room = asyncio.ensure_future(run_trigger(make_trigger()))
    by_id = asyncio.ensure_future(run_trigger(make_trigger(conference_name=None, since=None, recording_id=rec)))
    while len(requests_on(vobiz_fake, "media")) < 2:
        await asyncio.sleep(0.02)

    # The connection gets the new token; the waits go on with the old one until Vobiz refuses it.
    new_token = "rotated-token-456"
    monkeypatch.setenv(CONN_VAR, json.dumps({**json.loads(vobiz_fake.connection_json()), "password": new_token}))
    await asyncio.sleep(0.3)
    vobiz_fake.set_auth_token(new_token)

    assert (await by_room)["recording"]["recording_id"] == rec
    assert (await by_id)["recording"]["recording_id"] == rec
    statuses = [r.status for r in requests_on(vobiz_fake, "media", "recording.get")]
    assert 401 in statuses and statuses[-1] == 200
    assert_nothing_left()


async def test_a_401_with_the_connection_unchanged_still_ends_the_wait(vobiz_fake: FakeVobizServer) -> None:
    vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    vobiz_fake.set_auth_token("rotated-token-456")  # the connection keeps the old token

    event = await run_trigger(make_trigger())

    assert event["status"] == "error" and "401" in event["message"]
    assert len(requests_on(vobiz_fake, "recording.list")) == 1  # looked up again, not asked again
    assert_nothing_left()


async def test_a_connection_missing_for_a_moment_is_a_failed_poll_not_the_end(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)
    connection = vobiz_fake.connection_json()
    monkeypatch.delenv(CONN_VAR)
    started = time.monotonic()
    wait = asyncio.ensure_future(run_trigger(make_trigger(max_consecutive_failures=10)))
    await asyncio.sleep(0.5)
    assert not wait.done()
    monkeypatch.setenv(CONN_VAR, connection)

    event = await wait

    assert event["status"] == "success" and event["recording"]["recording_id"] == rec
    assert time.monotonic() - started >= 0.5
    assert_nothing_left()


async def test_a_connection_missing_for_good_ends_the_wait_by_its_budget(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONN_VAR)

    event = await run_trigger(make_trigger(max_consecutive_failures=2))

    assert event["status"] == "error"
    assert "gave up after 2 failed polls in a row" in event["message"]
    assert "Vobiz connection 'vobiz_default' could not be looked up" in event["message"]
    assert vobiz_fake.requests == []
    assert_nothing_left()


async def test_an_edited_connection_reaches_a_running_wait(
    vobiz_fake: FakeVobizServer, media_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_polling, "CONNECTION_REREAD_S", 0.3)
    use_extra(vobiz_fake, monkeypatch)
    wait = asyncio.ensure_future(run_trigger(make_trigger(deadline=time.time() + 8)))
    await asyncio.sleep(0.5)
    # The API moves to another address of the same server: nothing fails, the connection is just read again.
    moved = json.loads(os.environ[CONN_VAR])
    monkeypatch.setenv(CONN_VAR, json.dumps({**moved, "host": moved["host"].replace("127.0.0.1", OTHER_API)}))
    await asyncio.sleep(0.6)
    rec = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)

    event = await wait

    assert event["status"] == "success" and event["recording"]["recording_id"] == rec
    hosts = [r.host.split(":")[0] for r in requests_on(vobiz_fake, "recording.list")]
    assert hosts[0] == "127.0.0.1" and hosts[-1] == OTHER_API
    assert_nothing_left()


async def test_new_pool_limits_take_a_new_pool_and_the_old_one_closes_with_the_account(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: dict[Any, int] = {}  # each session the hook opened: its connections per host
    get_session = VobizAsyncHook._get_session

    async def spy(hook: VobizAsyncHook) -> Any:
        session = await get_session(hook)
        opened.setdefault(session, session.connector.limit_per_host)
        return session

    monkeypatch.setattr(VobizAsyncHook, "_get_session", spy)
    monkeypatch.setattr(shared_polling, "CONNECTION_REREAD_S", 0.3)
    wait = asyncio.ensure_future(run_trigger(make_trigger(deadline=time.time() + 8)))
    await asyncio.sleep(0.5)
    monkeypatch.setenv(CONN_VAR, vobiz_fake.connection_json({"max_connections_per_host": 4}))
    await asyncio.sleep(0.6)
    rec = vobiz_fake.add_recording(conference_name=ROOM, add_time=SINCE)

    event = await wait

    assert event["status"] == "success" and event["recording"]["recording_id"] == rec
    assert list(opened.values()) == [32, 4]
    assert all(session.closed for session in opened)
    assert_nothing_left()


# -- the clock ------------------------------------------------------------------------------------


async def test_a_wall_clock_stepped_back_does_not_pause_the_shared_reads(
    vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads are ordered, and a 429's pause timed, by the event loop's monotonic clock: a step of
    # the wall clock (NTP, a resumed VM) must not stretch a 0.3 s Retry-After into an hour.
    vobiz_fake.inject("recording.list", 429, retry_after=0.3, times=1)
    recs = [vobiz_fake.add_recording(conference_name=room(n), add_time=SINCE) for n in range(2)]
    real_time = time.time

    class SteppedBack:
        """The ``time`` module as shared_polling sees it, after the wall clock went back an hour."""

        @staticmethod
        def time() -> float:
            return real_time() - (3600 if requests_on(vobiz_fake, "recording.list") else 0)

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

    monkeypatch.setattr(shared_polling, "time", SteppedBack(), raising=False)
    waits = [make_trigger(conference_name=room(n), deadline=time.time() + 4) for n in range(2)]

    events = await run_all(waits)

    assert [e.get("recording", {}).get("recording_id") for e in events] == recs
    assert [r.status for r in requests_on(vobiz_fake, "recording.list")] == [429, 200]
    assert_nothing_left()
