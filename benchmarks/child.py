"""``python -m benchmarks.child MODULE:FUNCTION JSON``: run one measurement in a fresh interpreter.

Calls ``benchmarks.MODULE.FUNCTION(**json)`` and prints its JSON-able result on a line of its
own, marked so that log lines on stdout do not confuse the parent. On ``SIGUSR1`` (the parent's
last word before it kills a child that ran out of time) it writes every thread's stack and every
asyncio task's to stderr, which the parent's error then shows.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
import sys
import traceback
from types import FrameType

from benchmarks.procs import RESULT_MARK


def _dump_stacks(signum: int, frame: FrameType | None) -> None:
    for thread_id, thread_frame in sys._current_frames().items():
        print(f"-- thread {thread_id}", file=sys.stderr)
        traceback.print_stack(thread_frame, file=sys.stderr)
    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:  # no loop running
        tasks = set()
    for task in tasks:
        print(f"-- {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGUSR1, _dump_stacks)
    target, raw_args = argv
    module, _, function = target.partition(":")
    result = getattr(importlib.import_module(f"benchmarks.{module}"), function)(**json.loads(raw_args))
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
