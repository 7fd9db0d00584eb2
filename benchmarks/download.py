"""Download: ``VobizHook.download_recording_file`` (and the operator around it) against ``curl``.

Targets (from the issue), for a 100 MiB and a 1 GiB file over loopback:

- throughput at least 1.1x curl's on the same file, written into the same folder;
- memory growth at most twice the chunk size plus 4 MB.

A separate process serves WAV files from disk with ``sendfile`` and checks the auth headers.
curl, the hook and the operator take turns (the order rotating), ours each in a fresh process;
the best of the repeats counts. Ours is timed around the call alone (after imports and a warm-up
download), curl by its own ``time_total``. The operator row is the full path: staging file,
sha256, fsync, format sniff, mutagen, atomic placement.

Every measured download starts right after the previous one's file is deleted. VMs that hand
freed memory back to their host (virtio-balloon free page reporting, as on the machines this was
written on, about 2 s after the free) make a write into such memory several times dearer,
whoever writes: a download that starts at once reuses the pages just freed, one that starts
seconds later (after Airflow's imports) may not.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.procs import Server, child_env, run_child, wait_at_gate
from benchmarks.report import MB, MIB, Row, Table, Verdict, mb, rate, verdict

TARGET_RATIO = 1.10
MEMORY_SLACK = 4 * MB
CHUNK_SIZE = 1024 * 1024  # the hook's and the operator's default chunk
AUTH_ID, AUTH_TOKEN = "MA_BENCH0001", "bench-token-0001"
FULL_SIZES, QUICK_SIZES = (100 * MIB, 1024 * MIB), (16 * MIB, 64 * MIB)
WRITE_BLOCK = 4 * MIB
REPEATS = 5


def make_wav(path: Path, size: int) -> str:
    """A WAV file of exactly ``size`` bytes (8 kHz 16-bit mono noise); returns its sha256."""
    frames = (size - 44) // 2
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.setnframes(frames)
        writer.writeframesraw(b"")
        header = buffer.getvalue()  # taken before close() patches the frame count to the 0 written
    with open(path, "w+b") as handle:
        handle.write(header)
        header_size = len(header)
        left = size - header_size
        while left > 0:
            block = os.urandom(min(WRITE_BLOCK, left))
            handle.write(block)
            left -= len(block)
        handle.seek(0)
        digest = hashlib.sha256()
        while block := handle.read(WRITE_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def curl_seconds(url: str, dest: Path | None, size: int) -> float:
    """curl's own transfer time for one download into ``dest`` (None: /dev/null)."""
    command = ["curl", "-s", "-o", str(dest or os.devnull), "-w", "%{http_code} %{size_download} %{time_total}"]
    headers = ["-H", f"X-Auth-ID: {AUTH_ID}", "-H", f"X-Auth-Token: {AUTH_TOKEN}"]
    out = subprocess.run([*command, *headers, url], check=True, capture_output=True, text=True, timeout=300)
    status, received, seconds = out.stdout.split()
    if status != "200" or int(received) != size or (dest is not None and dest.stat().st_size != size):
        raise RuntimeError(f"curl got status {status}, {received} bytes of {size}")
    return float(seconds)


def measure(path: str, url: str, dest: str, warmup: str) -> dict[str, Any]:
    """In a child: one warm-up download, then (when the parent says go) the measured one; time and memory."""
    from benchmarks.memory import peak_rss, start_peak

    download: Callable[[str, str], tuple[int, str]]
    if path == "hook":
        from vobiz_provider.hooks.vobiz import VobizHook

        hook = VobizHook()

        def download(source: str, target: str) -> tuple[int, str]:
            with open(target, "wb") as sink:
                transfer = hook.download_recording_file(source, sink, chunk_size=CHUNK_SIZE)
            return transfer.bytes_written, transfer.sha256

    else:
        from vobiz_provider.operators.download import DownloadRecordingOperator

        def download(source: str, target: str) -> tuple[int, str]:
            recording = {
                "recording_id": "bench",
                "recording_url": source,
                "conference_name": "Bench",
                "recording_type": "conference",
                "recording_format": "wav",
                "call_uuid": None,
                "add_time": "2026-01-01T00:00:00+00:00",
                **dict.fromkeys(("duration_ms", "start_ms", "end_ms", "rounded_recording_duration")),
            }
            operator = DownloadRecordingOperator(
                task_id="bench", recording=recording, destination=target, chunk_size=CHUNK_SIZE
            )
            result = operator.execute({})  # type: ignore[arg-type]  # no outlets: the context is not read
            return result["bytes"], result["sha256"]

    download(warmup, dest)
    os.remove(dest)
    wait_at_gate()
    before = start_peak()
    started = time.perf_counter()
    written, sha256 = download(url, dest)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": written, "sha256": sha256, "growth": peak_rss() - before}


