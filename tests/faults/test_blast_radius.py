"""The blast radius (docs/reliability.md): one odd recording, row or wait among 50 waits and a
watcher on one account, run by Airflow's own ``TriggerRunner`` in one event loop against the fake
Vobiz server over real HTTP; every other wait and the watcher finish as if it were not there."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.compat import RunTrigger, runner_event
from tests.faults.blast import (
    BLAST_CASES,
    FILE_AFTER_S,
    POLL_S,
    ROWS_APPEAR_S,
    SETTLED_S,
    SLOW_HOST,
    BlastCase,
    Run,
    Scene,
)
from vobiz_provider.testing import FakeVobizServer
from vobiz_provider.triggers.recording import ConferenceRecordingTrigger, VobizRecordingEventTrigger

triggerer = pytest.importorskip("airflow.jobs.triggerer_job_runner", reason="Airflow 3's trigger runner")

WAIT_CLASSPATH = ConferenceRecordingTrigger(deadline=0, recording_id="x").serialize()[0]


@pytest.fixture
def slow_host(vobiz_fake: FakeVobizServer) -> Iterator[FakeVobizServer]:
    """A second fake server on another loopback address: a media host for one recording's file."""
    try:
        server = FakeVobizServer(
            auth_id=vobiz_fake.auth_id, auth_token=vobiz_fake.auth_token, listen_hosts=(SLOW_HOST,)
        ).start()
    except OSError:
        pytest.skip(f"{SLOW_HOST} is not a loopback address here")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("case", BLAST_CASES, ids=[case.id for case in BLAST_CASES])
async def test_blast_radius(
    case: BlastCase, vobiz_fake: FakeVobizServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    vobiz_fake.configure(processing_delay_s=ROWS_APPEAR_S, file_delay_s=FILE_AFTER_S)
    conn = vobiz_fake.connection_json({"timeout": 2.0, "auth_hosts": [SLOW_HOST]})
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", conn)
    scene = Scene(vobiz_fake)
    if case.slow_host:
        scene.extra["slow_host"] = request.getfixturevalue("slow_host")
    case.arrange(scene)
    scene.fill()
    watcher = VobizRecordingEventTrigger(poll_interval=POLL_S).serialize()
    rows = [(WAIT_CLASSPATH, wait.kwargs) for wait in scene.waits] + [watcher]

    run = await run_triggerer(rows, [w.recording_id for w in scene.expected if w.recording_id], scene)
    run.requests = vobiz_fake.requests

    assert run.stopped is None, f"the trigger runner stopped: {run.stopped!r}"
    ready_at = scene.start + ROWS_APPEAR_S + FILE_AFTER_S
    for index, wait in enumerate(scene.waits):
        if wait.odd:
            continue
        assert index not in run.failed, f"wait {index} failed: {run.failed[index]!r}"
        events = run.events.get(index, [])
        assert [e["status"] for e in events] == ["success"], f"wait {index}: {events}"
        assert events[0]["recording"]["recording_id"] == wait.recording_id
        assert run.event_times[index][0] <= ready_at + SETTLED_S, f"wait {index} succeeded late"
    emitted = [e["recording_id"] for e in run.events.get(len(scene.waits), [])]
    wanted = [w.recording_id for w in scene.expected]
    assert set(wanted) <= set(emitted), f"the watcher missed {len(set(wanted) - set(emitted))} recordings"
    odd_ids = {w.recording_id for w in scene.waits if w.odd}
    assert set(emitted) <= set(wanted) | odd_ids, "the watcher emitted a row it cannot use"
    assert len(emitted) == len(set(emitted)), "the watcher emitted a recording twice"
    if case.check is not None:
        case.check(scene, run)


async def run_triggerer(rows: list[tuple[str, dict[str, Any]]], wanted: list[str], scene: Scene) -> Run:
    """Create and run the trigger rows as Airflow's triggerer does (``TriggerRunner.create_triggers``,
    then ``run_trigger`` per trigger, in this one event loop) until every wait has ended and the
    watcher emitted ``wanted``, or a second after the waits' deadline; then cancel the watcher."""
    from airflow.models.trigger import Trigger

    runner = triggerer.TriggerRunner()
    for index, (classpath, kwargs) in enumerate(rows):
        encrypted = Trigger.encrypt_kwargs(json.loads(json.dumps(kwargs)))  # as stored in the trigger table
        runner.to_create.append(RunTrigger(id=index + 1, ti=None, classpath=classpath, encrypted_kwargs=encrypted))
    watcher = len(rows) - 1
    run = Run(events={}, event_times={}, failed={}, stopped=None, requests=[])
    try:
        await runner.create_triggers()
    except Exception as err:  # in the triggerer this ends the runner, and every trigger with it
        run.stopped = err
    tasks = {trigger_id - 1: entry["task"] for trigger_id, entry in runner.triggers.items()}
    try:
        limit = scene.deadline + 1.0
        while run.stopped is None and time.time() < limit:
            _collect(runner, run)
            waits_done = all(task.done() for index, task in tasks.items() if index != watcher)
            emitted = {e["recording_id"] for e in run.events.get(watcher, [])}
            if waits_done and set(wanted) <= emitted:
                break
            await asyncio.sleep(0.05)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    _collect(runner, run)
    run.failed.update({trigger_id - 1: error for trigger_id, error in runner.failed_triggers})
    return run


def _collect(runner: Any, run: Run) -> None:
    now = time.time()
    while runner.events:
        trigger_id, event = runner_event(runner.events.popleft())
        run.events.setdefault(trigger_id - 1, []).append(event.payload)
        run.event_times.setdefault(trigger_id - 1, []).append(now)
