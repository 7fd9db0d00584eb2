"""Vobiz's API as plain request descriptions: paths, bodies and query parameters, for both hooks.

Each function returns an :class:`ApiRequest`; a hook sends it and reads the answer with
:mod:`vobiz_provider.hooks.answers`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from vobiz_provider import __version__
from vobiz_provider.exceptions import VobizConfigError

MAX_PAGE_SIZE = 100
USER_AGENT = f"airflow-provider-vobiz/{__version__}"
SESSION_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}
# Files are asked for as stored: Content-Length and Range then count the file's own bytes.
IDENTITY_ENCODING = {"Accept-Encoding": "identity"}


def segment(value: str, *, field: str) -> str:
    """Percent-encode one path segment, so ``Q3 Review/EMEA #1`` stays one segment."""
    if not isinstance(value, str) or not value.strip():
        raise VobizConfigError(f"{field} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        # quote() leaves dots alone, and HTTP clients resolve "." and ".." segments away.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def account_path(auth_id: str, *segments: str) -> str:
    """``/api/v1/Account/{auth_id}/<segments>/``: capitalised and with the trailing slash Vobiz needs
    (docs/vobiz-api-quirks.md, row "401")."""
    parts = [segment(auth_id, field="auth_id"), *segments]
    return "/api/v1/Account/" + "/".join(parts) + "/"


@dataclass(frozen=True)
class ApiRequest:
    """One request to Vobiz, independent of the transport.

    :param method: HTTP method.
    :param path: the path below the API's base URL (percent-encoded), or a file's full URL.
    :param description: what is asked, in words, for messages and logs (never a query string).
    :param params: query parameters.
    :param body: JSON body, if any.
    :param idempotent: whether replaying it after an unknown outcome is safe.
    :param headers: headers of this request besides the session's and the credentials.
    :param json_answer: Vobiz always answers it with JSON: a 2xx whose body is not JSON was cut
        short and is retried like a 503 (idempotent requests only).
    """

    method: str
    path: str
    description: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    idempotent: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    json_answer: bool = False

    def url(self, base_url: str) -> str:
        """The absolute URL: a file's URL as given, an API path below ``base_url``."""
        return self.path if "://" in self.path else base_url + self.path


def account_request(
    auth_id: str, method: str, path: str, *, params: Mapping[str, str | int] | None = None, body: Any = None
) -> ApiRequest:
    """Any request below the account, for endpoints the hook has no method for."""
    method = method.upper()
    if not isinstance(path, str) or "://" in path:
        raise VobizConfigError(f"path must be a path below the account, e.g. 'Call/', got {path!r}")
    return ApiRequest(
        method,
        "/api/v1/Account/" + segment(auth_id, field="auth_id") + "/" + path.lstrip("/"),
        f"{method} {path}",
        params=dict(params or {}),
        body=body,
        idempotent=method in ("GET", "HEAD", "PUT", "DELETE"),
    )


def start_recording(auth_id: str, conference_name: str, file_format: str, callback_url: str | None) -> ApiRequest:
    body: dict[str, Any] = {"file_format": file_format}
    if callback_url:
        # Both names of the field, as the docs disagree (docs/vobiz-api-quirks.md, row "Callback field name").
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
    return ApiRequest("GET", account_path(auth_id, "Conference"), "list live conferences", json_answer=True)


def get_conference(auth_id: str, conference_name: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Conference", segment(conference_name, field="conference_name")),
        f"get conference {conference_name!r}",
        json_answer=True,
    )


def list_recordings(auth_id: str, params: Mapping[str, str | int]) -> ApiRequest:
    return ApiRequest(
        "GET", account_path(auth_id, "Recording"), "list recordings", params=dict(params), json_answer=True
    )


def get_recording(auth_id: str, recording_id: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        account_path(auth_id, "Recording", segment(recording_id, field="recording_id")),
        f"get recording {recording_id!r}",
        json_answer=True,
    )


def account_check(auth_id: str) -> ApiRequest:
    """The read-only request ``test_connection`` sends: one recording of the account."""
    return list_recordings(auth_id, {"limit": 1})


def file_probes(url: str) -> tuple[ApiRequest, ApiRequest]:
    """A HEAD first; a one-byte ranged GET for servers that refuse HEAD."""
    description = f"check the recording file {without_query(url)}"
    return ApiRequest("HEAD", url, description), ApiRequest("GET", url, description, headers={"Range": "bytes=0-0"})


def download(url: str) -> ApiRequest:
    return ApiRequest("GET", url, f"download {without_query(url)}", headers=IDENTITY_ENCODING)


# A query string (``?a=b...``) inside any text: requests' and aiohttp's error texts quote the URL.
_QUERY_IN_TEXT = re.compile(r"\?[^\s'\"()<>\[\]]*=[^\s'\"()<>\[\]]*")


def redact_queries(text: str) -> str:
    """``text`` with every URL's query string cut to ``?...``: presigned signatures are credentials."""
    return _QUERY_IN_TEXT.sub("?...", text)


def without_query(url: str) -> str:
    """Signed storage URLs carry secrets in the query: keep it out of messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
