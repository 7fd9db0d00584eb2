"""``python -m benchmarks.child MODULE:FUNCTION JSON``: run one measurement in a fresh interpreter.

Calls ``benchmarks.MODULE.FUNCTION(**json)`` and prints its JSON-able result on a line of its
own, marked so that log lines on stdout do not confuse the parent.
"""

from __future__ import annotations

import importlib
import json
import sys

from benchmarks.procs import RESULT_MARK


def main(argv: list[str]) -> int:
    target, raw_args = argv
    module, _, function = target.partition(":")
    result = getattr(importlib.import_module(f"benchmarks.{module}"), function)(**json.loads(raw_args))
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
