"""Waiting, CPU: ``ConferenceRecordingTrigger`` against the http provider's ``HttpSensorTrigger``.

Target (issue): at most half the steady-state CPU per poll of ``HttpSensorTrigger`` on the same
workload. N triggers of one kind poll a 404 ("not ready") every interval in one asyncio loop in
a fresh process; after one full interval of warm-up, the process's CPU time over a fixed wall
window is divided by the polls the server received in that window (from its request log). The
server runs in its own process, so its CPU is not counted. Kinds alternate; the lowest CPU per
poll of the repeats counts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.control import FakeControl
from benchmarks.procs import run_child
from benchmarks.report import Row, Table, Verdict, verdict
from benchmarks.workload import TRIGGER_KINDS, TriggerRun, fake_server, make_trigger

TARGET_RATIO = 0.5
LOG_LIMIT = 1000  # the fake server keeps the last 1000 requests: every counted one must be there
FULL = {"triggers": 100, "interval": 2.0, "window": 12.0, "repeats": 2}
QUICK = {"triggers": 50, "interval": 1.0, "window": 3.0, "repeats": 1}


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
    best: dict[str, float] = {}
    polls: dict[str, int] = {}
    with fake_server(workdir) as (info, env):
        control = FakeControl(info["base_url"])
        for _ in range(size["repeats"]):
            for kind in TRIGGER_KINDS:
                control.clear_log()
                args = {"kind": kind, "triggers": n, "interval": interval, "window": window}
                result = run_child("trigger_cpu:measure", args, env, timeout=window + 8 * interval + 60)
                log = control.log()
                if len(log) >= LOG_LIMIT:
                    raise RuntimeError(f"{len(log)} requests: more than the fake's log keeps; lower the load")
                if result["waiting"] != n:
                    raise RuntimeError(f"{kind}: only {result['waiting']} of {n} triggers were still waiting")
                counted = sum(result["start"] <= entry["received_at"] < result["end"] for entry in log)
                if counted and result["cpu"] / counted < best.get(kind, float("inf")):
                    best[kind], polls[kind] = result["cpu"] / counted, counted
    http, vobiz = best["http"], best["vobiz"]
    table.add(Row("HttpSensorTrigger CPU per poll", f"{http * 1000:.2f} ms", "", "", "", Verdict.INFO))
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
        f"{n} triggers, one 404 per poll every {interval:g} s, {window:g} s window after {2 * interval:g} s of "
        f"warm-up; polls counted at the server: http {polls['http']}, vobiz {polls['vobiz']}; "
        f"lowest of {size['repeats']} run(s) per kind"
    )
    return table
