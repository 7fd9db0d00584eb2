"""Every example DAG imports cleanly, cheaply and without touching the network or a database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DAGS, ROOT
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS

# The example DAGs that need what Airflow 2.11 lacks, and the message their parse fails with there.
NEEDS_AIRFLOW_3 = {"recording_events": "VobizRecordingEventTrigger needs Airflow 3.0 or newer (asset watchers)"}
DAG_FILES = sorted(path for path in EXAMPLE_DAGS.glob("*.py") if not path.name.startswith("_"))
HEAVY_MODULES = (
    "requests",
    "aiohttp",
    "mutagen",
    "airflow.providers.http",
    "vobiz_provider.hooks.vobiz",
    "openlineage",
    "airflow.providers.openlineage",
)

# Runs in a fresh interpreter: sockets refuse to connect and the metadata database does not exist,
# so any import-time network or database access fails the import.
_PROBE = """
import importlib.util, json, socket, sys
def refuse(*args, **kwargs):
    raise RuntimeError("network access at DAG import time")
socket.socket.connect = refuse
socket.create_connection = refuse
from airflow.providers.common.compat.sdk import DAG
baseline = set(sys.modules)
spec = importlib.util.spec_from_file_location("example_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dags = [obj for obj in vars(module).values() if isinstance(obj, DAG)]
print(json.dumps({
    "new_modules": sorted(set(sys.modules) - baseline),
    "dags": [
        {
            "dag_id": dag.dag_id,
            "tags": sorted(dag.tags),
            "doc": bool(dag.doc_md),
            "tasks": [
                {"task_id": t.task_id, "owner": t.owner, "retries": t.retries} for t in dag.tasks
            ],
        }
        for dag in dags
    ],
}))
"""


def test_there_are_four_example_dags() -> None:
    assert {path.stem for path in DAG_FILES} >= {
        "standup_pipeline",
        "standup_start",
        "end_of_day_sweep",
        "recording_catalogue",
    }


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.stem)
def test_example_dag_imports_cleanly(path: Path, tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/missing/dir/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    if path.stem in NEEDS_AIRFLOW_3 and not AIRFLOW_V_3_0_PLUS:
        # What the version lacks fails the parse, with a message naming the version needed.
        assert result.returncode != 0
        assert NEEDS_AIRFLOW_3[path.stem] in result.stderr, result.stderr[-3000:]
        return
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Airflow 3.1's @task looks its decorators up in every provider's get_provider_info: discovery, not use.
    discovery = {name.rpartition(".")[0] for name in report["new_modules"] if name.endswith(".get_provider_info")}
    heavy = [
        name
        for name in report["new_modules"]
        if name.startswith(HEAVY_MODULES) and name not in discovery and not name.endswith(".get_provider_info")
    ]
    assert heavy == [], f"{path.name} imports heavy modules at parse time: {heavy}"
    assert report["dags"], f"{path.name} defines no DAG"
    for dag in report["dags"]:
        assert "vobiz" in dag["tags"] and "example" in dag["tags"], dag
        assert dag["doc"], f"{dag['dag_id']} has no documentation"
        for task in dag["tasks"]:
            assert task["owner"] == "meetings", task
            assert task["retries"] >= 1, task
