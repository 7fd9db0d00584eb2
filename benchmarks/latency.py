"""Waiting over a real network: N waits on one account whose files become ready together, with
150 ms added to every request, against the same run at 0 ms.

The end-of-day sweep again, at a network's latency: N deferred ``ConferenceRecordingTrigger``
waits, one per room, on one Vobiz account in one asyncio loop (a child process, as a triggerer
runs them), against the fake Vobiz server in its own process. Their recordings are still being
processed when the waits start (no rows yet); once every wait has started and polled, all N rows
appear at once with their files ready. The fake then adds ``latency`` seconds to every API and
media request (``set_latency("*", ...)``).

Targets (issue 21):

- every wait succeeds;
- the latency adds at most 2.5 s to the slowest wait's success (a list read and a file probe at
  that latency, with room to spare), success measured from the moment the files became ready;
- list requests per poll interval, before the files are ready, stay at one listing's pages
  (independent of N).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.control import FakeControl, LogCollector
from benchmarks.procs import run_child
from benchmarks.report import Row, Table, at_most
from benchmarks.scale import one_interval
from benchmarks.workload import TriggerRun, fake_server

LATENCY = 0.150  # seconds added to every request: a real network's round trip, and then some
MAX_ADDED_S = 2.5  # what the latency may add to the slowest wait's success
PAGES_BEFORE = 1  # list pages of one listing while no row is visible yet
FULL: dict[str, Any] = {"n": 1000, "interval": 10.0}
QUICK: dict[str, Any] = {"n": 200, "interval": 5.0}


def room(i: int) -> str:
    return f"Sweep room {i:04d}"


def prepare_account(control: FakeControl, n: int, latency: float) -> None:
    """N recordings, one per room, held in processing until :meth:`FakeControl.finish_processing`."""
    control.reset()
    control.configure(processing_delay_s=24 * 3600, file_delay_s=0)
    for i in range(n):
        control.add_recording(conference_name=room(i), ready=False)
    control.set_latency("*", latency)


def measure(n: int, interval: float, base_url: str, since: str) -> dict[str, Any]:
    """In a child: N waits started over one interval; once each has polled and one more interval
    has passed, every file becomes ready at once; when each wait succeeded, in seconds after that."""
    from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

    control = FakeControl(base_url)

    def make(i: int) -> ConferenceRecordingTrigger:
        return ConferenceRecordingTrigger(
            deadline=time.time() + 3600, conference_name=room(i), since=since, poll_interval=interval
        )

    async def run() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        warm = TriggerRun(lambda i: make(10**6), 1, 0)  # imports and the first look-up: not measured
        await asyncio.sleep(1.5)
        await warm.stop()
        waits = TriggerRun(make, n, interval)
        await asyncio.sleep(2 * interval)  # every wait started and polled; then a steady interval
        ready_at = time.time()
        await loop.run_in_executor(None, control.finish_processing)
        deadline = ready_at + 3 * interval + 30
        while waits.waiting and time.time() < deadline:
            await asyncio.sleep(0.1)
        still_waiting = waits.waiting
        await waits.stop()
        return {
            "n": n,
            "interval": interval,
            "ready_at": ready_at,
            "after_ready": [
                ended - ready_at
                for ended, event in zip(waits.ended, waits.events, strict=True)
                if event.get("status") == "success"
            ],
            "statuses": [event.get("status") for event in waits.events],
            "waiting": still_waiting,
        }

    return asyncio.run(run())


def measure_latencies(workdir: Path, n: int, interval: float, latencies: tuple[float, ...]) -> list[dict[str, Any]]:
    """One child per latency, each against a freshly prepared account; with the list requests of
    the interval before the files became ready."""
    results = []
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    timeout = 6 * interval + 240 + n * 0.1
    with fake_server(workdir, max_seconds=len(latencies) * (timeout + 120)) as (info, env):
        control = FakeControl(info["base_url"])
        for latency in latencies:
            prepare_account(control, n, latency)
            args = {"n": n, "interval": interval, "base_url": info["base_url"], "since": since}
            with LogCollector(control, period=0.5) as log:
                result = run_child("latency:measure", args, env, timeout=timeout)
            start = result["ready_at"] - interval
            result["latency"] = latency
            result["requests"] = dict(one_interval(log.between(start, result["ready_at"]), start, interval))
            results.append(result)
    return results


def run(quick: bool, workdir: Path) -> Table:
    size = QUICK if quick else FULL
    results = measure_latencies(workdir, size["n"], size["interval"], (0.0, LATENCY))
    table = Table(
        f"waiting over a network: {LATENCY * 1000:g} ms on every request, N waits whose files are ready at once"
    )
    add_rows(table, results)
    table.notes.append(
        f"N = {size['n']:,} waits, one per room, poll interval {size['interval']:g} s, started over one interval; "
        "their rows appear together with their files ready once each has polled; times from that moment"
    )
    return table


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def add_rows(table: Table, results: list[dict[str, Any]]) -> None:
    """Rows per run (successes, p50/p90/max after the files, list requests) and the latency's cost."""
    slowest: dict[float, float] = {}
    for result in results:
        n, latency, times = result["n"], result["latency"], result["after_ready"]
        where = f"N={n:,}, {latency * 1000:g} ms"
        succeeded = sum(status == "success" for status in result["statuses"])
        table.add(Row(f"waits that succeeded, {where}", succeeded, target=f"= {n:,}", passed=succeeded == n))
        for name, fraction in (("p50", 0.5), ("p90", 0.9)):
            table.add(Row(f"success after the files were ready, {name}, {where}", percentile(times, fraction), "s"))
        slowest[latency] = max(times, default=float("inf"))
        median = statistics.median(times) if times else 0.0
        table.add(
            Row(
                f"success after the files were ready, max, {where}",
                slowest[latency],
                "s",
                note=f"mean {statistics.fmean(times) if times else 0:.2f} s, median {median:.2f} s",
            )
        )
        requests = result["requests"]
        table.add(
            at_most(
                f"list requests in the interval before, {where}",
                float(requests.get("list", 0)),
                PAGES_BEFORE,
                "",
                f"<= {PAGES_BEFORE}",
                note=f"{requests.get('rounds', 0)} listing(s) began in it",
            )
        )
    if len(slowest) >= 2:
        low, high = min(slowest), max(slowest)
        added = slowest[high] - slowest[low]
        table.add(
            Row(
                f"what {high * 1000:g} ms adds to the slowest wait's success",
                added,
                "s",
                baseline=slowest[low],
                baseline_of=f"max at {low * 1000:g} ms",
                target=f"<= {MAX_ADDED_S:g} s",
                passed=added <= MAX_ADDED_S,
            )
        )
