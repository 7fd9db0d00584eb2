"""Waiting, memory: the triggerer's memory per wait with 1,000 and 10,000 concurrent waits.

Target (issue 15): at most 10 KiB per wait (peak RSS growth / N) at N = 1,000 and N = 10,000.
A fresh process imports everything and runs one trigger through a poll (warm-up), then its RSS
is taken and its peak reset; N ``ConferenceRecordingTrigger`` waits for N rooms start, spread
over one poll interval, and poll for the window (every wait polls at least once). The growth is
the peak RSS during the window minus the RSS before, divided by N.

The account's list holds no recording since the waits' ``since``: each listing is one short page.
At N = 10,000 the sweep's account of :mod:`benchmarks.scale` would cost today's triggers some
25,000 pages per interval, more than the fake server answers in minutes; memory per wait is
what a wait holds while it waits, which a short page measures as well.
"""

from __future__ import annotations

import asyncio
import resource
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.control import FakeControl, LogCollector
from benchmarks.procs import run_child
from benchmarks.report import KIB, MB, Row, Table, at_most
from benchmarks.workload import TriggerRun, fake_server

TARGET_KIB = 10.0
# (N, poll interval s, window s): the window covers the starts, spread over one interval, and
# the first poll of each wait (today that poll also looks the connection up and opens a session:
# some 5-15 ms a wait on this 2-core machine, so 10,000 waits need most of a minute to start).
FULL = ((1000, 5.0, 12.0), (10_000, 30.0, 50.0))
QUICK = ((1000, 4.0, 8.0),)


def measure(waits: int, interval: float, window: float, since: str) -> dict[str, Any]:
    """In a child: RSS before, at the end, and at the peak of ``waits`` concurrent waits."""
    from benchmarks.memory import peak_rss, rss_now, start_peak
    from vobiz_provider.triggers.recording import ConferenceRecordingTrigger

    # Today's waits each keep a connection open: N sockets in this process and in the server's.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * waits + 1024)), hard))

    def make(i: int) -> ConferenceRecordingTrigger:
        return ConferenceRecordingTrigger(
            deadline=time.time() + 3600, conference_name=f"Room {i:05d}", since=since, poll_interval=interval
        )

    async def main() -> dict[str, Any]:
        warmup = TriggerRun(lambda i: make(10**6), 1, 0)
        await asyncio.sleep(min(1.0, interval / 2))
        await warmup.stop()
        before = start_peak()
        run = TriggerRun(make, waits, interval)
        await asyncio.sleep(window)
        stop = time.time()
        result = {"before": before, "end": rss_now(), "peak": peak_rss(), "waiting": run.waiting}
        await run.stop()
        return {**result, "start": stop - window, "stop": stop}

    return asyncio.run(main())


def run(quick: bool, workdir: Path) -> Table:
    sizes = QUICK if quick else FULL
    table = Table("trigger memory: peak RSS growth per concurrent ConferenceRecordingTrigger wait")
    series: dict[str, Any] = {"n": [], "vobiz": [], "target_kib": TARGET_KIB}
    since = (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat()
    max_seconds = sum(window + 180 for _, _, window in sizes)
    with fake_server(workdir, max_seconds=max_seconds) as (info, env):
        control = FakeControl(info["base_url"])
        for waits, interval, window in sizes:
            control.reset()
            control.configure(processing_delay_s=0)
            args = {"waits": waits, "interval": interval, "window": window, "since": since}
            with LogCollector(control, period=0.5) as log:
                result = run_child("trigger_memory:measure", args, env, timeout=window + 240)
            growth = result["peak"] - result["before"]
            per_wait = growth / waits / KIB
            entries = log.between(result["start"], result["stop"])
            polled = len({entry["query"] for entry in entries if "conference_name=" in entry["query"]})
            note = (
                f"RSS before {result['before'] / MB:.0f} MB, growth {growth / MB:.1f} MB at the peak, "
                f"{(result['end'] - result['before']) / MB:.1f} MB at the end; {len(entries):,} requests in the "
                f"window, from {polled:,} waits that name their room"
            )
            table.add(
                at_most(f"memory per wait, N={waits:,}", per_wait, TARGET_KIB, "KiB", f"<= {TARGET_KIB:g} KiB", note)
            )
            if result["waiting"] != waits:
                table.add(
                    Row(f"waits still waiting, N={waits:,}", result["waiting"], target=f"= {waits}", passed=False)
                )
            series["n"].append(waits)
            series["vobiz"].append(per_wait)
            table.notes.append(
                f"N={waits:,}: poll interval {interval:g} s, starts spread over one interval, {window:g} s window"
            )
    table.series["memory_per_wait"] = series
    return table
