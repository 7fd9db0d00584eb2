"""Download: ``DownloadRecordingOperator``'s full path against ``curl -o FILE`` then ``openssl dgst -sha256 FILE``.

Targets (issue 15), for a 100 MiB and a 1 GiB WAV file over loopback:

- CPU seconds per GiB of the operator's full path (download, staging file, sha256, fsync,
  format sniff, duration with mutagen, atomic placement) at most 1.2x those of the script a
  careful user would otherwise write: ``curl -o FILE`` followed by ``openssl dgst -sha256 FILE``;
- peak memory growth flat: at 1 GiB at most 2 MB more than at 100 MiB.

Wall throughput is reported in the notes, with no target: over a real link to Vobiz the network
sets the pace, not hashing or writing (issue 22, docs/performance.md).

A separate process serves the files from disk with ``sendfile`` and checks the auth headers.
The script and the operator take turns, the operator in a fresh process each time, timed around
``execute()`` alone (after imports and a warm-up download); the script's CPU is its two
processes' user + system time (``RUSAGE_CHILDREN``), the operator's its process's CPU time over
the call (every thread). The best of the repeats counts on each side.

Every measured download starts right after the previous one's file is deleted. VMs that hand
freed memory back to their host (virtio-balloon free page reporting, as on the machines this was
written on, about 2 s after the free) make a write into such memory several times dearer,
whoever writes: a download that starts at once reuses the pages just freed, one that starts
seconds later (after Airflow's imports) may not.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

from benchmarks.procs import Server, child_env, run_child, wait_at_gate
from benchmarks.report import GIB, MB, MIB, Table, at_most, compared

CPU_TARGET_RATIO = 1.20
FLAT_BYTES = 2 * MB
CHUNK_SIZE = 1024 * 1024  # the operator's default chunk
AUTH_ID, AUTH_TOKEN = "MA_BENCH0001", "bench-token-0001"
FULL_SIZES, QUICK_SIZES = (100 * MIB, 1024 * MIB), (16 * MIB, 64 * MIB)
WRITE_BLOCK = 4 * MIB
REPEATS = 3


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
        noise = os.urandom(WRITE_BLOCK)  # one block of noise, repeated: nothing on the path compresses
        while left > 0:
            block = noise[: min(WRITE_BLOCK, left)]
            handle.write(block)
            left -= len(block)
        handle.seek(0)
        digest = hashlib.sha256()
        while block := handle.read(WRITE_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def script(url: str, dest: Path, size: int, sha256: str) -> tuple[float, float]:
    """``curl -o dest`` then ``openssl dgst -sha256 dest``: wall seconds and CPU seconds of both."""
    headers = ["-H", f"X-Auth-ID: {AUTH_ID}", "-H", f"X-Auth-Token: {AUTH_TOKEN}"]
    cpu, started = _children_cpu(), time.perf_counter()
    curl = ["curl", "-s", "-f", "-o", str(dest), *headers, url]
    subprocess.run(curl, check=True, capture_output=True, timeout=300)
    digest = subprocess.run(["openssl", "dgst", "-sha256", str(dest)], check=True, capture_output=True, text=True)
    wall, used = time.perf_counter() - started, _children_cpu() - cpu
    if dest.stat().st_size != size or not digest.stdout.strip().endswith(sha256):
        raise RuntimeError(f"curl + openssl got different bytes: {digest.stdout.strip()}")
    return wall, used


def measure(url: str, dest: str, warmup: str, warmup_dest: str) -> dict[str, Any]:
    """In a child: one warm-up download, then (when the parent says go) the measured one; wall, CPU, memory."""
    from benchmarks.memory import peak_rss, start_peak
    from vobiz_provider.operators.download import DownloadRecordingOperator

    def download(source: str, target: str) -> dict[str, Any]:
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
        result: dict[str, Any] = operator.execute({})  # no outlets: the context is not read
        return result

    download(warmup, warmup_dest)
    os.remove(warmup_dest)
    wait_at_gate()
    before = start_peak()
    cpu, started = time.process_time(), time.perf_counter()
    result = download(url, dest)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": used,
        "bytes": result["bytes"],
        "sha256": result["sha256"],
        "growth": peak_rss() - before,
    }


def run(quick: bool, workdir: Path) -> Table:
    sizes, repeats = (QUICK_SIZES, 2) if quick else (FULL_SIZES, REPEATS)
    table = Table("download: DownloadRecordingOperator (full path) vs curl -o FILE && openssl dgst -sha256 FILE")
    for tool in ("curl", "openssl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (make bench installs it with apt-get)")
    files, out = workdir / "files", workdir / "out"
    files.mkdir()
    out.mkdir()
    env = child_env(workdir / "airflow")
    growths: list[int] = []
    try:
        make_wav(files / "warmup.wav", MIB)
        server_args = {"root": str(files), "auth_id": AUTH_ID, "auth_token": AUTH_TOKEN}
        with Server("files", server_args, env, max_seconds=900) as server:
            base = server.info["base_url"]
            env = child_env(workdir / "airflow", {"vobiz_default": _connection(base)})
            for size in sizes:
                name, label = f"{size // MIB}mib.wav", f"{size // MIB:,} MiB"
                sha256 = make_wav(files / name, size)
                url = f"{base}/files/{name}"
                samples: dict[str, list[tuple[float, float]]] = {"script": [], "operator": []}
                growth = 0
                # Each measured download starts right after the previous one's file is deleted (see above).
                previous = out / "warm-up.wav"
                script(url, previous, size, sha256)
                for repeat in range(repeats):
                    for way in ("script", "operator")[:: 1 if repeat % 2 == 0 else -1]:
                        dest = out / f"{way}-{repeat}.wav"
                        if way != "operator":
                            previous.unlink()
                            samples[way].append(script(url, dest, size, sha256))
                        else:
                            warmup = {
                                "warmup": f"{base}/files/warmup.wav",
                                "warmup_dest": str(out / "warm-up-1mib.wav"),
                            }
                            args = {"url": url, "dest": str(dest), **warmup}
                            result = run_child("download:measure", args, env, timeout=300, on_gate=previous.unlink)
                            if result["bytes"] != size or result["sha256"] != sha256:
                                raise RuntimeError(f"the operator's download of {name} got different bytes")
                            samples[way].append((result["wall"], result["cpu"]))
                            growth = max(growth, result["growth"])
                        previous = dest
                previous.unlink()
                (files / name).unlink()
                growths.append(growth)
                _rows(table, label, size, samples)
                table.notes.append(
                    f"{label} samples (wall s / CPU s): "
                    + "; ".join(
                        f"{way} " + ", ".join(f"{wall:.2f}/{cpu:.2f}" for wall, cpu in pairs)
                        for way, pairs in samples.items()
                    )
                    + f"; operator memory growth {growth / MB:.1f} MB"
                )
    finally:
        shutil.rmtree(files, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    small, large = sizes[0] // MIB, sizes[-1] // MIB
    table.add(
        at_most(
            f"operator memory growth at {large:,} MiB minus at {small:,} MiB",
            (growths[-1] - growths[0]) / MB,
            FLAT_BYTES / MB,
            "MB",
            f"<= {FLAT_BYTES / MB:g} MB",
            note=f"{growths[0] / MB:.1f} MB at {small:,} MiB, {growths[-1] / MB:.1f} MB at {large:,} MiB",
        )
    )
    table.series["download_memory"] = {
        "size_mib": [size // MIB for size in sizes],
        "growth_mb": [growth / MB for growth in growths],
        "flat_mb": FLAT_BYTES / MB,
    }
    table.notes.append(
        f"best of {repeats} per side and size, the order alternating; memory: the largest peak RSS growth of "
        "the repeats (the peak reset after imports and a warm-up download); both write into the same folder"
    )
    return table


def _connection(base_url: str) -> str:
    return json.dumps({"conn_type": "vobiz", "login": AUTH_ID, "password": AUTH_TOKEN, "host": base_url})


def _rows(table: Table, label: str, size: int, samples: dict[str, list[tuple[float, float]]]) -> None:
    gib = size / GIB
    ours_cpu = min(cpu for _, cpu in samples["operator"]) / gib
    script_cpu = min(cpu for _, cpu in samples["script"]) / gib
    table.add(
        compared(f"CPU s per GiB, {label}", ours_cpu, script_cpu, "curl+openssl", "s", at_most_ratio=CPU_TARGET_RATIO)
    )