def run(quick: bool, workdir: Path) -> Table:
    sizes, repeats = (QUICK_SIZES, 2) if quick else (FULL_SIZES, REPEATS)
    table = Table("download: VobizHook.download_recording_file and DownloadRecordingOperator vs curl", "")
    files, out = workdir / "files", workdir / "out"
    files.mkdir()
    out.mkdir()
    env = child_env(workdir / "airflow")
    ways = ("curl", "hook", "operator") if shutil.which("curl") else ("hook", "operator")
    try:
        make_wav(files / "warmup.wav", MIB)
        server_args = {"root": str(files), "auth_id": AUTH_ID, "auth_token": AUTH_TOKEN}
        with Server("files", server_args, env, max_seconds=900) as server:
            base = server.info["base_url"]
            env = child_env(workdir / "airflow", {"vobiz_default": _connection(base)})
            for size in sizes:
                name, label = f"{size // MIB}mib.wav", f"{size // MIB} MiB"
                sha256 = make_wav(files / name, size)
                url = f"{base}/files/{name}"
                if "curl" in ways:
                    server_alone = rate(size, curl_seconds(url, None, size))
                    table.add(Row(f"server alone (curl -o /dev/null), {label}", server_alone))
                seconds: dict[str, list[float]] = {way: [] for way in ways}
                growth: dict[str, int] = {}
                # Each measured download starts right after the previous one's file is deleted, curl's
                # and ours alike, so that each writes into the pages just freed (see the docstring).
                previous = out / "warm-up.wav"
                if "curl" in ways:
                    curl_seconds(url, previous, size)
                else:
                    shutil.copyfile(files / name, previous)
                for repeat in range(repeats):
                    for way in ways[repeat % len(ways) :] + ways[: repeat % len(ways)]:  # rotate who goes first
                        dest = out / f"{way}.wav"
                        if way == "curl":
                            previous.unlink()
                            seconds[way].append(curl_seconds(url, dest, size))
                        else:
                            args = {"path": way, "url": url, "dest": str(dest), "warmup": f"{base}/files/warmup.wav"}
                            result = run_child("download:measure", args, env, timeout=300, on_gate=previous.unlink)
                            if result["bytes"] != size or result["sha256"] != sha256:
                                raise RuntimeError(f"the {way} download of {name} got different bytes")
                            seconds[way].append(result["seconds"])
                            growth[way] = max(growth.get(way, 0), result["growth"])
                        previous = dest
                previous.unlink()
                (files / name).unlink()
                _rows(table, label, size, {way: min(times) for way, times in seconds.items()}, growth)
                samples = "; ".join(
                    f"{way} " + " ".join(f"{size / MB / t:.0f}" for t in times) for way, times in seconds.items()
                )
                table.notes.append(f"{label} samples (MB/s, in order): {samples}")
    finally:
        shutil.rmtree(files, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    if "curl" not in ways:
        table.notes.append("curl is not installed: the throughput ratios are SKIP")
    table.notes.append(
        f"best of {repeats} per size, the order rotating; memory: the largest growth of the repeats "
        "(peak RSS minus RSS just before, the peak reset after imports and a warm-up download)"
    )
    table.notes.append("memory bound = 2 x chunk (1 MiB) + 4 MB; curl writes into the same folder as ours")
    return table


def _connection(base_url: str) -> str:
    import json

    return json.dumps({"conn_type": "vobiz", "login": AUTH_ID, "password": AUTH_TOKEN, "host": base_url})


def _rows(table: Table, label: str, size: int, best: dict[str, float], growth: dict[str, int]) -> None:
    bound = 2 * CHUNK_SIZE + MEMORY_SLACK
    curl = best.get("curl")
    if curl is not None:
        table.add(Row(f"curl, {label}", rate(size, curl)))
    for path, what in (("hook", "hook download"), ("operator", "operator (full path)")):
        value = rate(size, best[path])
        # The target is the hook's; the operator adds fsync and checks, shown for context.
        target = f">= {TARGET_RATIO:.2f}x" if path == "hook" else ""
        if curl is None:
            table.add(Row(f"{what}, {label}", value, "curl missing", "", target, Verdict.SKIP))
        else:
            ratio = curl / best[path]
            result = verdict(ratio >= TARGET_RATIO) if path == "hook" else Verdict.INFO
            table.add(Row(f"{what}, {label}", value, f"curl {rate(size, curl)}", f"{ratio:.2f}x", target, result))
        table.add(
            Row(
                f"{what} memory growth, {label}",
                mb(growth[path]),
                f"bound {mb(bound)}",
                f"{growth[path] / bound:.2f}",
                "<= 1.00 of bound",
                verdict(growth[path] <= bound),
            )
        )
