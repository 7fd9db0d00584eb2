"""Trigger a DAG run over REST and watch it to its end, recording what each task went through."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from e2e.clients import TERMINAL_RUN_STATES, AirflowApi

TaskKey = tuple[str, int]  # (task_id, map_index)


@dataclass
class Watched:
    """What the suite saw of one run while it was going.

    :param states: per task instance, the states seen in order (repeats dropped).
    :param triggerers: per task instance, the triggerers seen holding its trigger (``hostname#job id``).
    :param deferred_at: per task instance, the times it was seen deferred.
    :param final: the run as the API gave it at the end.
    :param task_instances: the task instances at the end.
    """

    dag_id: str
    run_id: str
    states: dict[TaskKey, list[str]] = field(default_factory=dict)
    triggerers: dict[TaskKey, list[str]] = field(default_factory=dict)
    deferred_at: dict[TaskKey, list[float]] = field(default_factory=dict)
    ids: dict[TaskKey, str] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    task_instances: list[dict[str, Any]] = field(default_factory=list)

    def ti(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        for ti in self.task_instances:
            if ti["task_id"] == task_id and ti["map_index"] == map_index:
                return ti
        raise KeyError(f"no task instance {task_id}[{map_index}] in {self.run_id}")

    def of_task(self, task_id: str) -> list[dict[str, Any]]:
        """The task instances of a task id (every map index), by map index."""
        return sorted((ti for ti in self.task_instances if ti["task_id"] == task_id), key=lambda ti: ti["map_index"])


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def parse_time(value: str | None) -> float | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def trigger_and_watch(
    api: AirflowApi,
    dag_id: str,
    run_id: str,
    conf: dict[str, Any],
    *,
    bound_s: float,
    logical_date: str | None,
    on_tick: Callable[[Watched], None] | None = None,
    alive: Callable[[], None] | None = None,
    retries_expected: bool = False,
    log_root: Path | None = None,
) -> Watched:
    """Trigger ``dag_id`` and poll it until it ends; raises TimeoutError after ``bound_s``.

    :param on_tick: called after each poll with what was seen so far (a case acts here: kills a
        triggerer once the sensor is deferred, say).
    :param alive: called each poll; raises when a component the case needs has died.
    :param retries_expected: unless set, a task going up for retry fails the case at once (a retry
        would only hide the error, minutes later).
    :param log_root: the deployment's task log folder, to quote a failed task's error.

    A run that is given up on is marked failed, so it cannot hold up the next case's run.
    """
    api.trigger(dag_id, run_id, conf, logical_date)
    watched = Watched(dag_id, run_id)
    try:
        return _watch(api, watched, bound_s, on_tick, alive, retries_expected, log_root)
    except BaseException:
        with contextlib.suppress(Exception):
            api.mark_failed(dag_id, run_id)
        raise


def _watch(
    api: AirflowApi,
    watched: Watched,
    bound_s: float,
    on_tick: Callable[[Watched], None] | None,
    alive: Callable[[], None] | None,
    retries_expected: bool,
    log_root: Path | None,
) -> Watched:
    dag_id, run_id = watched.dag_id, watched.run_id
    deadline = time.monotonic() + bound_s
    while True:
        try:
            watched.task_instances = api.task_instances(dag_id, run_id)
        except requests.RequestException:
            # A slow answer from a busy api-server is no verdict on the run: poll again, within the bound.
            if time.monotonic() > deadline:
                raise
            continue
        now = time.time()
        for ti in watched.task_instances:
            key = (ti["task_id"], ti["map_index"])
            watched.ids[key] = ti["id"]
            seen = watched.states.setdefault(key, [])
            if ti["state"] and (not seen or seen[-1] != ti["state"]):
                seen.append(ti["state"])
            if ti["state"] == "deferred":
                watched.deferred_at.setdefault(key, []).append(now)
            job = ti.get("triggerer_job") or {}
            if job.get("hostname"):
                holder = f"{job['hostname']}#{job.get('id')}"  # a restarted triggerer is a new job
                hosts = watched.triggerers.setdefault(key, [])
                if not hosts or hosts[-1] != holder:
                    hosts.append(holder)
        retried = [ti for ti in watched.task_instances if ti["state"] == "up_for_retry"]
        if retried and not retries_expected:
            ti = retried[0]
            error = task_error(log_root, watched, ti) if log_root else "see its log"
            raise AssertionError(f"{ti['task_id']}[{ti['map_index']}] failed and waits for a retry: {error}")
        if on_tick is not None:
            on_tick(watched)
        watched.final = api.run(dag_id, run_id)
        if watched.final["state"] in TERMINAL_RUN_STATES:
            watched.task_instances = api.task_instances(dag_id, run_id)
            return watched
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} of {dag_id} still {watched.final['state']} after {bound_s:.0f} s")
        time.sleep(1.0)  # the api-server also serves the tasks: poll it gently


def task_error(log_root: Path, watched: Watched, ti: dict[str, Any]) -> str:
    """The first error a task's log records (Airflow 3 writes one JSON object per line, Airflow 2 text)."""
    folder = log_root / f"dag_id={watched.dag_id}" / f"run_id={watched.run_id}" / f"task_id={ti['task_id']}"
    if ti["map_index"] >= 0:
        folder /= f"map_index={ti['map_index']}"
    for path in sorted(folder.glob("attempt=*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if " ERROR - " in line:  # Airflow 2 writes text: ``[time] {module.py:N} ERROR - message``
                return f"{line.split(' ERROR - ', 1)[1]} ({path})"
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("level") in ("error", "critical"):
                    return f"{event.get('event')} ({path})"
    return f"no error in the logs under {folder}"
