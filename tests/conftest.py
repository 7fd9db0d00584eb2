"""Test session set-up: an isolated Airflow home and database, created before Airflow is imported.

DAGs run with ``dag.test()`` must live in a DAG bundle, so two local bundles are configured: the
example DAGs and the scenario DAGs under ``tests/dags``. Every DAG-running test shares this one
pytest process, so Airflow's slow first ``dag.test()`` is paid once.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_DAGS = ROOT / "tests" / "dags"
EXAMPLE_DAGS = ROOT / "dags_examples"

_home = Path(tempfile.mkdtemp(prefix="vobiz-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TEST_DAGS)
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(path)},
        }
        for name, path in (("examples", EXAMPLE_DAGS), ("test_dags", TEST_DAGS))
    ]
)
# OpenLineage events of the DAGs that opt in (enable_lineage) go to a file the lineage tests read.
OPENLINEAGE_EVENTS = _home / "openlineage-events.jsonl"
os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
    {"type": "file", "log_file_path": str(OPENLINEAGE_EVENTS), "append": True}
)
os.environ["AIRFLOW__OPENLINEAGE__SELECTIVE_ENABLE"] = "True"
os.environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "vobiz-tests"
for path in (str(ROOT), str(TEST_DAGS), str(EXAMPLE_DAGS)):
    if path not in sys.path:
        sys.path.insert(0, path)

import pytest  # noqa: E402

from tests.dagrun import DagRunResult, run_dag  # noqa: E402
from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS  # noqa: E402

__all__ = ["DagRunResult", "run_dag"]

# The fake server's fixtures are opt-in for users; the project's own tests opt in here.
pytest_plugins = ["vobiz_provider.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Create the metadata tables once per session; returns the Airflow home."""
    from airflow.utils import db

    db.initdb()
    if AIRFLOW_V_3_0_PLUS:
        _reuse_the_in_process_execution_api()
    return _home


def _reuse_the_in_process_execution_api() -> None:
    """Build ``dag.test()``'s in-process Execution API once, as Airflow 3.3 does (apache/airflow#65235).

    Airflow 3.2 builds it anew for every task it runs: a FastAPI app with Cadwyn's copies of every
    route for every API version, which costs seconds per task and, on a loaded machine, close to a
    minute per ``dag.test()``. Same function, cached; a no-op on 3.3, where it is cached already.
    """
    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_clear"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)
