"""Helpers for the operator tests: the task log as printed by ``dag.test()``."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def task_log(capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything printed so far in the test (``dag.test()`` prints task logs), stdout and stderr."""
    seen: list[str] = []

    def read() -> str:
        out, err = capfd.readouterr()
        seen.append(out + err)
        return "".join(seen)

    return read
