"""Waiting, pacing: per wait, at most one poll per interval, on errors too.

Target (issue 15): a poll is one row lookup (the row by id, or one listing of the recordings,
all its pages) plus at most one file probe; per wait, at most one poll per poll interval; the
final poll at the deadline counts as one, however soon after the previous one it comes. A
listing shared by many waits (no room in its query) is checked on its own: at most one per
interval.

Triggers poll the fake Vobiz server while it answers each scenario (not ready, injected 503 /
429 / 403 / malformed JSON, a file that 404s, a deadline that falls inside an interval, a room's
row that appears while the waits list); the server's request log gives every request's arrival,
per wait: each waits for its own recording id or room, which the path or the query names. The
http provider's ``HttpSensorTrigger`` runs the 404, 503 and 403 scenarios on the same interval,
as context (no target): it loops without sleeping on any error but a 404.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from benchmarks.control import FakeControl
from benchmarks.procs import run_child
from benchmarks.report import Row, Table
from benchmarks.workload import TriggerRun, fake_server, make_trigger

LOG_LIMIT = 1000
SHARED = "(shared listing)"
CLOCK_SLACK = 0.002  # seconds: two requests closer than interval - slack share one interval
FULL = {"triggers": 10, "interval": 1.0, "window": 4.0}
QUICK = {"triggers": 5, "interval": 0.25, "window": 1.0}
_RECORDING_ID = re.compile(r"/Recording/([^/.]+)")


@dataclass(frozen=True)
class Scenario:
    """One way the server answers while triggers wait.

    :param name: for the table.
    :param kind: ``"vobiz"`` or ``"http"`` (HttpSensorTrigger, context only).
    :param route: the fake's route key that answers ``status`` (or malformed JSON), if any.
    :param status: the status injected on ``route``.
    :param retry_after: a Retry-After to send with it, in poll intervals.
    :param malformed: answer 200 with truncated JSON instead.
    :param file_pending: the recording's row exists, but its file 404s for an hour.
    :param deadline: the trigger's deadline, in poll intervals from its start (default: an hour).
    :param by_room: wait for the room's recording since the scenario began (a listing), not by id;
        its row appears after ``row_after`` intervals, with a file that 404s for an hour.
    :param row_after: see ``by_room``.
    :param ends: the event every trigger must end with in the window, or None: still waiting.
    :param count: how many triggers (default: the run's number).
    """

    name: str
    kind: str = "vobiz"
    route: str | None = None
    status: int | None = None
    retry_after: float | None = None
    malformed: bool = False
    file_pending: bool = False
    deadline: float | None = None
    by_room: bool = False
    row_after: float = 0.0
    ends: str | None = None
    count: int | None = None


SCENARIOS = (
    Scenario("not ready (row 404)"),
    Scenario("503 on the row", route="recording.get", status=503),
    Scenario("429 on the row", route="recording.get", status=429),
    Scenario("429 + Retry-After 2 intervals", route="recording.get", status=429, retry_after=2),
    Scenario("malformed JSON on the row", route="recording.get", malformed=True),
    Scenario("403 on the row", route="recording.get", status=403, ends="error"),
    Scenario("file 404 (row found)", file_pending=True),
    Scenario("503 on the file probe", route="media", status=503, file_pending=True),
    Scenario("deadline 2.5 intervals away", deadline=2.5, ends="timeout"),
    Scenario("by room: row appears after 1.5 intervals", by_room=True, row_after=1.5),
    Scenario("not ready (404)", kind="http"),
    Scenario("503", kind="http", route="recording.get", status=503),
    # One trigger: its loop's own rate, not the fake server's ceiling shared by several.
    Scenario("403", kind="http", route="recording.get", status=403, count=1),
)


def _prepare(control: FakeControl, scenario: Scenario, ids: list[str], interval: float) -> None:
    control.reset()
    if scenario.file_pending:
        control.configure(processing_delay_s=0, file_delay_s=3600)
        for recording_id in ids:
            control.add_recording(conference_name="Bench", recording_id=recording_id, ready=False)
    if scenario.by_room:
        control.configure(processing_delay_s=scenario.row_after * interval, file_delay_s=3600)
        for recording_id in ids:  # each room's row, named as the room, appears after the processing delay
            control.add_recording(conference_name=recording_id, recording_id=recording_id, ready=False)
    if scenario.route and scenario.malformed:
        control.inject_malformed_json(scenario.route, times=LOG_LIMIT)
    elif scenario.route and scenario.status:
        retry_after = None if scenario.retry_after is None else scenario.retry_after * interval
        control.inject(scenario.route, scenario.status, times=LOG_LIMIT, retry_after=retry_after)
    control.clear_log()


def measure(base_url: str, triggers: int, interval: float, window: float) -> list[dict[str, Any]]:
    """In a child: every scenario in turn; per scenario, each trigger's request arrival times."""
    control = FakeControl(base_url)

    async def one(scenario: Scenario) -> dict[str, Any]:
        count = scenario.count or triggers
        ids = [f"{re.sub(r'[^a-z0-9]+', '-', scenario.name.lower())}-{scenario.kind}-{i}" for i in range(count)]
        _prepare(control, scenario, ids, interval)
        extra: dict[str, Any] = {"max_consecutive_failures": 10_000} if scenario.kind == "vobiz" else {}

        since = datetime.now(timezone.utc).isoformat()

        def make(i: int) -> Any:
            if scenario.deadline is not None:
                extra["deadline"] = time.time() + scenario.deadline * interval
            if scenario.by_room:
                from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

                return ConferenceRecordingTrigger(
                    deadline=time.time() + 3600, conference_name=ids[i], since=since, poll_interval=interval, **extra
                )
            return make_trigger(scenario.kind, ids[i], interval, **extra)

        run = TriggerRun(make, count, interval)
        await asyncio.sleep(window)
        waiting = run.waiting
        # Vobiz events are dicts with a status; HttpSensorTrigger's event is True.
        ended = [event.get("status") if isinstance(event, dict) else event for event in run.events]
        await run.stop()
        log = control.log()
        return {
            "scenario": asdict(scenario),
            "arrivals": _arrivals(log, ids),
            "logged": len(log),
            "waiting": waiting,
            "events": ended,
        }

    async def warm_up() -> None:
        # Imports and the first connection lookup take seconds: not inside a scenario's window.
        for kind in ("vobiz", "http"):

            def make(i: int, kind: str = kind) -> Any:
                return make_trigger(kind, f"warm-up-{kind}", interval)

            run = TriggerRun(make, 1, 0)
            await asyncio.sleep(interval + 0.5)
            await run.stop()

    asyncio.run(warm_up())
    return [asyncio.run(one(scenario)) for scenario in SCENARIOS]


Request = tuple[float, str]  # arrival (wall clock), and "lookup", "page" or "probe"


def _arrivals(log: list[dict[str, Any]], ids: list[str]) -> dict[str, list[Request]]:
    """Each wait's requests, told apart by the recording id in the path or the room in the query;
    listings that name no room (shared by every wait) under ``SHARED``."""
    arrivals: dict[str, list[Request]] = {recording_id: [] for recording_id in ids}
    arrivals[SHARED] = []
    for entry in log:
        query = dict(parse_qsl(entry["query"]))
        if entry["route"] == "recording.list":
            owner = query.get("conference_name", SHARED)
            kind = "lookup" if query.get("offset", "0") == "0" else "page"
        else:
            found = _RECORDING_ID.search(entry["path"])
            owner = found.group(1) if found else ""
            kind = "probe" if entry["route"] == "media" else "lookup"
        if owner in arrivals:
            arrivals[owner].append((entry["received_at"], kind))
    return arrivals


def poll_starts(requests: list[Request]) -> list[float]:
    """When each poll began: a lookup starts one (its further pages belong to it), and so does a
    probe, unless it follows the lookup of a poll that has no probe yet."""
    starts: list[float] = []
    probed = True
    for arrived, kind in sorted(requests):
        if kind == "lookup":
            starts.append(arrived)
            probed = False
        elif kind == "probe":
            if probed:
                starts.append(arrived)
            probed = True
    return starts


def most_in_one_interval(times: list[float], interval: float) -> int:
    """The most of ``times`` within any one poll interval."""
    times = sorted(times)
    most, first = 0, 0
    for last, arrived in enumerate(times):
        while arrived - times[first] >= interval - CLOCK_SLACK:
            first += 1
        most = max(most, last - first + 1)
    return most


def min_gap(times: list[float]) -> float | None:
    times = sorted(times)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return min(gaps) if gaps else None


def run(quick: bool, workdir: Path) -> Table:
    size = QUICK if quick else FULL
    n, interval, window = size["triggers"], size["interval"], size["window"]
    table = Table("trigger pacing: polls per wait per poll interval")
    with fake_server(workdir) as (info, env):
        args = {"base_url": info["base_url"], "triggers": n, "interval": interval, "window": window}
        results = run_child("trigger_pacing:measure", args, env, timeout=len(SCENARIOS) * (window + 30))
    for result in results:
        table.add(_row(Scenario(**result["scenario"]), result, interval))
    table.notes.append(
        f"{n} triggers per scenario (HttpSensorTrigger 403: one), poll interval {interval:g} s, {window:g} s each; "
        "the value is the most polls of one wait within any one interval (a poll: a lookup and at most one probe; "
        "the final poll at a deadline aside), the gap the shortest time between two of its polls"
    )
    table.notes.append("HttpSensorTrigger rows are context (no target): its loop sleeps only after a 404")
    return table


def _row(scenario: Scenario, result: dict[str, Any], interval: float) -> Row:
    arrivals: dict[str, list[Request]] = {key: [tuple(r) for r in value] for key, value in result["arrivals"].items()}
    shared = arrivals.pop(SHARED, [])
    n = len(arrivals)
    who = "ConferenceRecordingTrigger" if scenario.kind == "vobiz" else "HttpSensorTrigger"
    name = f"{who}: {scenario.name}"
    requests = sum(len(requests) for requests in arrivals.values()) + len(shared)
    if result["logged"] >= LOG_LIMIT:
        # The log kept only the last requests: the rate over their span, shared by the waits.
        times = sorted(t for requests in arrivals.values() for t, _ in requests)
        rate = (len(times) - 1) / (times[-1] - times[0]) / n
        return Row(name, rate * interval, "requests per interval per wait", note="the fake's log overflowed")
    if scenario.kind != "vobiz":
        most = max(most_in_one_interval([t for t, _ in requests], interval) for requests in arrivals.values())
        return Row(name, most, "requests in one interval", note=f"{requests} requests")
    # The final poll at the deadline counts as one poll, however soon after the one before.
    final_at_deadline = scenario.ends == "timeout"
    starts = [poll_starts(requests) for requests in arrivals.values()]
    paced = [s[:-1] if final_at_deadline else s for s in starts]
    most = max(most_in_one_interval(s, interval) for s in paced)
    shared_starts = poll_starts(shared)
    if shared_starts:
        most = max(most, most_in_one_interval(shared_starts, interval))
    gaps = [gap for gap in map(min_gap, paced) if gap is not None]
    ended = result["events"]
    behaved = ended == [scenario.ends] * n if scenario.ends else result["waiting"] == n
    if scenario.retry_after and gaps:
        behaved = behaved and min(gaps) >= scenario.retry_after * interval - CLOCK_SLACK
    outcome = f"ended: {', '.join(sorted(set(map(str, ended))))}" if ended else f"{result['waiting']} waiting"
    gap = f", shortest gap {min(gaps):.3f} s" if gaps else ""
    note = f"{sum(map(len, starts))} polls, {requests} requests{gap}; {outcome}"
    polled = all(starts)
    return Row(name, most, "polls in one interval", target="<= 1", passed=most <= 1 and behaved and polled, note=note)
