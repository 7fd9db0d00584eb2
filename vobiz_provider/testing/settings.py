"""Settings of the fake Vobiz server and the record of each request it answered.

Vobiz's docs contradict each other (docs/vobiz-api-quirks.md); each setting below picks one side of
such a contradiction so a client can be tested against every documented variant.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict

# The route keys accepted by ``inject`` / ``set_latency`` and shown in ``LoggedRequest.route``.
ROUTE_KEYS: tuple[str, ...] = (
    "conference.list",
    "conference.get",
    "conference.hangup",
    "conference.hangup_all",
    "conference.record.start",
    "conference.record.stop",
    "recording.list",
    "recording.get",
    "recording.delete",
    "media",
    "storage",
)

_CHOICES: dict[str, tuple[str, ...]] = {
    "start_mode": ("current", "legacy"),
    "list_filters": ("honour", "ignore"),
    "list_shape": ("current", "legacy"),
    "get_shape": ("flat", "wrapped"),
    "add_time_style": ("space", "iso_z"),
    "empty_conference_name": ("null", "empty"),
    "conference_get_mode": ("normal", "failed"),
    "conference_list_mode": ("normal", "empty"),
    "error_envelope": ("plivo", "standard"),
    "list_offset": ("honour", "ignore"),
}
_STATUSES = ("stop_idle_status", "start_when_recording_status")
_SECONDS = ("processing_delay_s", "file_delay_s", "recording_duration_s")
_FLAGS = ("ms_as_strings", "wav_as_mp3", "real_mp3", "storage_signed", "ignore_range")
_HOSTS = ("media_host", "storage_host")
_OPTIONAL_STATUSES = ("storage_head_status",)
_OFFSET = re.compile(r"^[+-](?:[01]\d|2[0-3]):[0-5]\d$")


@dataclass
class FakeSettings:
    """Behaviour switches of :class:`~vobiz_provider.testing.FakeVobizServer`.

    :param start_mode: ``"current"``: start answers ``{"message": "async api spawned", "api_id"}``;
        ``"legacy"``: it also returns ``recording_id`` and ``url`` (older docs).
    :param stop_idle_status: status of a stop on a live room with nothing recording; 204 (empty
        body, as the agent rules say) or an error status with body ``"no active recording"`` (older docs).
    :param start_when_recording_status: status of a start while already recording; an error
        status answers ``"recording already in progress"``, a 2xx answers like a normal start.
    :param list_filters: ``"honour"`` or ``"ignore"`` the list filters ``conference_name``
        (partial), ``add_time__gte/__gt/__lte/__lt``, ``recording_type``, ``call_uuid``,
        ``recording_format``, ``from_number``, ``to_number``. ``limit``/``offset`` always apply.
    :param list_shape: ``"current"`` (``api_id``, ``meta``, ``objects``) or ``"legacy"``
        (``recordings``, ``pagination``).
    :param get_shape: single recording ``"flat"`` or ``"wrapped"`` in ``meta``/``objects``.
    :param ms_as_strings: ``*_ms`` fields as strings like ``"10080.00000"`` (wire) or floats.
    :param add_time_style: ``"space"`` (``2026-05-07 09:45:35.792760+05:30``) or ``"iso_z"``
        (``2026-05-07T04:15:35Z``).
    :param add_time_utc_offset: offset ``add_time`` is rendered in (same instant), e.g. ``+05:30``.
    :param list_filter_utc_offset: offset an ``add_time__*`` list filter without one is read in
        (with ``list_filters="honour"``), e.g. ``-10:00`` for a server whose zone is not UTC.
    :param empty_conference_name: call recordings show ``conference_name`` as ``"null"`` or ``"empty"``.
    :param processing_delay_s: seconds after a stop before the recording row appears.
    :param file_delay_s: seconds after the row appears during which its file still answers 404.
    :param wav_as_mp3: WAV bytes served under a ``.mp3`` URL carry ``Content-Type: audio/mpeg``
        (the documented quirk); when False they carry ``audio/wav``.
    :param real_mp3: serve mp3-format recordings as genuine (silent) MP3 frames instead of WAV
        bytes. Off by default: every file is a WAV unless this is set.
    :param media_host: host name put into ``recording_url`` (default: the first listen host).
    :param storage_host: when set, media GETs answer 302 to an unauthenticated
        ``http://{storage_host}:{port}/storage/...`` URL, like a presigned object-store link.
    :param conference_get_mode: ``"failed"`` makes ``GET Conference/{name}/`` answer
        ``200 {"error": "failed"}`` for a live room.
    :param conference_list_mode: ``"empty"`` makes ``GET Conference/`` always list no rooms.
    :param error_envelope: ``"plivo"`` (``{"api_id", "error"}``) or ``"standard"``
        (``{"status": "error", "error": {code, message, details}, "timestamp", "requestId"}``).
    :param ignore_range: file answers ignore ``Range`` and send the whole file with 200.
    :param recording_duration_s: duration of a recording made by start/stop, unless its room
        was given ``duration_s``.
    :param list_offset: ``"honour"`` ``offset``, or ``"ignore"`` it: every list answer is the
        first page, ``meta.next`` is always set and ``meta.total_count`` is null (a list that
        would page forever for a client that trusts ``next``).
    :param storage_head_status: when set (e.g. 403), a HEAD on the storage host answers this
        status with an S3-style XML body, as a presigned URL signed for GET does; GET still works.
    :param storage_signed: storage URLs carry an S3-style presigned query
        (``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Signature``, ...), a secret that must
        never reach a log; the storage route ignores the query.
    :param storage_port: port put into storage URLs instead of the server's own (point it at
        :func:`~vobiz_provider.testing.ports.refusing_port` to play a storage host that refuses).
    :param clock_offset_s: seconds Vobiz's clock runs ahead of the machine's (negative: behind); the
        times the fake stamps from now on (a recording's start, end and ``add_time``) are off by it.
    """

    start_mode: str = "current"
    stop_idle_status: int = 204
    start_when_recording_status: int = 400
    list_filters: str = "ignore"
    list_shape: str = "current"
    get_shape: str = "flat"
    ms_as_strings: bool = True
    add_time_style: str = "space"
    add_time_utc_offset: str = "+00:00"
    list_filter_utc_offset: str = "+00:00"
    empty_conference_name: str = "null"
    processing_delay_s: float = 0.5
    file_delay_s: float = 0.5
    wav_as_mp3: bool = False
    real_mp3: bool = False
    media_host: str | None = None
    storage_host: str | None = None
    conference_get_mode: str = "normal"
    conference_list_mode: str = "normal"
    error_envelope: str = "plivo"
    recording_duration_s: float = 3.0
    list_offset: str = "honour"
    storage_head_status: int | None = None
    storage_signed: bool = False
    storage_port: int | None = None
    ignore_range: bool = False
    clock_offset_s: float = 0.0

    def update(self, **changes: Any) -> None:
        """Validate every change first, then apply them all (so a bad call changes nothing)."""
        checked = {name: _checked(name, value) for name, value in changes.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def restore_defaults(self) -> None:
        """Put every field back to its default, in place (holders of this object see it)."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, f.default)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _checked(name: str, value: Any) -> Any:
    names = {f.name for f in dataclasses.fields(FakeSettings)}
    if name not in names:
        raise TypeError(f"unknown fake server setting {name!r}; known: {sorted(names)}")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ValueError(f"{name} must be one of {_CHOICES[name]}, not {value!r}")
    if name in _STATUSES and not (isinstance(value, int) and 100 <= value <= 599):
        raise ValueError(f"{name} must be an HTTP status code, not {value!r}")
    if name in _SECONDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
        return float(value)
    if name in _FLAGS and not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, not {value!r}")
    if name in _HOSTS and value is not None and not (isinstance(value, str) and value):
        raise ValueError(f"{name} must be a host name or None, not {value!r}")
    if name in _OPTIONAL_STATUSES and value is not None and not (isinstance(value, int) and 100 <= value <= 599):
        raise ValueError(f"{name} must be an HTTP status code or None, not {value!r}")
    if name == "storage_port" and value is not None and not (isinstance(value, int) and 0 < value < 65536):
        raise ValueError(f"storage_port must be a TCP port or None, not {value!r}")
    if name == "clock_offset_s":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueError(f"clock_offset_s must be a number of seconds, not {value!r}")
        return float(value)
    if name in ("add_time_utc_offset", "list_filter_utc_offset") and not (
        isinstance(value, str) and _OFFSET.match(value)
    ):
        raise ValueError(f"{name} must look like '+05:30', not {value!r}")
    return value


@dataclass
class LoggedRequest:
    """One request the fake server received (requests under ``/_fake/`` are not logged).

    :param method: HTTP method.
    :param host: the ``Host`` header as sent (``127.0.0.2:PORT``), to see which host got a request.
    :param path: the raw path, percent-encoding kept, without the query string.
    :param query: the raw query string (no ``?``), ``""`` when absent.
    :param headers: the request headers; a case-insensitive mapping (``"x-auth-id" in headers``
        works whatever case the client used).
    :param route: the route key (see ``ROUTE_KEYS``), None when the path matched no route.
    :param status: the status answered; 0 when no answer was sent (the client went away).
    :param body: the request body (bytes).
    :param received_at: wall-clock time (``time.time()``) the request arrived.
    """

    method: str
    host: str
    path: str
    query: str
    headers: CIMultiDict[str]
    route: str | None
    status: int
    body: bytes = b""
    received_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "route": self.route,
            "status": self.status,
            "body": self.body.decode("utf-8", "replace"),
            "received_at": self.received_at,
        }
