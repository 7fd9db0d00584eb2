"""The suite's processes: each started in its own session, stopped by its process id, measured.

Every process is a :class:`Component`: its own process group (so a SIGKILL takes its children,
as a lost machine would), its output in a log file, its peak RSS sampled by :class:`Sampler`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil


@dataclass
class Component:
    """One process the suite runs (with whatever it forks).

    :param name: how reports name it (``scheduler``, ``worker-1``).
    :param argv: the command.
    :param env: its whole environment.
    :param log_dir: where ``<name>.log`` collects its stdout and stderr.
    :param user: run as this user (PostgreSQL refuses root), or as the suite's own user.
    :param cwd: its working directory.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_dir: Path
    user: str | None = None
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    peak_rss: int = 0
    restarts: int = 0
    _log: object | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} runs already (pid {self.process.pid})")
        handle = self.log_path.open("ab")
        handle.write(f"\n--- {time.strftime('%H:%M:%S')} start {' '.join(self.argv)}\n".encode())
        handle.flush()
        self.process = subprocess.Popen(
            list(self.argv),
            env=dict(self.env),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() and kill() reach its children
            user=self.user,
            group=self.user,
            extra_groups=[] if self.user else None,
        )
        handle.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The process and its descendants (forked task processes included)."""
        if not self.alive():
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the whole process group at once: nothing gets to clean up (a lost machine)."""
        self._signal_group(signal.SIGKILL)
        self._reap(10)

    def stop(self, grace_s: float = 15.0, sig: signal.Signals = signal.SIGTERM) -> None:
        """Ask the group to stop (``sig`` to the leader), then SIGKILL what is left after ``grace_s``."""
        stop_all([self], grace_s, sig)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def _reap(self, timeout_s: float) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout_s)


def stop_all(components: Sequence[Component], grace_s: float = 15.0, sig: signal.Signals = signal.SIGTERM) -> None:
    """Send ``sig`` to each leader at once, wait up to ``grace_s`` for all, then SIGKILL every group
    and every descendant that is left (a daemon that left its group too)."""
    members = {c.name: c.tree() for c in components}
    for component in components:
        if component.process is not None and component.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(component.process.pid, sig)
    deadline = time.monotonic() + grace_s
    for component in components:
        if component.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(max(0.0, deadline - time.monotonic()))
    for component in components:
        component._signal_group(signal.SIGKILL)
        for member in members[component.name]:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        component._reap(10)


class Sampler:
    """A thread that samples every component's RSS (its whole tree) and the task processes' titles.

    :param components: a callable giving the components to watch right now.
    :param interval_s: time between samples.
    """

    def __init__(self, components: Callable[[], Sequence[Component]], interval_s: float = 0.25) -> None:
        self._components = components
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-sampler", daemon=True)
        self._lock = threading.Lock()
        # (time, component, command line) of every process whose title names a task it runs.
        self.task_processes: list[tuple[float, str, str]] = []

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def task_titles_between(self, start: float, end: float) -> list[tuple[float, str, str]]:
        with self._lock:
            return [entry for entry in self.task_processes if start <= entry[0] <= end]

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            now = time.time()
            for component in list(self._components()):
                total = 0
                for proc in component.tree():
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
                        title = " ".join(proc.cmdline())
                        if "airflow worker --" in title or "airflow task supervisor" in title:
                            with self._lock:
                                self.task_processes.append((now, component.name, title))
                component.peak_rss = max(component.peak_rss, total)


def listening_addresses(components: Sequence[Component]) -> Iterator[tuple[str, str, int]]:
    """(component, address, port) of every listening TCP socket the components' processes hold."""
    for component in components:
        for proc in component.tree():
            with contextlib.suppress(psutil.Error):
                for conn in proc.net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN:
                        yield component.name, conn.laddr.ip, conn.laddr.port


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
