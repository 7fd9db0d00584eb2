"""A deadline bounds a request in flight: the time left caps each request's timeout (both hooks)."""

from __future__ import annotations

import time

import pytest

from vobiz_provider.exceptions import VobizConnectionError


def test_the_deadline_cuts_a_slow_request(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"timeout": 30, "max_retries": 0})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.set_latency("recording.get", 3.0)
    hook = make_hook(kind)
    hook.hook.set_deadline(time.time() + 1.0)
    started = time.monotonic()

    # Without the deadline the answer comes after 3 s, well within the 30 s timeout.
    with pytest.raises(VobizConnectionError, match=r"(?i:time[d ]?out)"):
        hook("get_recording", rid)

    time.sleep(max(0.0, started + 3.1 - time.monotonic()))  # let the slow answer finish


def test_without_a_deadline_the_connections_timeout_applies(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"timeout": 30, "max_retries": 0})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.set_latency("recording.get", 0.3)

    assert make_hook(kind)("get_recording", rid).recording_id == rid
