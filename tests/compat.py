"""Airflow names the tests use that moved between the Airflow versions the provider supports.

The provider's own are in :mod:`vobiz_provider.version_compat`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vobiz_provider.version_compat import AIRFLOW_V_3_2_PLUS

# The triggerer's way to rebuild a trigger from its serialised classpath.
if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.sdk._shared.module_loading import import_string
else:
    from airflow.utils.module_loading import import_string

__all__ = ["import_string"]
