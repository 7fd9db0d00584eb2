"""Helpers for the fake server's tests: a small authenticated client over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests

from vobiz_provider.testing import FakeVobizServer

T = TypeVar("T")


class Api:
    """``requests`` against the fake server's account path, with the right credentials."""

    def __init__(self, server: FakeVobizServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.auth = {"X-Auth-ID": server.auth_id, "X-Auth-Token": server.auth_token}

    def url(self, path: str) -> str:
        return f"{self.server.base_url}/api/v1/Account/{self.server.auth_id}/{path}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.session.request(method, self.url(path), headers=headers, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def download(self, url: str, **kwargs: Any) -> requests.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.session.get(url, headers=headers, timeout=5, **kwargs)

    def objects(self, **params: Any) -> list[dict[str, Any]]:
        response = self.get("Recording/", params=params)
        assert response.status_code == 200, response.text
        return response.json()["objects"]


def wait_for(check: Callable[[], T | None], timeout: float = 3.0, interval: float = 0.02) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def api(vobiz_fake: FakeVobizServer) -> Iterator[Api]:
    client = Api(vobiz_fake)
    yield client
    client.session.close()


@pytest.fixture
def poll() -> Callable[..., Any]:
    return wait_for
