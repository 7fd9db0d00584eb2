"""Run a DAG with ``dag.test()`` and read back what a user would look at: task states and XComs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS


@dataclass
class DagRunResult:
    """The finished run: its state, each task's state, and its XComs."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        from airflow.utils.session import create_session

        with create_session() as session:
            row = (
                session.query(_XCom())
                .filter_by(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, key=key, map_index=map_index)
                .one_or_none()
            )
            return None if row is None else row.value

    def xcoms(self, task_id: str, key: str = "return_value") -> list[Any]:
        """Every mapped instance's value, by map index."""
        from airflow.utils.session import create_session

        xcom = _XCom()
        with create_session() as session:
            rows = (
                session.query(xcom)
                .filter_by(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, key=key)
                .order_by(xcom.map_index)
                .all()
            )
            return [row.value for row in rows]


def _XCom() -> Any:
    """The XCom table's model: Airflow 3's ``XComModel``, Airflow 2's ``BaseXCom``."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel

        return XComModel
    from airflow.models.xcom import BaseXCom

    return BaseXCom


def run_dag(dag: Any, **kwargs: Any) -> DagRunResult:
    """``dag.test(**kwargs)`` (e.g. ``run_conf=...``, ``logical_date=...``) and collect the outcome.

    The DAG must be defined in a file under ``tests/dags`` or ``dags_examples``; use the
    ``airflow_db`` fixture in the test.
    """
    if not AIRFLOW_V_3_0_PLUS:
        # Airflow 2's dag.test() writes neither the DAG nor its datasets (assets) to the database, where a task's
        # outlet events need them; it names the run's date execution_date.
        dag.sync_to_db()
        if "logical_date" in kwargs:
            kwargs["execution_date"] = kwargs.pop("logical_date")
    elif not AIRFLOW_V_3_1_PLUS:
        _write_to_db(dag)
    run = dag.test(**kwargs)
    states = {}
    for ti in run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
    state = run.state.value if hasattr(run.state, "value") else run.state
    return DagRunResult(dag.dag_id, run.run_id, str(state), states)


def _write_to_db(dag: Any) -> None:
    """What Airflow 3.1's ``dag.test()`` does first and 3.0's does not: the DAG and its assets written to the
    database from the DAG's bundle, the assets active (3.0 fails a task whose inlet or outlet asset is not)."""
    from pathlib import Path

    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.models.dag import DAG as SchedulerDAG
    from airflow.serialization.serialized_objects import LazyDeserializedDAG, SerializedDAG

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundle = next(b for b in manager.get_all_dag_bundles() if Path(dag.fileloc).is_relative_to(b.path))
    dag.relative_fileloc = str(Path(dag.fileloc).relative_to(bundle.path))
    SchedulerDAG.bulk_write_to_db(bundle.name, None, [LazyDeserializedDAG(data=SerializedDAG.to_dict(dag))])
