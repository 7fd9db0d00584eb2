"""Airflow names the tests use that moved between the Airflow versions the provider supports.

The provider's own are in :mod:`vobiz_provider.version_compat`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vobiz_provider.version_compat import AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_2_PLUS

# The triggerer's way to rebuild a trigger from its serialised classpath, and the trigger row it
# hands its TriggerRunner.
if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.executors.workloads.trigger import RunTrigger
    from airflow.sdk._shared.module_loading import import_string
else:
    from airflow.executors.workloads import RunTrigger
    from airflow.utils.module_loading import import_string


# Airflow 3.0's airflow.models.baseoperator (a DAG file's first operator import) imports the Execution API's
# app, which imports svcs, which imports aiohttp: a DAG file there loads aiohttp however the provider imports.
BASEOPERATOR_IMPORTS_AIOHTTP: bool = not AIRFLOW_V_3_1_PLUS

# Airflow 3.0's dag.test() hands a rescheduled sensor its first reschedule date as a string (its in-process client
# builds the reply with model_construct, unvalidated), so BaseSensorOperator's timeout check raises a TypeError there
# on the first rescheduled poke that finds nothing; a deployment's task process gets a datetime. Fixed in 3.1.
DAG_TEST_RESCHEDULE_DATE_IS_A_STRING: bool = not AIRFLOW_V_3_1_PLUS


def runner_event(entry: Any) -> tuple[int, Any]:
    """A ``TriggerRunner.events`` entry as ``(trigger_id, TriggerEvent)``: a tuple before Airflow 3.2,
    a ``TriggerEventEntry`` since."""
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return entry.trigger_id, entry.event


__all__ = [
    "BASEOPERATOR_IMPORTS_AIOHTTP",
    "DAG_TEST_RESCHEDULE_DATE_IS_A_STRING",
    "RunTrigger",
    "import_string",
    "runner_event",
]
