"""What is retried, what is not, and how long the hooks wait: counted in the fake server's log."""

from __future__ import annotations

import io
import math
import threading
import time
from email.utils import formatdate

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.exceptions import (
    VobizAuthError,
    VobizClientError,
    VobizConnectionError,
    VobizNotFoundError,
    VobizOutcomeUnknownError,
    VobizRateLimitError,
    VobizServerError,
)
from vobiz_provider.hooks.api import MAX_RETRY_AFTER_S, ApiRequest
from vobiz_provider.hooks.connection import RetryPolicy, is_retryable
from vobiz_provider.testing import FakeVobizServer

RETRIED = [429, 500, 502, 503, 504]
NOT_RETRIED = [
    (400, VobizClientError),
    (401, VobizAuthError),
    (403, VobizAuthError),
    (404, VobizNotFoundError),
    (409, VobizClientError),
    (422, VobizClientError),
]


@pytest.mark.parametrize("status", RETRIED)
def test_transient_answers_are_retried_until_success(vobiz_fake, make_hook, kind, logs, status):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", status, times=2)
    hook = make_hook(kind)

    assert hook("get_recording", rec_id).recording_id == rec_id

    assert [entry.status for entry in api_requests(vobiz_fake, "recording.get")] == [status, status, 200]
    retry_lines = [line for line in logs.warnings() if "retry" in line]
    assert len(retry_lines) == 2
    assert f"answered {status}" in retry_lines[0]
    assert "retry 1 of 5 in " in retry_lines[0]


@pytest.mark.parametrize(("status", "error"), NOT_RETRIED)
def test_other_4xx_fail_at_once(vobiz_fake, make_hook, kind, status, error):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", status)

    with pytest.raises(error) as raised:
        make_hook(kind)("get_recording", rec_id)

    assert raised.value.status_code == status
    assert raised.value.api_id  # the fake's envelope carries one; the error keeps it
    assert f"get recording {rec_id!r}: Vobiz answered {status}" in str(raised.value)
    assert len(api_requests(vobiz_fake, "recording.get")) == 1


def test_retry_budget_is_the_connection_s(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"max_retries": 2})
    vobiz_fake.inject("recording.get", 503, times=5)

    with pytest.raises(VobizServerError) as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert raised.value.status_code == 503
    assert len(api_requests(vobiz_fake, "recording.get")) == 3


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(vobiz_fake, make_hook, kind, logs, status):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", status, retry_after=1)

    make_hook(kind)("get_recording", rec_id)  # backoff is 0.01 s: only Retry-After explains a wait

    first, second = api_requests(vobiz_fake, "recording.get")
    # Waited what was asked; the bound only rules out a wait of another kind (the 60 s cap), so a
    # loaded machine's slow round trips cannot fail it.
    assert 1.0 <= second.received_at - first.received_at < 30
    assert any("asked to wait 1 s" in line for line in logs.warnings())


def test_retry_after_http_date_is_honoured(vobiz_fake, make_hook, kind):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    not_before = math.floor(time.time()) + 2  # HTTP dates have whole seconds
    vobiz_fake.inject("recording.get", 429, retry_after=formatdate(not_before, usegmt=True))

    make_hook(kind)("get_recording", rec_id)

    first, second = api_requests(vobiz_fake, "recording.get")
    assert second.received_at >= not_before
    assert second.received_at - first.received_at < 30  # not the 60 s cap


def test_backoff_is_capped_but_retry_after_is_honoured_up_to_its_own_cap():
    policy = RetryPolicy(max_retries=3, backoff=10.0, max_wait=0.3)
    asked = VobizRateLimitError("429", status_code=429, retry_after=120)
    assert policy.wait_before(3, None) <= 0.3  # our own backoff: capped by max_wait
    assert policy.wait_before(1, asked) == 120  # Vobiz's wish: honoured beyond it
    too_long = VobizRateLimitError("429", status_code=429, retry_after=MAX_RETRY_AFTER_S + 1)
    request = ApiRequest("GET", "/api/v1/Account/MA_X/Recording/", "list recordings")
    assert not is_retryable(request, too_long)


def test_a_retry_after_beyond_the_cap_fails_at_once_naming_the_wait(vobiz_fake, use_connection, make_hook, kind):
    # Waiting an hour inside one request would hold a worker slot; retrying sooner burns the budget.
    use_connection(extra={"max_retries": 3})
    vobiz_fake.inject("recording.get", 429, retry_after=3600, times=3)

    with pytest.raises(VobizRateLimitError) as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert "asks to wait 3600 s" in str(raised.value)
    assert "not retried" in str(raised.value)
    assert [r.status for r in vobiz_fake.requests] == [429]


def test_rate_limit_without_retry_after_uses_backoff_and_gives_up(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"max_retries": 1})
    vobiz_fake.inject("recording.get", 429, times=3)

    with pytest.raises(VobizRateLimitError) as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert raised.value.retry_after is None
    assert len(api_requests(vobiz_fake, "recording.get")) == 2


