"""Apache Airflow provider for Vobiz conference recordings."""

from __future__ import annotations

__version__ = "0.1.0"
