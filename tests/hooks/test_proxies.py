"""Egress proxies: the ``proxy`` extra, and the environment's HTTP(S)_PROXY/NO_PROXY, for both hooks
(a counting forward proxy on loopback sees what went through it)."""

from __future__ import annotations

import pytest

from tests.hooks.support import api_requests
from vobiz_provider.testing import CountingProxy

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def proxy(monkeypatch):
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with CountingProxy() as running:
        yield running


def test_proxy_extra_carries_every_request(vobiz_fake, use_connection, make_hook, kind, proxy):
    use_connection(extra={"proxy": proxy.url})
    rid = vobiz_fake.add_recording(conference_name="Standup")
    hook = make_hook(kind)

    assert hook("recording_file_ready", hook("get_recording", rid)) is True

    assert [url.split("?")[0].rsplit("/", 2)[-2] for url in proxy.seen][:1] == [rid]
    assert len(proxy.seen) == len(vobiz_fake.requests) == 2  # the row, then the file's HEAD
    assert all(entry.headers.get("X-Auth-ID") == vobiz_fake.auth_id for entry in vobiz_fake.requests)


def test_environment_proxy_is_honoured(vobiz_fake, use_connection, make_hook, kind, proxy, monkeypatch):
    # The trigger's aiohttp session used to ignore it: every deferred poll then failed behind a proxy.
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    use_connection()
    rid = vobiz_fake.add_recording(conference_name="Standup")

    make_hook(kind)("get_recording", rid)

    assert len(proxy.seen) == 1
    assert proxy.seen[0].startswith(f"{vobiz_fake.base_url}/api/v1/Account/")
    assert len(api_requests(vobiz_fake, "recording.get")) == 1


def test_no_proxy_is_honoured(vobiz_fake, use_connection, make_hook, kind, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    use_connection()
    rid = vobiz_fake.add_recording(conference_name="Standup")

    make_hook(kind)("get_recording", rid)

    assert proxy.seen == []
    assert len(api_requests(vobiz_fake, "recording.get")) == 1


def test_a_bad_proxy_extra_is_refused_before_any_request(vobiz_fake, use_connection, make_hook, kind):
    from vobiz_provider.exceptions import VobizConfigError

    use_connection(extra={"proxy": "socks5://user:secret@proxy:1080"})

    with pytest.raises(VobizConfigError, match="extra 'proxy'") as raised:
        make_hook(kind)("get_recording", "rec-1")

    assert "secret" not in str(raised.value)
    assert vobiz_fake.requests == []
