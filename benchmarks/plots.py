"""The plots of ``docs/performance.md``, drawn with matplotlib from the series a run measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OURS, HTTP = "ConferenceRecordingTrigger", "HttpSensorTrigger (http provider)"


def draw(series_path: Path, folder: Path) -> list[Path]:
    """Draw every plot whose series ``series_path`` holds into ``folder``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    series: dict[str, Any] = json.loads(series_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    drawn = []
    for key, plot in PLOTS.items():
        if key in series:
            path = folder / f"{key.replace('_', '-')}.png"
            plot(series[key], path)
            drawn.append(path)
    return drawn


def _figure(title: str, xlabel: str, ylabel: str, log: bool = True) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if log:
        axes.set_xscale("log")
        axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    return figure, axes


def _save(figure: Any, axes: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def requests_per_interval(data: dict[str, list[float]], path: Path) -> None:
    figure, axes = _figure("API requests per poll interval, N waits on one account", "waits (N)", "requests")
    n = data["n"]
    axes.plot(n, [max(v, 0.1) for v in data["vobiz"]], "o-", label=f"{OURS}: all")
    axes.plot(n, [max(v, 0.1) for v in data["list"]], "s--", label=f"{OURS}: list pages")
    axes.plot(n, data["http"], "^-", label=HTTP)
    axes.plot(n, data["ideal"], "k:", label="target: pages of one listing + probes of found rows")
    _save(figure, axes, path)


def cpu_per_wait(data: dict[str, list[float]], path: Path) -> None:
    figure, axes = _figure("Trigger CPU per wait per poll interval", "waits (N)", "CPU ms per wait per interval")
    axes.plot(data["n"], data["vobiz"], "o-", label=OURS)
    axes.plot(data["n"], data["http"], "^-", label=HTTP)
    axes.plot(data["n"], [0.1 * value for value in data["http"]], "k:", label="target: 0.1x HttpSensorTrigger")
    _save(figure, axes, path)


def memory_per_wait(data: dict[str, Any], path: Path) -> None:
    figure, axes = _figure("Triggerer memory per wait (peak RSS growth / N)", "waits (N)", "KiB per wait")
    axes.set_yscale("linear")
    axes.plot(data["n"], data["vobiz"], "o-", label=OURS)
    axes.axhline(data["target_kib"], color="k", linestyle=":", label=f"target: {data['target_kib']:g} KiB")
    axes.set_ylim(bottom=0)  # after plotting, so the top still fits the data
    _save(figure, axes, path)


def download_memory(data: dict[str, Any], path: Path) -> None:
    figure, axes = _figure("Download: peak memory growth against file size", "file size (MiB)", "MB", log=False)
    axes.plot(data["size_mib"], data["growth_mb"], "o-", label="DownloadRecordingOperator (full path)")
    axes.plot(
        data["size_mib"],
        [data["growth_mb"][0] + data["flat_mb"]] * len(data["size_mib"]),
        "k:",
        label=f"target: flat within {data['flat_mb']:g} MB",
    )
    axes.set_ylim(bottom=0)
    _save(figure, axes, path)


PLOTS = {
    "requests_per_interval": requests_per_interval,
    "cpu_per_wait": cpu_per_wait,
    "memory_per_wait": memory_per_wait,
    "download_memory": download_memory,
}
