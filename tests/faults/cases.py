"""The fault matrix as data: one :class:`Case` per row of docs/reliability.md.

Every case runs a real pipeline (stop, wait, download) with ``dag.test()`` against the fake Vobiz
server with one fault injected; the suite (test_fault_matrix.py) checks its outcome and the shared
invariants. The doc's table is generated from this list (``python -m tests.faults.table``) and a
test keeps the two in step.

The network: the API on 127.0.0.1, the media host on 127.0.0.2 (in ``auth_hosts``: it gets the
credentials), presigned storage on 127.0.0.3 (foreign: it must never get them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vobiz_provider.testing import FakeVobizServer, RefusingPort, refusing_port

ROOM = "Fault Room"
TOKEN = "fault-token-5ecret"
API_HOST, MEDIA_HOST, STORAGE_HOST = "127.0.0.1", "127.0.0.2", "127.0.0.3"
TIMEOUT_S = 1.0  # the connection's per-request timeout: a read timeout costs a second
MAX_RETRIES = 2
# A clean pipeline: 1 stop, a few list polls (the row appears 0.05 s after the stop), a probe and
# a download; ALLOWANCE is the headroom every bound gets for polls a loaded machine adds.
ALLOWANCE = 8
OK = {"stop": "success", "wait": "success", "download": "success"}
WAIT_FAILS = {"stop": "success", "wait": "failed", "download": "upstream_failed"}
STOP_FAILS = {"stop": "failed", "wait": "upstream_failed", "download": "upstream_failed"}
DOWNLOAD_FAILS = {"stop": "success", "wait": "success", "download": "failed"}
HTML_PAGE = "<html><body><h1>503 Service Temporarily Unavailable</h1>maintenance</body></html>"
NEW_FIELDS_STOP = {"api_id": "f1e2", "message": "conference recording stopped", "brand_new": {"nested": [1, 2]}}
# An empty page with fields Vobiz may add one day: not an error, just nothing yet.
NEW_FIELDS_LIST = {
    "api_id": "f1e3",
    "meta": {"limit": 100, "offset": 0, "next": None, "previous": None, "total_count": 0, "cursor": "abc"},
    "objects": [],
    "region": "ap-south-1",
}

# Injects the fault; may return something to close() after the run (a refusing port).
Arrange = Callable[[FakeVobizServer], Any]


@dataclass(frozen=True)
class Case:
    """One row of the matrix.

    :param id: the pytest id and the doc row's first column.
    :param group: ``api``, ``file``, ``auth`` or ``input``.
    :param pipeline: the DAG in tests/dags/fault_scenarios.py (``poke``, ``reschedule``,
        ``deferrable``, ``native`` or ``start``).
    :param arrange: injects the fault into the running fake server.
    :param fault: what is injected, for the doc.
    :param states: the task states expected.
    :param message: text the task log must contain (the error naming the cause), if any.
    :param max_requests: the most requests the fake may receive, every host together.
    :param params: run params over the defaults (room, destination, file_format).
    :param extra: connection extras over the suite's defaults; ``{"password": None}`` drops the token.
    """

    id: str
    group: str
    pipeline: str
    arrange: Arrange
    fault: str
    states: dict[str, str]
    max_requests: int
    message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.states == OK:
            return "success, the whole file"
        failed = [task for task, state in self.states.items() if state == "failed"]
        return f"{', '.join(failed)} fails" + (f": {self.message}" if self.message else "")


# -- the API faults: every call of the pipeline under each -----------------------------------------

# (name, what is injected, how to inject it on a route n times, extra requests it costs per hit)
ApiFault = tuple[str, str, Callable[[FakeVobizServer, str, int], None], int]


def _status(status: int, **kwargs: Any) -> Callable[[FakeVobizServer, str, int], None]:
    return lambda fake, route, n: fake.inject(route, status, times=n, **kwargs)


def _new_fields(fake: FakeVobizServer, route: str, n: int) -> None:
    if route == "conference.record.stop":
        fake.inject(route, 200, body=NEW_FIELDS_STOP, times=n, after_serving=True)
    elif route == "recording.list":
        fake.inject(route, 200, body=NEW_FIELDS_LIST, times=n)
    else:  # a HEAD has no body: new headers instead
        fake.inject_delay(route, 0.01, n)


API_FAULTS: list[ApiFault] = [
    ("429", "429 with Retry-After: 0.2", _status(429, retry_after=0.2), 1),
    ("500", "500", _status(500), 1),
    ("502", "502", _status(502), 1),
    ("503", "503", _status(503), 1),
    ("504", "504", _status(504), 1),
    ("reset", "connection closed without an answer", lambda f, r, n: f.inject_reset(r, n), 1),
    ("read-timeout", "answer after 1.6 s, timeout 1 s", lambda f, r, n: f.inject_delay(r, 1.6, n), 1),
    ("slow", "answer after 0.5 s, timeout 1 s", lambda f, r, n: f.inject_delay(r, 0.5, n), 0),
    ("malformed-json", "200 with truncated JSON", lambda f, r, n: f.inject_malformed_json(r, n, after_serving=True), 1),
    ("empty-body", "200 with an empty body", _status(200, body=b"", after_serving=True), 1),
    (
        "html-200",
        "200 text/html page",
        _status(200, body=HTML_PAGE, headers={"Content-Type": "text/html"}, after_serving=True),
        1,
    ),
    ("new-fields", "200 with fields the provider does not know", _new_fields, 0),
]

# (call, route, pipeline, hits): the deferrable list fault hits the worker's first check and the
# trigger's first poll; the probe is the HEAD on the media host.
API_CALLS = [
    ("stop", "conference.record.stop", "reschedule", 1),
    ("list-sync", "recording.list", "poke", 1),
    ("list-async", "recording.list", "deferrable", 2),
    ("probe", "media", "deferrable", 1),
]


def _api_case(call: str, route: str, pipeline: str, hits: int, fault: ApiFault) -> Case:
    name, what, inject, extra = fault

    def arrange(fake: FakeVobizServer) -> None:
        inject(fake, route, hits)

    return Case(
        id=f"api-{call}-{name}",
        group="api",
        pipeline=pipeline,
        arrange=arrange,
        fault=f"{what} on {route}" + (f" ({hits} times)" if hits > 1 else ""),
        states=OK,
        max_requests=4 + ALLOWANCE + extra * hits,
    )


API_CASES = [_api_case(*call, fault) for call in API_CALLS for fault in API_FAULTS]


def _list_ignores_offset(fake: FakeVobizServer) -> None:
    """Every answer is page one, with ``meta.next`` set: 120 newer rows of other rooms fill it."""
    fake.configure(list_offset="ignore")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    for n in range(120):
        fake.add_recording(conference_name=f"Other Room {n}", add_time=soon + timedelta(seconds=n))


API_CASES += [
    Case(
        "api-stop-400-invalid",
        "api",
        "poke",
        lambda fake: fake.inject("conference.record.stop", 400, body={"api_id": "x1", "error": "invalid request"}),
        "the stop answers 400 invalid request",
        STOP_FAILS,
        1,
        message="invalid request",
    ),
    Case(
        "api-list-ignores-offset",
        "api",
        "poke",
        _list_ignores_offset,
        "the list ignores offset and always sends meta.next (the room's row is never on page one)",
        WAIT_FAILS,
        # Two pages a poke (the second repeats the first and ends the list), a poke every 0.2 s for
        # the sensor's 12 s (tests/dags/fault_scenarios.py): bounded, where paging never ended before.
        1 + 2 * (12 * 5 + 1) + ALLOWANCE,
        message="it ignores offset",
    ),
]


# -- the file ------------------------------------------------------------------------------------


def _redirect_to_storage(fake: FakeVobizServer) -> None:
    fake.configure(storage_host=STORAGE_HOST, storage_signed=True)


def _redirect_loop(fake: FakeVobizServer) -> None:
    _redirect_to_storage(fake)
    url = f"http://{STORAGE_HOST}:{fake.port}/storage/loop/x.mp3?X-Amz-Signature={'ab' * 32}"
    fake.inject("storage", 302, headers={"Location": url}, times=40)


def _presigned_head_refused(fake: FakeVobizServer) -> None:
    _redirect_to_storage(fake)
    fake.configure(storage_head_status=403)


def _storage_refuses(fake: FakeVobizServer) -> RefusingPort:
    down = refusing_port(STORAGE_HOST)
    fake.configure(storage_host=STORAGE_HOST, storage_port=down.port, storage_signed=True)
    return down


def _ignore_range(fake: FakeVobizServer) -> None:
    fake.configure(ignore_range=True)
    fake.drop_file_after(200_000)


FILE_CASES = [
    Case(
        "file-dropped",
        "file",
        "poke",
        lambda fake: fake.drop_file_after(200_000),
        "the connection closes after 200,000 of the file's bytes",
        OK,
        5 + ALLOWANCE,
    ),
    Case(
        "file-wrong-length",
        "file",
        "poke",
        lambda fake: fake.overstate_file_length(5_000),
        "Content-Length 5,000 bytes more than the file, then the connection closes",
        OK,
        5 + ALLOWANCE,
    ),
    Case(
        "file-404-then-ready",
        "file",
        "reschedule",
        lambda fake: fake.inject("media", 404, times=3),
        "the file answers 404 three times",
        OK,
        7 + ALLOWANCE,
    ),
    Case(
        "file-redirect-other-host",
        "file",
        "deferrable",
        _redirect_to_storage,
        "302 to a presigned URL (X-Amz-Signature) on 127.0.0.3",
        OK,
        6 + ALLOWANCE,
    ),
    Case(
        "file-redirect-loop",
        "file",
        "poke",
        _redirect_loop,
        "the storage host redirects to itself, forever",
        WAIT_FAILS,
        # one probe of 1 + 10 hops, and its GET fallback, per poke until the error
        4 + 2 * 11 + ALLOWANCE,
        message="more than 10 redirects",
    ),
    Case(
        "file-ignores-range",
        "file",
        "poke",
        _ignore_range,
        "the file server ignores Range (200, whole file) after a drop at 200,000 bytes",
        OK,
        5 + ALLOWANCE,
    ),
    Case(
        "file-storage-refused",
        "file",
        "poke",
        _storage_refuses,
        "the presigned storage host refuses connections",
        WAIT_FAILS,
        2 * (1 + MAX_RETRIES) + ALLOWANCE,
        message="Connection refused",
    ),
    Case(
        "file-head-refused",
        "file",
        "deferrable",
        lambda fake: fake.inject("media", 405),
        "HEAD on the media host answers 405",
        OK,
        5 + ALLOWANCE,
    ),
    Case(
        "file-presigned-head-403",
        "file",
        "poke",
        _presigned_head_refused,
        "HEAD on the presigned storage URL answers 403 (it is signed for GET)",
        OK,
        7 + ALLOWANCE,
    ),
]


# -- auth ----------------------------------------------------------------------------------------

AUTH_CASES = [
    Case(
        "auth-api-401",
        "auth",
        "poke",
        lambda fake: fake.inject("conference.record.stop", 401),
        "the stop answers 401",
        STOP_FAILS,
        1,
        message="Check the Auth ID and Token of the connection",
    ),
    Case(
        "auth-api-403",
        "auth",
        "poke",
        lambda fake: fake.inject("recording.list", 403),
        "the list answers 403",
        WAIT_FAILS,
        2,
        message="403",
    ),
    Case(
        "auth-media-401",
        "auth",
        "reschedule",
        lambda fake: fake.inject("media", 401, times=2),
        "the media host answers 401",
        WAIT_FAILS,
        4 + ALLOWANCE,
        message="401",
    ),
    Case(
        "auth-media-403",
        "auth",
        "deferrable",
        lambda fake: fake.inject("media", 403, times=2),
        "the media host answers 403",
        WAIT_FAILS,
        4 + ALLOWANCE,
        message="403",
    ),
]


# -- input ---------------------------------------------------------------------------------------


def _nothing(fake: FakeVobizServer) -> None:
    """No fault: the input is the case."""


SPECIAL_ROOM = "Ops/Dev #1 ?50% .."
UNICODE_ROOM = "Réunion d'équipe 会议"

INPUT_CASES = [
    Case(
        "input-empty-room",
        "input",
        "poke",
        _nothing,
        "conference_name ''",
        STOP_FAILS,
        0,
        message="conference_name must not be empty or only whitespace",
        params={"conference_name": ""},
    ),
    Case(
        "input-whitespace-room",
        "input",
        "poke",
        _nothing,
        "conference_name '   '",
        STOP_FAILS,
        0,
        message="conference_name must not be empty or only whitespace",
        params={"conference_name": "   "},
    ),
    Case(
        "input-special-room",
        "input",
        "deferrable",
        _nothing,
        f"conference_name {SPECIAL_ROOM!r}",
        OK,
        4 + ALLOWANCE,
        params={"conference_name": SPECIAL_ROOM},
    ),
    Case(
        "input-dotdot-room",
        "input",
        "poke",
        _nothing,
        "conference_name '..'",
        OK,
        4 + ALLOWANCE,
        params={"conference_name": ".."},
    ),
    Case(
        "input-unicode-room",
        "input",
        "reschedule",
        _nothing,
        f"conference_name {UNICODE_ROOM!r}",
        OK,
        4 + ALLOWANCE,
        params={"conference_name": UNICODE_ROOM},
    ),
    Case(
        "input-bad-file-format",
        "input",
        "start",
        _nothing,
        "StartConferenceRecordingOperator file_format 'flac'",
        {"start": "failed"},
        0,
        message="file_format",
        params={"file_format": "flac"},
    ),
    Case(
        "input-destination-dotdot",
        "input",
        "poke",
        _nothing,
        "destination '<tmp>/a/../../escape.mp3'",
        DOWNLOAD_FAILS,
        3 + ALLOWANCE,
        message="has a '..' segment",
        params={"destination": "{tmp}/a/../../escape.mp3"},
    ),
    Case(
        "input-destination-none",
        "input",
        "native",
        _nothing,
        "destination renders to None",
        DOWNLOAD_FAILS,
        3 + ALLOWANCE,
        message="destination None is a NoneType",
        params={"destination": None},
    ),
    Case(
        "input-missing-token",
        "input",
        "poke",
        _nothing,
        "the connection has no password (Auth Token)",
        STOP_FAILS,
        0,
        message="password (Auth Token) is empty",
        connection={"password": None},
    ),
]

CASES: list[Case] = [*API_CASES, *FILE_CASES, *AUTH_CASES, *INPUT_CASES]