# -- unsafe POST ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_start_answered_5xx_is_not_replayed(vobiz_fake, make_hook, status):
    vobiz_fake.add_room("Standup")
    vobiz_fake.inject("conference.record.start", status)

    with pytest.raises(VobizOutcomeUnknownError) as raised:
        make_hook("sync").hook.start_conference_recording("Standup")

    assert raised.value.status_code == status
    assert "not replayed" in str(raised.value)
    assert len(api_requests(vobiz_fake, "conference.record.start")) == 1


def test_start_rate_limited_is_retried(vobiz_fake, make_hook):
    vobiz_fake.add_room("Standup")
    vobiz_fake.inject("conference.record.start", 429, times=2)

    started = make_hook("sync").hook.start_conference_recording("Standup")

    assert started.api_id
    assert [e.status for e in api_requests(vobiz_fake, "conference.record.start")] == [429, 429, 200]


def test_start_read_timeout_is_not_replayed(vobiz_fake, use_connection, make_hook):
    use_connection(extra={"timeout": 0.3})
    vobiz_fake.add_room("Standup")
    vobiz_fake.set_latency("conference.record.start", 0.8)

    with pytest.raises(VobizOutcomeUnknownError, match="no answer after the request was sent"):
        make_hook("sync").hook.start_conference_recording("Standup")

    assert len(api_requests(vobiz_fake, "conference.record.start")) == 1
    time.sleep(0.6)  # let the slow answer finish before the next test resets the server


def test_stop_answered_500_is_retried(vobiz_fake, make_hook):
    # Stopping twice is harmless, so a DELETE is idempotent and a 500 may be replayed.
    vobiz_fake.add_room("Standup", recording=True)
    vobiz_fake.inject("conference.record.stop", 500)

    stopped = make_hook("sync").hook.stop_conference_recording("Standup")

    assert stopped.status.value == "stopped"
    assert [e.status for e in api_requests(vobiz_fake, "conference.record.stop")] == [500, 204]


# -- connection errors -----------------------------------------------------------------------------


def test_refused_connection_is_retried_then_raised(vobiz_fake, use_connection, make_hook, kind, logs, closed_port):
    use_connection(host=f"http://127.0.0.1:{closed_port}", extra={"max_retries": 2})

    with pytest.raises(VobizConnectionError) as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert raised.value.sent is False
    assert "get recording 'rec-1'" in str(raised.value)
    assert len([line for line in logs.warnings() if "retry" in line]) == 2


def test_refused_post_is_retried_as_it_never_left(use_connection, make_hook, logs, closed_port):
    use_connection(host=f"http://127.0.0.1:{closed_port}", extra={"max_retries": 1})

    with pytest.raises(VobizConnectionError):
        make_hook("sync").hook.start_conference_recording("Standup")

    assert len([line for line in logs.warnings() if "retry 1 of 1" in line]) == 1


def test_connection_error_recovers_when_the_server_comes_up(use_connection, make_hook, kind, closed_port):
    use_connection(host=f"http://127.0.0.1:{closed_port}")
    late = FakeVobizServer(port=closed_port)
    starter = threading.Timer(0.3, late.start)
    starter.start()
    try:
        names = make_hook(kind, retry_backoff=0.2)("find_conference_recording", "Standup", "2020-01-01")
        assert names.match is None
        assert [entry.route for entry in late.requests] == ["recording.list"]
    finally:
        starter.join()
        late.stop()


def test_an_error_body_cut_short_is_a_transport_failure_and_retried(vobiz_fake, make_hook, kind, logs):
    # A 500 whose Content-Length promises more than it sends: reading the body times out. The sync
    # hook reads error bodies with urllib3 (response.raw), whose errors requests does not wrap.
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", 500, headers={"Content-Length": "5000"})

    assert make_hook(kind, timeout=0.5)("get_recording", rec_id).recording_id == rec_id

    assert [entry.status for entry in api_requests(vobiz_fake, "recording.get")] == [500, 200]
    (retry,) = [line for line in logs.warnings() if "retry 1 of" in line]
    assert "get recording" in retry.lower() or rec_id in retry


def test_a_file_error_body_cut_short_is_retried_and_keeps_the_signature_out(vobiz_fake, make_hook, logs):
    if "127.0.0.3" not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.3 is not a loopback address on this machine")
    vobiz_fake.configure(storage_host="127.0.0.3", storage_signed=True)
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("storage", 503, headers={"Content-Length": "5000"}, times=10)
    hook = make_hook("sync", timeout=0.5, max_retries=1).hook

    with pytest.raises(VobizConnectionError) as raised:
        hook.download_recording_file(hook.get_recording(rec_id).recording_url, io.BytesIO())

    assert [entry.status for entry in api_requests(vobiz_fake, "storage")] == [503, 503]
    assert "X-Amz-Signature" not in str(raised.value)
    assert logs.warnings() and not any("X-Amz-Signature" in line for line in logs.warnings())
