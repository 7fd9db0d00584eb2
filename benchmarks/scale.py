"""Waiting at scale: API requests and trigger CPU per poll interval with N waits on one account.

The end-of-day sweep: N deferred ``ConferenceRecordingTrigger`` waits, one per room, on one
Vobiz account, in one asyncio loop (as one triggerer runs them), against the fake Vobiz server
in its own process. The account holds 250 recordings since the oldest wait's ``since`` (and 50
older ones), and the fake ignores list filters, as Vobiz may: whoever lists pages back through
all of them. Every tenth wait's room already has its row, with a file that is not ready yet (so
it is probed); the others' rows have not appeared. ``HttpSensorTrigger`` (http provider)
polling the same server at the same interval, one 404 per wait per poll, is the baseline.

Targets (issue 15), counted from the fake server's request log over one poll interval in the
steady state (every wait started and polled once):

- list requests per interval: at most the pages one listing needs (independent of N);
- file probes per interval: at most one per wait whose row was found;
- trigger CPU per wait per interval at N = 1,000: at most 0.1x ``HttpSensorTrigger``'s.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from benchmarks.control import FakeControl, LogCollector
from benchmarks.procs import run_child
from benchmarks.report import Row, Table, at_most, compared
from benchmarks.workload import TRIGGER_KINDS, TriggerRun, fake_server, make_trigger

SINCE_ROWS, OLDER_ROWS = 250, 50
PAGE_SIZE = 100  # the most rows a list page holds (Vobiz's documented cap, the fake's too)
PAGES_NEEDED = math.ceil(SINCE_ROWS / PAGE_SIZE)
FOUND_EVERY = 10  # wait i's row exists (file not ready) when i % 10 == 9
CPU_TARGET_RATIO = 0.10
CPU_TARGET_N = 1000
ROOM_SINCE_STEP = timedelta(minutes=6)  # wait i's since: the oldest + (i % 10) steps
HISTORY = timedelta(hours=3)  # the oldest since, before now
# Children of (N, poll interval s, window s); smaller N share one child to save its start-up. At
# N = 1,000, HttpSensorTrigger's 1,000 requests per interval keep the fake server busy for seconds,
# hence the longer interval there.
# The window is two intervals and a little: the listing the count starts from begins up to an
# interval and a tenth after the window opens (see one_interval), and its pages arrive after that.
FULL = (((1, 5.0, 12.0), (10, 5.0, 12.0), (100, 5.0, 12.0)), ((1000, 10.0, 23.0),))
QUICK = (((1, 2.0, 5.0), (10, 2.0, 5.0), (100, 3.0, 7.0)),)


def room(i: int) -> str:
    return f"Room {i:04d}"


def found_waits(n: int) -> int:
    """How many of waits 0..n-1 have their row on the account (their file is probed)."""
    return sum(i % FOUND_EVERY == FOUND_EVERY - 1 for i in range(n))


def prepare_account(control: FakeControl, most_waits: int, oldest_since: datetime) -> None:
    """250 conference recordings since ``oldest_since`` (the found waits' rows among them) and 50 older."""
    control.reset()
    control.configure(list_filters="ignore", processing_delay_s=0, file_delay_s=24 * 3600)
    found = [i for i in range(most_waits) if i % FOUND_EVERY == FOUND_EVERY - 1]
    if len(found) > SINCE_ROWS:
        raise ValueError(f"{len(found)} found waits do not fit in {SINCE_ROWS} recordings")
    span = datetime.now(timezone.utc) - timedelta(minutes=1) - oldest_since
    for k in range(SINCE_ROWS):
        # Rows spread evenly since the oldest since; a found wait's row is in the newer half, after its since.
        if k < len(found):
            name, when = room(found[k]), oldest_since + span / 2 + span / 2 * k / len(found)
        else:
            name, when = f"Other {k:04d}", oldest_since + span * (k - len(found)) / (SINCE_ROWS - len(found))
        control.add_recording(conference_name=name, add_time=when.isoformat(), ready=False)
    for k in range(OLDER_ROWS):
        when = oldest_since - timedelta(minutes=5 * (k + 1))
        control.add_recording(conference_name=f"Earlier {k:04d}", add_time=when.isoformat())


def measure(kind: str, sizes: list[list[float]], oldest_since: str) -> list[dict[str, Any]]:
    """In a child: for each (N, interval, window), N triggers of ``kind`` started over one interval;
    the process's CPU seconds over ``window`` once every wait has polled."""
    base = datetime.fromisoformat(oldest_since)

    def make(i: int, interval: float) -> Any:
        if kind == "http":
            return make_trigger("http", f"missing-http-{i}", interval)
        from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

        since = base + ROOM_SINCE_STEP * (i % FOUND_EVERY)
        return ConferenceRecordingTrigger(
            deadline=time.time() + 3600, conference_name=room(i), since=since.isoformat(), poll_interval=interval
        )

    async def one(n: int, interval: float, window: float) -> dict[str, Any]:
        run = TriggerRun(lambda i: make(i, interval), n, interval)
        # The window opens once the last wait has started and made its first poll.
        await asyncio.sleep(interval * (n - 1) / n + min(2.0, interval / 4))
        started, cpu = time.time(), time.process_time()
        await asyncio.sleep(window)
        ended, used = time.time(), time.process_time() - cpu
        waiting = run.waiting
        await run.stop()
        return {"n": n, "interval": interval, "start": started, "end": ended, "cpu": used, "waiting": waiting}

    async def warm_up() -> None:
        # Imports and the first connection lookup take seconds: not inside a measured window.
        run = TriggerRun(lambda i: make(10**6, 1.0), 1, 0)
        await asyncio.sleep(1.5)
        await run.stop()

    asyncio.run(warm_up())
    return [asyncio.run(one(int(n), interval, window)) for n, interval, window in sizes]


def one_interval(entries: list[dict[str, Any]], start: float, interval: float) -> Counter[str]:
    """The requests of one poll interval, by what they ask: ``list`` (every page of the listings
    that began in it, later pages included), ``rounds`` (those listings), ``probe`` (file probes),
    ``get`` (rows by id), ``other``.

    Listings are counted over one interval from the first listing that begins at or after
    ``start``: each wait sleeps an interval and up to a tenth more (the wake-up grid), so shared
    reads come every 1 to 1.1 intervals, and an interval from ``start`` itself may hold none. Any
    read more than the one per interval (a wait listing on its own) begins inside it and counts.
    Other requests, spread over the interval, are counted over one interval from ``start``.
    """
    counts: Counter[str] = Counter()
    firsts = [e["received_at"] for e in entries if e["route"] == "recording.list" and _offset(e) == "0"]
    list_start = min((at for at in firsts if at >= start), default=start)
    listing_counted: dict[str, bool] = {}  # per owner (the room in the query, or none): its last listing's
    for entry in entries:
        arrived = entry["received_at"]
        within = start <= arrived < start + interval
        if entry["route"] == "recording.list":
            within = list_start <= arrived < list_start + interval
            owner = dict(parse_qsl(entry["query"])).get("conference_name", "")
            if _offset(entry) == "0":
                listing_counted[owner] = within
                counts["rounds"] += within
            counts["list"] += listing_counted.get(owner, False)
        elif within:
            counts[{"media": "probe", "recording.get": "get"}.get(entry["route"], "other")] += 1
    return counts


def _offset(entry: dict[str, Any]) -> str:
    return dict(parse_qsl(entry["query"])).get("offset", "0")


def run(quick: bool, workdir: Path) -> Table:
    children = QUICK if quick else FULL
    sizes = [size for child in children for size in child]
    table = Table("waiting at scale: requests and trigger CPU per poll interval, N waits on one account")
    oldest_since = (datetime.now(timezone.utc) - HISTORY).replace(microsecond=0)
    results: dict[str, list[dict[str, Any]]] = {}
    max_seconds = 300 + sum(3 * (interval + window) + 60 for _, interval, window in sizes) * len(TRIGGER_KINDS)
    with fake_server(workdir, max_seconds=max_seconds) as (info, env):
        control = FakeControl(info["base_url"])
        prepare_account(control, max(int(n) for n, _, _ in sizes), oldest_since)
        for kind in TRIGGER_KINDS:
            results[kind] = []
            for child in children:
                args = {"kind": kind, "sizes": [list(size) for size in child], "oldest_since": oldest_since.isoformat()}
                # Generous: today's 1,000 waits can keep a loaded 2-core machine busy for minutes.
                timeout = sum(3 * (interval + window) + 60 for _, interval, window in child) + 120
                with LogCollector(control, period=0.5) as log:
                    measured = run_child("scale:measure", args, env, timeout=timeout)
                for result in measured:
                    entries = log.between(result["start"], result["end"])
                    result["requests"] = dict(one_interval(entries, result["start"], result["interval"]))
                    results[kind].append(result)
    _rows(table, results)
    table.notes.append(
        f"account: {SINCE_ROWS} recordings since the oldest since, {OLDER_ROWS} older, list filters ignored, "
        f"{PAGE_SIZE} rows a page; wait i waits for room i with since = oldest + {i_step()} x (i % 10); "
        "every tenth wait's row exists with its file not ready (probed)"
    )
    table.notes.append(
        "counts: the requests of one interval (list pages: from the first listing in the window, its later "
        "pages with it; other requests: from the window's start); "
        "CPU: over the whole window; starts spread over one interval, the window opens once the last wait "
        "has started and polled"
    )
    return table


def i_step() -> str:
    return f"{ROOM_SINCE_STEP.total_seconds() / 60:g} min"


def _per_interval(result: dict[str, Any], kind: str) -> float:
    return float(result["requests"].get(kind, 0))


def _cpu_per_wait_ms(result: dict[str, Any]) -> float:
    intervals = (result["end"] - result["start"]) / result["interval"]
    return float(result["cpu"]) / result["n"] / intervals * 1000


def _rows(table: Table, results: dict[str, list[dict[str, Any]]]) -> None:
    series: dict[str, list[float]] = {"n": [], "list": [], "probe": [], "vobiz": [], "http": [], "ideal": []}
    cpu: dict[str, list[float]] = {"n": [], "vobiz": [], "http": []}
    for ours, http in zip(results["vobiz"], results["http"], strict=True):
        n, interval = ours["n"], ours["interval"]
        for result, kind in ((ours, "ConferenceRecordingTrigger"), (http, "HttpSensorTrigger")):
            if result["waiting"] != n:
                table.add(
                    Row(f"{kind}, N={n:,}: waits still waiting", result["waiting"], target=f"= {n}", passed=False)
                )
        lists, probes = _per_interval(ours, "list"), _per_interval(ours, "probe")
        others = _per_interval(ours, "get") + _per_interval(ours, "other")
        baseline = sum(_per_interval(http, kind) for kind in ("list", "probe", "get", "other"))
        found = found_waits(n)
        where = f"N={n:,}, every {interval:g} s"
        # Waits without their row list every interval: no listing in the window means nothing was measured.
        listed = _per_interval(ours, "rounds") > 0
        table.add(
            Row(
                f"list requests per interval, {where}",
                lists,
                ratio=lists / PAGES_NEEDED,
                target=f"<= {PAGES_NEEDED}",
                passed=listed and lists <= PAGES_NEEDED,
                note="" if listed else "no listing began in the window",
            )
        )
        table.add(at_most(f"file probes per interval, {where}", probes, found or 0.0, "", f"<= {found}"))
        if others:
            table.add(Row(f"other requests per interval, {where}", others, note="row lookups by id, unexpected"))
        table.add(
            Row(
                f"all requests per interval, {where}",
                lists + probes + others,
                baseline=baseline,
                baseline_of="HttpSensorTrigger",
                ratio=(lists + probes + others) / baseline if baseline else None,
                note=f"{_per_interval(ours, 'rounds'):.0f} listings started in the interval "
                f"({n - found} waits without their row)",
            )
        )
        series["n"].append(n)
        series["list"].append(lists)
        series["probe"].append(probes)
        series["vobiz"].append(lists + probes + others)
        series["http"].append(baseline)
        series["ideal"].append(PAGES_NEEDED + found)
        ours_cpu, http_cpu = _cpu_per_wait_ms(ours), _cpu_per_wait_ms(http)
        cpu["n"].append(n)
        cpu["vobiz"].append(ours_cpu)
        cpu["http"].append(http_cpu)
        if n == CPU_TARGET_N:
            table.add(
                compared(
                    f"trigger CPU per wait per interval, {where}",
                    ours_cpu,
                    http_cpu,
                    "HttpSensorTrigger",
                    "ms",
                    at_most_ratio=CPU_TARGET_RATIO,
                )
            )
        else:
            table.add(
                compared(f"trigger CPU per wait per interval, {where}", ours_cpu, http_cpu, "HttpSensorTrigger", "ms")
            )
    if CPU_TARGET_N not in cpu["n"]:
        table.notes.append(f"--quick: N = {CPU_TARGET_N:,} (the CPU target) is not run")
    table.series["requests_per_interval"] = series
    table.series["cpu_per_wait"] = cpu
