"""Run a DAG with ``dag.test()`` and read back what a user would look at: task states and XComs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class DagRunResult:
    """The finished run: its state, each task's state, and its XComs."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = (
                session.query(XComModel)
                .filter_by(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, key=key, map_index=map_index)
                .one_or_none()
            )
            return None if row is None else row.value

    def xcoms(self, task_id: str, key: str = "return_value") -> list[Any]:
        """Every mapped instance's value, by map index."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = (
                session.query(XComModel)
                .filter_by(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id, key=key)
                .order_by(XComModel.map_index)
                .all()
            )
            return [row.value for row in rows]


def run_dag(dag: Any, **kwargs: Any) -> DagRunResult:
    """``dag.test(**kwargs)`` (e.g. ``run_conf=...``, ``logical_date=...``) and collect the outcome.

    The DAG must be defined in a file under ``tests/dags`` or ``dags_examples``; use the
    ``airflow_db`` fixture in the test.
    """
    run = dag.test(**kwargs)
    states = {}
    for ti in run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
    state = run.state.value if hasattr(run.state, "value") else run.state
    return DagRunResult(dag.dag_id, run.run_id, str(state), states)
