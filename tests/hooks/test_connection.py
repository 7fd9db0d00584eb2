"""The connection: validation, extras kept out of headers, timeout, User-Agent, one session, no token leaks."""

from __future__ import annotations

import json
import time

import pytest
from airflow.models.connection import Connection

from tests.hooks.support import api_requests
from vobiz_provider import __version__
from vobiz_provider.exceptions import VobizAuthError, VobizConfigError, VobizConnectionError
from vobiz_provider.hooks.connection import VobizSettings

GOOD = {"conn_type": "vobiz", "login": "MA_X", "password": "secret-token", "host": "http://127.0.0.1:1"}


def _settings(conn_id: str = "my_vobiz", **fields) -> VobizSettings:
    data = {**GOOD, **fields}
    extra = data.pop("extra", None)
    return VobizSettings.from_connection(
        Connection(conn_id=conn_id, **data, extra=json.dumps(extra) if extra is not None else None)
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"login": None}, "login"),
        ({"login": "  "}, "login"),
        ({"password": None}, "password"),
        ({"password": ""}, "password"),
        ({"host": "ftp://files.example.com"}, "host"),
        ({"extra": {"timeout": "soon"}}, "extra 'timeout'"),
        ({"extra": {"timeout": [30]}}, "extra 'timeout'"),
        ({"extra": {"timeout": 0}}, "extra 'timeout'"),
        ({"extra": {"timeout": True}}, "extra 'timeout'"),
        ({"extra": {"max_retries": "many"}}, "extra 'max_retries'"),
        ({"extra": {"max_retries": 2.5}}, "extra 'max_retries'"),
        ({"extra": {"max_retries": -1}}, "extra 'max_retries'"),
        ({"extra": {"max_retries": False}}, "extra 'max_retries'"),
        ({"extra": {"auth_hosts": 5}}, "extra 'auth_hosts'"),
        ({"extra": {"auth_hosts": [1, 2]}}, "extra 'auth_hosts'"),
        ({"extra": {"auth_hosts": {"media.vobiz.ai": True}}}, "extra 'auth_hosts'"),
        ({"extra": {"auth_hosts": ["https://media.vobiz.ai/"]}}, "extra 'auth_hosts'"),
        ({"extra": {"auth_hosts": ["media.*.ai"]}}, "extra 'auth_hosts'"),
        ({"extra": {"max_connections_per_host": 0}}, "extra 'max_connections_per_host' must be between 1 and 1000"),
        ({"extra": {"max_connections_per_host": "lots"}}, "extra 'max_connections_per_host' must be a whole number"),
        ({"extra": {"max_connections_per_host": 2.5}}, "extra 'max_connections_per_host' must be a whole number"),
        ({"extra": {"max_connections": True}}, "extra 'max_connections' must be a whole number"),
        ({"extra": {"max_connections": 5000}}, "extra 'max_connections' must be between 1 and 1000"),
        (
            {"extra": {"max_connections": 10, "max_connections_per_host": 20}},
            "extra 'max_connections' (10) must be at least max_connections_per_host (20)",
        ),
        ({"extra": {"pool_timeout": 0}}, "extra 'pool_timeout' must be between 0 and 3600 seconds"),
        ({"extra": {"pool_timeout": "soon"}}, "extra 'pool_timeout' must be a number of seconds"),
    ],
)
def test_bad_connection_names_the_connection_and_the_field(fields, named):
    with pytest.raises(VobizConfigError) as raised:
        _settings(**fields)
    assert "'my_vobiz'" in str(raised.value)
    assert named in str(raised.value)
    assert "secret-token" not in str(raised.value)


def test_defaults_and_accepted_forms():
    default = _settings(host=None)
    assert (default.base_url, default.timeout, default.max_retries) == ("https://api.vobiz.ai", 30.0, 5)
    assert default.auth_hosts == ("*.vobiz.ai",)
    assert _settings(host="api.vobiz.ai").base_url == "https://api.vobiz.ai"
    assert _settings(host="http://127.0.0.1:8765/").base_url == "http://127.0.0.1:8765"
    custom = _settings(extra={"timeout": "12.5", "max_retries": 0, "auth_hosts": ["Media.Example.com", "[::1]"]})
    assert (custom.timeout, custom.max_retries, custom.auth_hosts) == (12.5, 0, ("media.example.com", "::1"))
    assert _settings(extra={"auth_hosts": "a.example.com, *.b.example.com"}).auth_hosts == (
        "a.example.com",
        "*.b.example.com",
    )
    assert "secret-token" not in repr(custom)
    # The triggerer's pool: per host, in all, and the wait for a connection.
    pool = (default.max_connections_per_host, default.max_connections, default.pool_timeout)
    assert pool == (32, 100, 10.0)
    sized = _settings(extra={"max_connections_per_host": "64", "max_connections": 64.0, "pool_timeout": "2.5"})
    assert (sized.max_connections_per_host, sized.max_connections, sized.pool_timeout) == (64, 64, 2.5)


def test_bad_connection_fails_before_any_request(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"max_retries": "lots"})

    with pytest.raises(VobizConfigError, match="'vobiz_default': extra 'max_retries'"):
        make_hook(kind)("get_recording", "rec-1")

    assert vobiz_fake.requests == []


