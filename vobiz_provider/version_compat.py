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


AIRFLOW_V_3_0_PLUS: bool = get_base_airflow_version_tuple() >= (3, 0, 0)
AIRFLOW_V_3_1_PLUS: bool = get_base_airflow_version_tuple() >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS: bool = get_base_airflow_version_tuple() >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)
AIRFLOW_V_3_4_PLUS: bool = get_base_airflow_version_tuple() >= (3, 4, 0)

# mypy checks the newest branch only (TYPE_CHECKING): the older ones name the same classes where older Airflow has them.
if TYPE_CHECKING or AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook
else:
    from airflow.hooks.base import BaseHook

# The Task SDK's names (Airflow 3), or on Airflow 2 the core's under their Airflow 3 names (Dataset is Asset):
# common-compat's map, as the Apache providers import them. Looked up on first use (module __getattr__ below), so a
# DAG file that imports an operator does not load the decorators (task) it does not use.
if TYPE_CHECKING:
    from airflow.sdk import (
        DAG,
        Asset,
        BaseOperator,
        BaseSensorOperator,
        Connection,
        Context,
        ObjectStoragePath,
        Param,
        PokeReturnValue,
        get_current_context,
        task,
        task_group,
    )
_SDK_NAMES = frozenset(
    {
        "DAG",
        "Asset",
        "BaseOperator",
        "BaseSensorOperator",
        "Connection",
        "Context",
        "ObjectStoragePath",
        "Param",
        "PokeReturnValue",
        "get_current_context",
        "task",
        "task_group",
    }
)

# Airflow 3.0 added event-driven scheduling: asset watchers and the event triggers they run.
if TYPE_CHECKING:
    from airflow.triggers.base import BaseEventTrigger
if TYPE_CHECKING or AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import AssetWatcher
else:

    def AssetWatcher(*args: Any, **kwargs: Any) -> Any:
        """Airflow 2 has no asset watchers: a DAG file that builds one fails at parse, naming the version."""
        require_airflow("AssetWatcher", (3, 0), "event-driven scheduling")


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


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from airflow.providers.common.compat import sdk

        return getattr(sdk, name)
    # Looked up when the triggers module asks: airflow.triggers.base stays out of DAG files that use operators only.
    if name == "BaseEventTrigger":
        if AIRFLOW_V_3_0_PLUS:
            from airflow.triggers.base import BaseEventTrigger

            return BaseEventTrigger
        # Airflow 2 has no event triggers: the class exists, and refuses to be built (require_airflow).
        from airflow.triggers.base import BaseTrigger

        return BaseTrigger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def require_airflow(feature: str, version: tuple[int, int], why: str) -> None:
    """Refuse ``feature`` (at DAG parse, where it is built) on an Airflow older than ``version``, naming both.

    :param feature: what the DAG author wrote, e.g. ``VobizRecordingEventTrigger``.
    :param version: the oldest Airflow that has what it needs, ``(major, minor)``.
    :param why: what that Airflow added, e.g. ``asset watchers``.
    """
    if get_base_airflow_version_tuple()[:2] < version:
        from airflow import __version__

        from vobiz_provider.exceptions import VobizConfigError

        needed = ".".join(map(str, version))
        raise VobizConfigError(f"{feature} needs Airflow {needed} or newer ({why}); this is Airflow {__version__}")


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
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AIRFLOW_V_3_4_PLUS",
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "Asset",
    "AssetWatcher",
    "BaseEventTrigger",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "Connection",
    "Context",
    "CronTriggerTimetable",
    "ObjectStoragePath",
    "Param",
    "PokeReturnValue",
    "TaskDeferred",
    "aget_connection",
    "conf",
    "get_current_context",
    "require_airflow",
    "task",
    "task_group",
]
