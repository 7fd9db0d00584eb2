"""Fixtures for the sensor tests: the task log as ``dag.test()`` prints it (shared with the operator tests)."""

from __future__ import annotations

from tests.operators.conftest import task_log

__all__ = ["task_log"]