def test_provider_extras_never_become_headers(vobiz_fake, use_connection, make_hook, kind):
    # HttpHook would send unknown extras as headers; a list value would even make requests refuse.
    extra = {"timeout": 5, "max_retries": 2, "auth_hosts": ["127.0.0.2", "*.example.com"], "max_connections": 50}
    use_connection(extra={**extra, "max_connections_per_host": 8, "pool_timeout": 3})
    rec_id = vobiz_fake.add_recording(conference_name="Standup")

    make_hook(kind)("get_recording", rec_id)

    (entry,) = api_requests(vobiz_fake, "recording.get")
    sent = {name.lower() for name in entry.headers}
    assert not {"timeout", "max_retries", "auth_hosts", "max_connections", "max_connections_per_host"} & sent
    assert "pool_timeout" not in sent


def test_user_agent_names_provider_and_version(vobiz_fake, make_hook, kind):
    make_hook(kind)("find_conference_recording", "Standup", "2020-01-01")

    (entry,) = vobiz_fake.requests
    assert entry.headers["User-Agent"] == f"airflow-provider-vobiz/{__version__}"


def test_timeout_extra_bounds_each_request(vobiz_fake, use_connection, make_hook, kind):
    use_connection(extra={"timeout": 0.2, "max_retries": 0})
    vobiz_fake.set_latency("recording.get", 2.0)
    started = time.monotonic()

    # The answer would come after 2 s; the request is cut by the 0.2 s timeout and says so.
    with pytest.raises(VobizConnectionError, match=r"get recording 'rec-1'.*(?i:time[d ]?out)"):
        make_hook(kind)("get_recording", "rec-1")

    assert time.monotonic() - started < 1.9  # generous: cut, not answered
    time.sleep(max(0.0, started + 2.1 - time.monotonic()))  # let the slow answer finish before the next test


def test_one_session_per_hook(vobiz_fake, make_hook, kind):
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    hook = make_hook(kind)
    first = hook.session()

    hook("get_recording", rec_id)
    hook("find_conference_recording", "Standup", "2020-01-01")
    hook("recording_file_ready", hook("get_recording", rec_id))

    assert hook.session() is first
    assert make_hook(kind).session() is not first


# -- test_connection and secrets -----------------------------------------------------------------


def test_test_connection_succeeds_read_only(vobiz_fake, make_hook):
    ok, message = make_hook("sync").hook.test_connection()

    assert ok is True
    assert vobiz_fake.base_url in message and vobiz_fake.auth_id in message
    assert vobiz_fake.auth_token not in message
    assert [entry.method for entry in vobiz_fake.requests] == ["GET"]


def test_test_connection_fails_with_wrong_token(vobiz_fake, use_connection, make_hook):
    use_connection(password="wrong-token-do-not-print")

    ok, message = make_hook("sync").hook.test_connection()

    assert ok is False
    assert "401" in message and "Auth ID and Token" in message
    assert "wrong-token-do-not-print" not in message
    assert len(vobiz_fake.requests) == 1  # 401 is not retried


def test_test_connection_makes_one_short_attempt(vobiz_fake, use_connection, make_hook):
    # The UI's Test button must answer in seconds, not after the whole retry budget.
    use_connection(extra={"max_retries": 5})
    vobiz_fake.inject("recording.list", 503, times=6)

    ok, message = make_hook("sync", retry_backoff=1.0).hook.test_connection()

    assert ok is False and "503" in message
    assert len(api_requests(vobiz_fake, "recording.list")) == 1


def test_test_connection_fails_when_nobody_listens(use_connection, make_hook, closed_port):
    use_connection(host=f"http://127.0.0.1:{closed_port}", extra={"max_retries": 0})

    ok, message = make_hook("sync").hook.test_connection()

    assert ok is False and "list recordings" in message and "ConnectionError" in message


def test_token_appears_in_no_message_and_no_log(vobiz_fake, use_connection, make_hook, kind, logs, closed_port):
    token = vobiz_fake.auth_token
    rec_id = vobiz_fake.add_recording(conference_name="Standup")
    vobiz_fake.inject("recording.get", 503, retry_after=0.01)
    hook = make_hook(kind)
    hook("get_recording", rec_id)  # a retry, logged
    messages = []
    use_connection(password=token + "-but-wrong", conn_id="vobiz_wrong")
    with pytest.raises(VobizAuthError) as auth:
        make_hook(kind, "vobiz_wrong")("get_recording", rec_id)
    messages.append(str(auth.value))
    use_connection(host=f"http://127.0.0.1:{closed_port}", conn_id="vobiz_down", extra={"max_retries": 1})
    with pytest.raises(VobizConnectionError) as down:
        make_hook(kind, "vobiz_down")("get_recording", rec_id)
    messages.append(str(down.value))

    assert any("retry 1 of" in line for line in logs.warnings())
    for text in [*messages, logs.text()]:
        assert token not in text


def test_provider_info_registers_the_connection_type():
    from vobiz_provider.get_provider_info import get_provider_info
    from vobiz_provider.hooks.connection import PROVIDER_EXTRAS
    from vobiz_provider.hooks.vobiz import VobizHook

    (conn_type,) = get_provider_info()["connection-types"]
    module, _, name = conn_type["hook-class-name"].rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name) is VobizHook
    assert conn_type["connection-type"] == VobizHook.conn_type == "vobiz"
    assert set(conn_type["conn-fields"]) == PROVIDER_EXTRAS
