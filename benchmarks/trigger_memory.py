"""Waiting, memory: 1,000 concurrent ``ConferenceRecordingTrigger`` waits in one process.

Target (issue): at most 25 MB for 1,000 concurrent waits in one triggerer. A fresh process
imports everything and runs one trigger through a poll (warm-up), then its RSS is taken and its
peak reset; 1,000 triggers start (spread over one poll interval) and poll a 404 every interval
for the window. The growth is the peak RSS during the window minus the RSS before.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from benchmarks.control import FakeControl
from benchmarks.procs import run_child
from benchmarks.report import MB, Row, Table, mb, verdict
from benchmarks.workload import TriggerRun, fake_server, make_trigger

TARGET_BYTES = 25 * MB
WAITS = 1000
FULL = {"interval": 5.0, "window": 18.0}
QUICK = {"interval": 4.0, "window": 6.0}


def measure(waits: int, interval: float, window: float) -> dict[str, Any]:
    """In a child: RSS before, at the end, and at the peak of ``waits`` concurrent triggers."""
    from benchmarks.memory import peak_rss, rss_now, start_peak

    async def main() -> dict[str, Any]:
        warmup = TriggerRun(lambda i: make_trigger("vobiz", "missing-warmup", interval), 1, 0)
        await asyncio.sleep(min(1.0, interval / 2))
        await warmup.stop()
        before = start_peak()
        run = TriggerRun(lambda i: make_trigger("vobiz", f"missing-{i}", interval), waits, interval)
        await asyncio.sleep(window)
        result = {"before": before, "end": rss_now(), "peak": peak_rss(), "waiting": run.waiting}
        await run.stop()
        return result

    return asyncio.run(main())


def run(quick: bool, workdir: Path) -> Table:
    size = QUICK if quick else FULL
    interval, window = size["interval"], size["window"]
    table = Table(f"trigger memory: {WAITS:,} concurrent ConferenceRecordingTrigger waits", "")
    with fake_server(workdir) as (info, env):
        control = FakeControl(info["base_url"])
        args = {"waits": WAITS, "interval": interval, "window": window}
        result = run_child("trigger_memory:measure", args, env, timeout=window + 120)
        log = control.log()
    growth, end = result["peak"] - result["before"], result["end"] - result["before"]
    table.add(
        Row(
            f"RSS growth at the peak, {WAITS:,} waits",
            mb(growth),
            f"RSS before {mb(result['before'])}",
            f"{growth / TARGET_BYTES:.2f} of target",
            f"<= {mb(TARGET_BYTES)}",
            verdict(growth <= TARGET_BYTES and result["waiting"] == WAITS),
        )
    )
    table.add(Row("RSS growth at the end of the window", mb(end), per_wait(end)))
    table.add(Row("waits still waiting at the end", f"{result['waiting']:,} of {WAITS:,}"))
    if len(log) > 1:
        span = log[-1]["received_at"] - log[0]["received_at"]
        table.add(
            Row(
                "poll rate at the server (last requests)",
                f"{(len(log) - 1) / span:.0f}/s",
                f"{WAITS / interval:.0f}/s expected",
            )
        )
    table.notes.append(f"poll interval {interval:g} s, starts spread over one interval, {window:g} s window")
    return table


def per_wait(n_bytes: int) -> str:
    return f"{n_bytes / WAITS / 1024:.1f} KiB per wait"
