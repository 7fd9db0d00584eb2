"""DAG-parse cost: what the provider's imports add to a DAG file's import, against ``import airflow.sdk``.

Target (issue 15): importing the example DAGs' provider imports (the operators and the sensor) at
most 1.05x ``import airflow.sdk`` alone, in time and in peak memory.

Each run is a fresh interpreter, as a DAG processor's parse is: it times ``import airflow.sdk``,
then the provider imports the example DAGs make (read from ``dags_examples/*.py``), and takes
the peak RSS after each. The ratio of a run is (sdk + provider) / sdk, the two measured in the
same process, so that one run's machine load weighs on both alike; the median of the runs
counts. Bytecode is written and used, as an installed wheel's is; a first run warms it up.
"""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.procs import REPO, child_env
from benchmarks.report import MB, Table, compared

TARGET_RATIO = 1.05
RUNS, QUICK_RUNS = 7, 3
EXAMPLES = REPO / "dags_examples"

# Run with ``python -c``: nothing but the standard library is loaded before the measured imports.
CHILD = """
import importlib, json, resource, sys, time
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter() - started, peak()
started = time.perf_counter()
for module, names in json.loads(sys.argv[1]):
    loaded = importlib.import_module(module)
    for name in names:
        getattr(loaded, name)
provider = time.perf_counter() - started, peak()
print(json.dumps({"sdk_s": sdk[0], "sdk_peak": sdk[1], "provider_s": provider[0], "all_peak": provider[1]}))
"""


def provider_imports(folder: Path = EXAMPLES) -> list[tuple[str, list[str]]]:
    """The top-level ``from vobiz_provider... import ...`` statements of the example DAGs (what a parse
    runs; imports inside task functions run on the worker), each module once."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vobiz_provider"):
                found.setdefault(str(node.module), set()).update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("vobiz_provider"):
                        found.setdefault(alias.name, set())
    return [(module, sorted(names)) for module, names in sorted(found.items())]


def one_run(imports: list[tuple[str, list[str]]], env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-c", CHILD, json.dumps(imports)]
    out = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=120)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool, workdir: Path) -> Table:
    imports = provider_imports()
    if not imports:
        raise RuntimeError(f"no provider imports found in {EXAMPLES}")
    env = child_env(workdir / "airflow")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed wheel has its bytecode: so do these runs
    one_run(imports, env)  # warm-up: bytecode written, files in the page cache
    runs = [one_run(imports, env) for _ in range(QUICK_RUNS if quick else RUNS)]
    time_ratio = statistics.median((r["sdk_s"] + r["provider_s"]) / r["sdk_s"] for r in runs)
    peak_ratio = statistics.median(r["all_peak"] / r["sdk_peak"] for r in runs)
    sdk_s = statistics.median(r["sdk_s"] for r in runs)
    provider_s = statistics.median(r["provider_s"] for r in runs)
    sdk_peak = statistics.median(r["sdk_peak"] for r in runs)
    table = Table("DAG-parse cost: the example DAGs' provider imports vs import airflow.sdk")
    table.add(
        compared(
            "import time, airflow.sdk + provider",
            sdk_s * time_ratio * 1000,
            sdk_s * 1000,
            "airflow.sdk alone",
            "ms",
            at_most_ratio=TARGET_RATIO,
            note=f"the provider's imports alone: median {provider_s * 1000:.0f} ms",
        )
    )
    table.add(
        compared(
            "peak RSS, airflow.sdk + provider",
            sdk_peak * peak_ratio / MB,
            sdk_peak / MB,
            "airflow.sdk alone",
            "MB",
            at_most_ratio=TARGET_RATIO,
        )
    )
    table.notes.append("imports: " + "; ".join(f"{module}: {', '.join(names)}" for module, names in imports))
    table.notes.append(
        f"{len(runs)} fresh interpreters after one warm-up; values: median sdk, times the median per-run ratio; "
        "ratios per run: " + ", ".join(f"{(r['sdk_s'] + r['provider_s']) / r['sdk_s']:.3f}" for r in runs)
    )
    loaded = os.environ.get("PYTHONDONTWRITEBYTECODE")
    if loaded:
        table.notes.append("PYTHONDONTWRITEBYTECODE is set here; these runs unset it (bytecode as installed)")
    return table
