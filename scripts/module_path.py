"""Which provider modules one stop and one deferred wait run code in (docs/architecture.md, "The path").

Run against the fake Vobiz server: ``.venv/bin/python scripts/module_path.py``. Every module the
paths import is imported first, so a module counts when one of its functions (or methods) runs,
not when it is imported; ``testing/`` (the fake) is left out.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import vobiz_provider

PACKAGE = Path(vobiz_provider.__file__).parent


@contextmanager
def modules_run() -> Iterator[set[str]]:
    """The provider modules (paths below the package) whose functions run inside the block."""
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or frame.f_code.co_name == "<module>":
            return
        path = Path(frame.f_code.co_filename)
        if frame.f_code.co_filename == "<string>" and "self" in frame.f_locals:
            # A dataclass's generated __init__: count the module that defines the class.
            module = sys.modules.get(type(frame.f_locals["self"]).__module__)
            path = Path(getattr(module, "__file__", None) or "<string>")
        if path.is_relative_to(PACKAGE) and not path.is_relative_to(PACKAGE / "testing"):
            seen.add(str(path.relative_to(PACKAGE)))

    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)


def show(title: str, seen: set[str]) -> None:
    print(f"{title}: {len(seen)} modules")
    for module in sorted(seen):
        print(f"  {module}")


def main() -> None:
    from vobiz_provider.hooks import vobiz  # noqa: F401 - imported outside the profile
    from vobiz_provider.operators.recording import StopConferenceRecordingOperator
    from vobiz_provider.sensors.recording import ConferenceRecordingSensor
    from vobiz_provider.testing.server import FakeVobizServer
    from vobiz_provider.triggers import recording, shared_polling  # noqa: F401
    from vobiz_provider.version_compat import TaskDeferred

    now = datetime.now(timezone.utc)
    context: dict[str, Any] = {"data_interval_start": now - timedelta(minutes=30), "data_interval_end": now}
    with FakeVobizServer() as fake:
        os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = fake.connection_json()
        fake.configure(processing_delay_s=3600.0, file_delay_s=0.0)
        fake.add_room("Weekly Sync", recording=True)

        stop = StopConferenceRecordingOperator(task_id="stop", conference_name="Weekly Sync")
        with modules_run() as stop_path:
            stop.execute(context)
        show("one stop", stop_path)
        with modules_run() as refused_path:
            # A room Vobiz does not know: HTTP 404, which means nothing was recording.
            StopConferenceRecordingOperator(task_id="stop2", conference_name="No Such Room").execute(context)
        show("one stop Vobiz refuses (nothing recording)", refused_path)

        sensor = ConferenceRecordingSensor(
            task_id="wait", conference_name="Weekly Sync", deferrable=True, poke_interval=1.0, timeout=60
        )
        with modules_run() as wait_path:
            try:
                sensor.execute(context)  # the worker's check: not listed yet, so it defers
                raise SystemExit("the sensor did not defer")
            except TaskDeferred as deferred:
                trigger, resume = deferred.trigger, getattr(sensor, deferred.method_name)
            fake.finish_processing()
            event = asyncio.run(first_event(trigger.run))
            resume(context, event.payload)
        show("one deferred wait", wait_path)


async def first_event(run: Callable[[], Any]) -> Any:
    async for event in run():
        return event
    raise SystemExit("the trigger sent no event")


if __name__ == "__main__":
    main()
