"""Test session set-up: an isolated Airflow home and database, created before Airflow is imported.

DAGs run with ``dag.test()`` must live in a DAG bundle, so two local bundles are configured: the
example DAGs and the scenario DAGs under ``tests/dags``. Every DAG-running test shares this one
pytest process, so Airflow's slow first ``dag.test()`` is paid once.
"""

from __future__ import annotations

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

__all__ = ["DagRunResult", "run_dag"]

# The fake server's fixtures are opt-in for users; the project's own tests opt in here.
pytest_plugins = ["vobiz_provider.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Create the metadata tables once per session; returns the Airflow home."""
    from airflow.utils import db

    db.initdb()
    return _home
