"""Airflow names the tests use that moved between the Airflow versions the provider supports, and the skips of
features a version lacks.

The provider's own are in :mod:`vobiz_provider.version_compat`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from vobiz_provider.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_2_PLUS

# The triggerer's way to rebuild a trigger from its serialised classpath, and the trigger row it
# hands its TriggerRunner (Airflow 3's; Airflow 2's TriggerRunner is a thread with another API).
if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.executors.workloads.trigger import RunTrigger
    from airflow.sdk._shared.module_loading import import_string
elif AIRFLOW_V_3_0_PLUS:
    from airflow.executors.workloads import RunTrigger
    from airflow.utils.module_loading import import_string
else:
    from airflow.utils.module_loading import import_string

    RunTrigger = None

# The object storage registry (Airflow 2's airflow.io became the Task SDK's airflow.sdk.io).
if TYPE_CHECKING or AIRFLOW_V_3_0_PLUS:
    from airflow.sdk.io.store import attach
else:
    from airflow.io.store import attach


def asset_event_model() -> Any:
    """The asset event table's model: Airflow 3's ``AssetEvent``, Airflow 2's ``DatasetEvent`` (same
    ``source_dag_id``, ``source_run_id`` and ``extra``)."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.asset import AssetEvent

        return AssetEvent
    from airflow.models.dataset import DatasetEvent

    return DatasetEvent


# What a DAG file imports anyway, the baseline of the parse-weight tests: DAG through common-compat (the
# Task SDK's on Airflow 3, airflow.models.dag on Airflow 2, through common-compat's map).
DAG_FILE_IMPORTS = "import sys; from airflow.providers.common.compat.sdk import DAG"

# Tests of what Airflow 2.11 lacks, skipped there with the reason.
needs_airflow_3 = pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="Airflow 3.0's asset watchers and event triggers (Airflow 2.11 has none)"
)
needs_trigger_runner_3 = pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="drives Airflow 3's TriggerRunner (RunTrigger workloads); Airflow 2.11's differs"
)
needs_task_sdk = pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="Airflow 3's Task SDK (Airflow 2.11 has none)")


def runner_event(entry: Any) -> tuple[int, Any]:
    """A ``TriggerRunner.events`` entry as ``(trigger_id, TriggerEvent)``: a tuple before Airflow 3.2,
    a ``TriggerEventEntry`` since."""
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return entry.trigger_id, entry.event


__all__ = [
    "DAG_FILE_IMPORTS",
    "RunTrigger",
    "asset_event_model",
    "attach",
    "import_string",
    "needs_airflow_3",
    "needs_task_sdk",
    "needs_trigger_runner_3",
    "runner_event",
]
