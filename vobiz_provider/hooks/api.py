"""Vobiz operations as plain request descriptions, and the answers as plain values.

Both transports (requests and aiohttp) send an :class:`ApiRequest` and hand back an
:class:`ApiReply`; everything about paths, bodies and JSON lives here, once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from vobiz_provider import __version__
from vobiz_provider.exceptions import VobizConfigError, VobizResponseError

FILE_FORMATS = ("mp3", "wav")
MAX_PAGE_SIZE = 100
USER_AGENT = f"airflow-provider-vobiz/{__version__}"
SESSION_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


def segment(value: str, *, field: str) -> str:
    """Percent-encode one path segment, so ``Q3 Review/EMEA #1`` stays one segment."""
    if not isinstance(value, str) or not value.strip():
        raise VobizConfigError(f"{field} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        # quote() leaves dots alone, and HTTP clients resolve "." and ".." segments away.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def account_path(auth_id: str, *segments: str) -> str:
    """``/api/v1/Account/{auth_id}/<segments>/``: capitalised and with the trailing slash Vobiz needs."""
    parts = [segment(auth_id, field="auth_id"), *segments]
    return "/api/v1/Account/" + "/".join(parts) + "/"


@dataclass(frozen=True)
class ApiRequest:
    """One request to the API, independent of the transport.

    :param method: HTTP method.
    :param path: path below the base URL, already percent-encoded.
    :param what: what is asked, in words, for messages and logs.
    :param params: query parameters.
    :param body: JSON body, if any.
    :param idempotent: whether replaying it after an unknown outcome is safe.
    """

    method: str
    path: str
    what: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    idempotent: bool = True


@dataclass(frozen=True)
class ApiReply:
    """A complete answer: status, headers (lower-cased names) and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self, what: str) -> Any:
        """The body as JSON; an empty or malformed body is a :class:`VobizResponseError`."""
        try:
            return json.loads(self.body)
        except ValueError:
            snippet = self.body[:80].decode("utf-8", "replace")
            raise VobizResponseError(
                f"{what}: Vobiz answered {self.status} with a body that is not JSON: {snippet!r}",
                status_code=self.status,
            ) from None

    def json_object(self, what: str) -> dict[str, Any]:
        data = self.json(what)
        if not isinstance(data, dict):
            raise VobizResponseError(
                f"{what}: expected a JSON object, got {type(data).__name__}", status_code=self.status
            )
        return data


def start_recording(auth_id: str, conference_name: str, file_format: str, callback_url: str | None) -> ApiRequest:
    body: dict[str, Any] = {"file_format": file_format}
    if callback_url:
        # CUR docs and the Fern SDK send ``callback_url``; MID/OLD docs name ``recording_callback_url``.
        body["callback_url"] = callback_url
        body["recording_callback_url"] = callback_url
    return ApiRequest(
        "POST",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name"), "Record"),
        f"start recording conference {conference_name!r}",
        body=body,
        idempotent=False,
    )


def stop_recording(auth_id: str, conference_name: str) -> ApiRequest:
    # Stopping twice is harmless (the second answers "not recording"), so it may be retried.
    return ApiRequest(
        "DELETE",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name"), "Record"),
        f"stop recording conference {conference_name!r}",
    )


def list_conferences(auth_id: str) -> ApiRequest:
    return ApiRequest("GET", account_path(auth_id, "Conference"), "list live conferences")


def get_conference(auth_id: str, conference_name: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name")),
        f"get conference {conference_name!r}",
    )


def list_recordings(auth_id: str, params: Mapping[str, str | int]) -> ApiRequest:
    return ApiRequest("GET", account_path(auth_id, "Recording"), "list recordings", params=dict(params))


def get_recording(auth_id: str, recording_id: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Recording", segment(recording_id, field="recording_id")),
        f"get recording {recording_id!r}",
    )


def account_check(auth_id: str) -> ApiRequest:
    """The read-only request ``test_connection`` sends: one recording of the account."""
    return list_recordings(auth_id, {"limit": 1})


def file_probes(url: str) -> list[tuple[ApiRequest, dict[str, str]]]:
    """A HEAD first; a one-byte ranged GET for servers that refuse HEAD."""
    what = f"check the recording file {_without_query(url)}"
    return [(ApiRequest("HEAD", url, what), {}), (ApiRequest("GET", url, what), {"Range": "bytes=0-0"})]


def download(url: str) -> ApiRequest:
    return ApiRequest("GET", url, f"download {_without_query(url)}")


def _without_query(url: str) -> str:
    """Signed storage URLs carry secrets in the query: keep it out of messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def api_id_of(data: Any) -> str | None:
    if isinstance(data, Mapping):
        value = data.get("api_id") or data.get("requestId")
        return str(value) if value else None
    return None
