"""The installed Airflow's version, and the names that moved between the versions the provider supports.

One module, the way the Apache providers do it (``airflow/providers/*/version_compat.py``): flags read once from
the installed Airflow, and each moved name imported here from where that version keeps it. The provider's modules
and example DAGs import these names from here, never with their own ``try``/``except ImportError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


def get_base_airflow_version_tuple() -> tuple[int, int, int]:
    """The installed Airflow's ``(major, minor, micro)``, pre-release dropped (3.4.0b2 counts as 3.4.0)."""
    from airflow import __version__
    from packaging.version import Version

    airflow_version = Version(__version__)
    return airflow_version.major, airflow_version.minor, airflow_version.micro


AIRFLOW_V_3_1_PLUS: bool = get_base_airflow_version_tuple() >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS: bool = get_base_airflow_version_tuple() >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)
AIRFLOW_V_3_4_PLUS: bool = get_base_airflow_version_tuple() >= (3, 4, 0)

# mypy checks the newest branch only (TYPE_CHECKING): the older ones name the same classes where older Airflow has them.
if TYPE_CHECKING or AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook
else:
    from airflow.hooks.base import BaseHook

# Airflow 3.2 moved these into the Task SDK; before it they are the core's.
if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.sdk import CronTriggerTimetable, conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
else:
    from airflow.configuration import conf
    from airflow.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.timetables.trigger import CronTriggerTimetable


async def aget_connection(conn_id: str) -> Any:
    """The connection ``conn_id``, looked up without blocking the event loop.

    Airflow 3.1's hooks have ``aget_connection``; on 3.0 the sync lookup runs in a worker thread, as the http
    provider's async hook does there.
    """
    if AIRFLOW_V_3_1_PLUS:
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)


__all__ = [
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AIRFLOW_V_3_4_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "CronTriggerTimetable",
    "TaskDeferred",
    "aget_connection",
    "conf",
]
