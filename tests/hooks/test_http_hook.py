"""VobizHook is the http provider's HttpHook: its inherited run() family sends the scoped credentials
to the API host and ``auth_hosts`` only, on every redirect hop, over real HTTP against the fake."""

from __future__ import annotations

import pytest
import tenacity
from airflow.providers.http.hooks.http import HttpHook

from tests.hooks.support import api_requests
from vobiz_provider.hooks.vobiz import VobizHook

STORAGE = "127.0.0.3"


def _has_credentials(entry) -> bool:
    return "X-Auth-ID" in entry.headers or "X-Auth-Token" in entry.headers


def test_vobiz_hook_is_an_http_hook():
    assert issubclass(VobizHook, HttpHook)


def test_run_lists_recordings_with_the_credentials(vobiz_fake, use_connection):
    use_connection(extra={"timeout": 7, "max_retries": 2, "auth_hosts": ["media.example.com"]})
    vobiz_fake.add_recording(conference_name="Standup")
    hook = VobizHook()

    response = hook.run(f"Account/{vobiz_fake.auth_id}/Recording/", data={"limit": 1})

    assert response.status_code == 200
    assert len(response.json()["objects"]) == 1
    (entry,) = api_requests(vobiz_fake, "recording.list")
    assert entry.headers["X-Auth-Token"] == vobiz_fake.auth_token
    assert entry.query == "limit=1"
    # The provider's extras are settings, never headers (a list would make requests refuse the header).
    assert not {"timeout", "max_retries", "auth_hosts", "proxy"} & {name.lower() for name in entry.headers}
    hook.close()


def test_run_and_check_and_advanced_retry_use_the_same_session(vobiz_fake, use_connection):
    use_connection()
    vobiz_fake.inject("recording.list", 503, times=1)
    hook = VobizHook()
    retry_args = {
        "stop": tenacity.stop_after_attempt(3),
        "wait": tenacity.wait_fixed(0.01),
        "retry": tenacity.retry_if_exception_type(Exception),
    }

    response = hook.run_with_advanced_retry(retry_args, f"Account/{vobiz_fake.auth_id}/Recording/")

    assert response.status_code == 200
    assert [entry.status for entry in api_requests(vobiz_fake, "recording.list")] == [503, 200]
    assert all(_has_credentials(entry) for entry in api_requests(vobiz_fake, "recording.list"))
    hook.close()


def test_run_follows_a_redirect_without_credentials_on_the_foreign_hop(vobiz_fake, use_connection):
    if STORAGE not in vobiz_fake.listen_hosts:
        pytest.skip("127.0.0.2/3 are not loopback addresses on this machine")
    # The API itself answers run() with a redirect to a host outside auth_hosts.
    location = f"http://{STORAGE}:{vobiz_fake.port}/api/v1/Account/{vobiz_fake.auth_id}/Recording/"
    vobiz_fake.inject("recording.list", 302, headers={"Location": location}, body="")
    use_connection()

    response = VobizHook().run(f"Account/{vobiz_fake.auth_id}/Recording/", extra_options={"check_response": False})

    first, second = api_requests(vobiz_fake, "recording.list")
    assert first.status == 302 and _has_credentials(first)
    assert second.host.startswith(f"{STORAGE}:") and not _has_credentials(second)
    assert response.status_code == 401  # the foreign host got no credentials, so the fake refuses
