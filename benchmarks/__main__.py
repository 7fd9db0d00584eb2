"""``python -m benchmarks [--quick] [NAME ...]``: run the benchmarks, print a table each, write the results.

Runs the benchmarks named (all by default), prints one table each, writes
``benchmarks/results.json`` and the plots in ``docs/img/`` (for a full run of everything; a
partial or ``--quick`` run writes them under the temporary folder it names, so it never
replaces a full run's), and exits 1 if any target fails (or a benchmark cannot run), 0 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.procs import REPO
from benchmarks.report import Row, Table, write_results, write_series

# Each name is a module with run(quick, workdir) -> Table.
BENCHMARKS = {
    "scale": "scale",
    "latency": "latency",
    "trigger-memory": "trigger_memory",
    "trigger-pacing": "trigger_pacing",
    "watchers": "watchers",
    "download": "download",
    "dag-parse": "dag_parse",
}
RESULTS = REPO / "benchmarks" / "results.json"
SERIES = REPO / "benchmarks" / "series.json"
IMAGES = REPO / "docs" / "img"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke check of a few minutes")
    return parser


def run_one(name: str, quick: bool) -> Table:
    """Run one benchmark and print its table; a benchmark that cannot run is a table with one FAIL row."""
    command = f".venv/bin/python -m benchmarks{' --quick' if quick else ''} {name}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"vobiz-bench-{name}-") as workdir:
        try:
            table: Table = importlib.import_module(f"benchmarks.{BENCHMARKS[name]}").run(quick, Path(workdir))
        except Exception:
            table = Table(name, rows=[Row(f"{name}: the benchmark ran to the end", 0, passed=False)])
            table.notes.extend(traceback.format_exc().splitlines())
    table.command = command
    table.notes.append(f"took {time.monotonic() - started:.0f} s")
    print(table.render() + "\n", flush=True)
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = list(dict.fromkeys(args.names or BENCHMARKS))
    started = time.monotonic()
    tables = [run_one(name, args.quick) for name in names]
    complete = not args.quick and names == list(BENCHMARKS)
    results, series, images = RESULTS, SERIES, IMAGES
    if not complete:
        out = Path(tempfile.mkdtemp(prefix="vobiz-bench-results-"))
        results, series, images = out / "results.json", out / "series.json", out / "img"
    write_results(tables, results)
    write_series(tables, series)
    from benchmarks.plots import draw

    drawn = draw(series, images)
    failed = [row.name for table in tables for row in table.rows if row.passed is False]
    print(f"results: {results}; plots: {', '.join(str(path) for path in drawn) or 'none'}")
    print(f"took {time.monotonic() - started:.0f} s")
    print(f"benchmarks: {len(failed)} target(s) FAILED" if failed else "benchmarks: all targets met", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
