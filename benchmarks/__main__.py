"""``python -m benchmarks [--quick] [download | trigger | trigger-cpu | trigger-memory | trigger-pacing | watchers]``.

Runs the benchmarks named (all by default), prints one table each, and exits 1 if any target
fails (or a benchmark cannot run), 0 otherwise. ``--quick`` runs smaller sizes for a smoke check.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.report import Table

# Each name runs these modules, in order; every module has run(quick, workdir) -> Table.
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "download": ("download",),
    "trigger-cpu": ("trigger_cpu",),
    "trigger-memory": ("trigger_memory",),
    "trigger-pacing": ("trigger_pacing",),
    "watchers": ("watchers",),
}
BENCHMARKS["trigger"] = BENCHMARKS["trigger-cpu"] + BENCHMARKS["trigger-memory"] + BENCHMARKS["trigger-pacing"]
DEFAULT = ("download", "trigger", "watchers")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke check under a minute")
    return parser


def run_module(module: str, quick: bool, command: str) -> bool:
    """Run one benchmark module and print its table; True when no target failed."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"vobiz-bench-{module}-") as workdir:
        try:
            table: Table = importlib.import_module(f"benchmarks.{module}").run(quick, Path(workdir))
        except Exception:
            print(f"== {module}: FAIL, the benchmark could not run\n   command: {command}", flush=True)
            print(traceback.format_exc(), flush=True)
            return False
    table.command = command
    table.notes.append(f"took {time.monotonic() - started:.0f} s")
    print(table.render() + "\n", flush=True)
    return not table.failed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = args.names or list(DEFAULT)
    quick = " --quick" if args.quick else ""
    modules = dict.fromkeys(module for name in names for module in BENCHMARKS[name])
    ok = True
    for module in modules:
        name = next(key for key, value in BENCHMARKS.items() if value == (module,))
        ok = run_module(module, args.quick, f".venv/bin/python -m benchmarks{quick} {name}") and ok
    print("benchmarks: all targets met" if ok else "benchmarks: some targets FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
