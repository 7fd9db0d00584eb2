"""Waiting, CPU: ``ConferenceRecordingTrigger`` against the http provider's ``HttpSensorTrigger``.

Target (issue): at most half the steady-state CPU per poll of ``HttpSensorTrigger`` on the same
workload. N triggers of one kind poll a 404 ("not ready") every interval in one asyncio loop in
a fresh process; after two intervals of warm-up, the process's CPU time over a fixed wall window
is divided by the polls the server received in that window (from its request log, read while
the child runs). The server runs in its own process, so its CPU is not counted. Kinds alternate;
the lowest CPU per poll of the repeats counts.

The window is long enough for several full garbage collections (each scans the ~200,000 objects
an Airflow process holds, a few tenths of a millisecond per poll when spread out): in a window
with one or none, that cost lands on one run by luck.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.control import FakeControl, LogCollector
from benchmarks.procs import run_child
from benchmarks.report import Row, Table, verdict
from benchmarks.workload import TRIGGER_KINDS, TriggerRun, fake_server, make_trigger

TARGET_RATIO = 0.5
FULL = {"triggers": 200, "interval": 0.5, "window": 10.0, "repeats": 2}
QUICK = {"triggers": 200, "interval": 0.5, "window": 3.0, "repeats": 1}


def measure(kind: str, triggers: int, interval: float, window: float) -> dict[str, Any]:
    """In a child: run ``triggers`` triggers of ``kind``; the CPU seconds of a window after warm-up."""

    async def main() -> dict[str, Any]:
        run = TriggerRun(lambda i: make_trigger(kind, f"missing-{kind}-{i}", interval), triggers, interval)
        await asyncio.sleep(2 * interval)  # every trigger has started and polled: imports and sessions are done
        started, cpu = time.time(), time.process_time()
        await asyncio.sleep(window)
        result = {"start": started, "end": time.time(), "cpu": time.process_time() - cpu, "waiting": run.waiting}
        await run.stop()
        return result

    return asyncio.run(main())


def run(quick: bool, workdir: Path) -> Table:
    size = QUICK if quick else FULL
    n, interval, window = size["triggers"], size["interval"], size["window"]
    table = Table("trigger CPU per poll: ConferenceRecordingTrigger vs HttpSensorTrigger", "")
    per_poll: dict[str, list[float]] = {kind: [] for kind in TRIGGER_KINDS}
    polls: dict[str, list[int]] = {kind: [] for kind in TRIGGER_KINDS}
    with fake_server(workdir) as (info, env):
        control = FakeControl(info["base_url"])
        for _ in range(size["repeats"]):
            for kind in TRIGGER_KINDS:
                args = {"kind": kind, "triggers": n, "interval": interval, "window": window}
                with LogCollector(control) as log:
                    result = run_child("trigger_cpu:measure", args, env, timeout=window + 8 * interval + 60)
                if result["waiting"] != n:
                    raise RuntimeError(f"{kind}: only {result['waiting']} of {n} triggers were still waiting")
                counted = log.count(result["start"], result["end"])
                per_poll[kind].append(result["cpu"] / max(counted, 1))
                polls[kind].append(counted)
    http, vobiz = min(per_poll["http"]), min(per_poll["vobiz"])
    table.add(Row("HttpSensorTrigger CPU per poll", f"{http * 1000:.2f} ms"))
    ratio = vobiz / http
    table.add(
        Row(
            "ConferenceRecordingTrigger CPU per poll",
            f"{vobiz * 1000:.2f} ms",
            f"HttpSensorTrigger {http * 1000:.2f} ms",
            f"{ratio:.2f}x",
            f"<= {TARGET_RATIO:.2f}x",
            verdict(ratio <= TARGET_RATIO),
        )
    )
    table.notes.append(
        f"{n} triggers of one kind per process, a 404 per poll every {interval:g} s, CPU over a {window:g} s window "
        f"after {2 * interval:g} s of warm-up; the lowest of {size['repeats']} run(s) per kind, kinds alternating"
    )
    for kind in TRIGGER_KINDS:
        runs = ", ".join(
            f"{cpu * 1000:.2f} ms ({count} polls)" for cpu, count in zip(per_poll[kind], polls[kind], strict=True)
        )
        table.notes.append(f"{kind} runs: {runs}")
    return table
