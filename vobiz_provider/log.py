"""The logger the provider's helpers write to: the stdlib's or Airflow's structlog-based one."""

from __future__ import annotations

from typing import Any, Protocol


class Log(Protocol):
    """Any logger with ``info`` and ``warning`` (``self.log`` of a hook, an operator or a trigger)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...
