"""The benchmarks' own logic: how requests become polls, what the DAG-parse benchmark imports, and
the results file and plots a run writes (seconds, no servers); and the latency benchmark run small."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.dag_parse import provider_imports
from benchmarks.download import _rows
from benchmarks.latency import add_rows, measure_latencies, percentile
from benchmarks.plots import draw
from benchmarks.report import MIB, Row, Table, at_most, compared, write_results, write_series
from benchmarks.scale import PAGES_NEEDED, found_waits, one_interval
from benchmarks.trigger_pacing import most_in_one_interval, poll_starts


def test_a_lookup_and_the_probe_right_after_it_are_one_poll() -> None:
    # Today's trigger: the poll that finds the row probes its file at once; later polls only probe.
    requests = [(0.0, "lookup"), (0.001, "probe"), (1.0, "probe"), (2.0, "probe")]
    assert poll_starts(requests) == [0.0, 1.0, 2.0]
    assert most_in_one_interval(poll_starts(requests), 1.0) == 1


def test_pages_of_one_listing_are_one_poll_and_two_probes_in_a_row_are_two() -> None:
    listing = [(0.0, "lookup"), (0.01, "page"), (0.02, "page"), (0.03, "probe")]
    assert poll_starts(listing) == [0.0]
    assert poll_starts([(0.0, "probe"), (0.3, "probe")]) == [0.0, 0.3]
    assert most_in_one_interval([0.0, 0.3], 1.0) == 2


def test_the_scale_benchmark_counts_whole_listings_begun_in_the_interval() -> None:
    def listing(at: float, offset: int, room: str | None = None) -> dict[str, object]:
        query = f"limit=100&offset={offset}" + (f"&conference_name={room}" if room else "")
        return {"route": "recording.list", "query": query, "received_at": at}

    log = [
        listing(-0.1, 0, "Room 0001"),
        listing(0.01, 100, "Room 0001"),  # a page of a listing begun before the interval
        listing(0.9, 0),
        listing(0.95, 100),
        listing(1.02, 200),  # after the interval, but of a listing begun in it
        {"route": "media", "query": "", "received_at": 0.5},
        {"route": "recording.get", "query": "", "received_at": 0.6},
        listing(1.9, 0),  # the next interval's listing
        {"route": "media", "query": "", "received_at": 1.5},
    ]
    assert one_interval(log, 0.0, 1.0) == {"list": 3, "rounds": 1, "probe": 1, "get": 1}
    assert PAGES_NEEDED == 3  # 250 rows since the oldest since, 100 a page
    assert [found_waits(n) for n in (1, 10, 100, 1000)] == [0, 1, 10, 100]


def test_the_scale_benchmark_counts_listings_from_the_first_one_in_the_window() -> None:
    def listing(at: float) -> dict[str, object]:
        return {"route": "recording.list", "query": "limit=100&offset=0", "received_at": at}

    # Shared reads come every 1 to 1.1 intervals: an interval from the window's start may hold none.
    drifting = [listing(at) for at in (-0.02, 1.06, 2.12)]
    assert one_interval(drifting, 0.0, 1.0) == {"list": 1, "rounds": 1}
    # A second read within an interval of the first is counted.
    doubled = [listing(at) for at in (0.2, 0.7, 1.25)]
    assert one_interval(doubled, 0.0, 1.0) == {"list": 2, "rounds": 2}


def test_dag_parse_measures_the_example_dags_top_level_provider_imports() -> None:
    modules = dict(provider_imports())
    assert modules["vobiz_provider.sensors.recording"] == ["ConferenceRecordingSensor"]
    assert "DownloadRecordingOperator" in modules["vobiz_provider.operators.download"]
    # end_of_day_sweep imports the hook inside a task: a worker's import, not the parse's.
    assert "vobiz_provider.hooks.vobiz" not in modules


def test_results_file_and_plots(tmp_path: Path) -> None:
    table = Table("demo")
    table.add(at_most("memory per wait, N=1,000", 21.8, 10.0, "KiB", "<= 10 KiB"))
    table.add(compared("CPU per wait", 0.05, 1.0, "HttpSensorTrigger", "ms", at_most_ratio=0.1))
    table.add(Row("context", 3.0))
    table.series["memory_per_wait"] = {"n": [1000, 10000], "vobiz": [21.8, 21.5], "target_kib": 10.0}
    write_results([table], tmp_path / "results.json")
    write_series([table], tmp_path / "series.json")
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [(row["name"], row["pass"]) for row in rows] == [
        ("memory per wait, N=1,000", False),
        ("CPU per wait", True),
        ("context", None),
    ]
    assert {"name", "value", "baseline", "ratio", "target", "pass"} <= set(rows[0])
    assert table.failed
    drawn = draw(tmp_path / "series.json", tmp_path / "img")
    assert [path.name for path in drawn] == ["memory-per-wait.png"]
    assert drawn[0].read_bytes().startswith(b"\x89PNG")


def test_the_latency_benchmark_reports_percentiles_and_what_the_latency_adds() -> None:
    assert [percentile([3.0, 1.0, 2.0, 4.0], f) for f in (0.5, 0.9, 1.0)] == [2.0, 4.0, 4.0]
    table = Table("latency")
    run = {"n": 3, "statuses": ["success"] * 3, "requests": {"list": 1, "rounds": 1}}
    add_rows(table, [{**run, "latency": 0.0, "after_ready": [1.0, 2.0, 3.0]}])
    add_rows(table, [{**run, "latency": 0.15, "after_ready": [1.5, 2.5, 6.0], "statuses": ["success"] * 2}])
    verdicts = {row.name: row.passed for row in table.rows}
    assert verdicts["waits that succeeded, N=3, 0 ms"] and not verdicts["waits that succeeded, N=3, 150 ms"]
    both = Table("latency")
    add_rows(both, [{**run, "latency": 0.0, "after_ready": [1.0, 3.0]}, {**run, "latency": 0.15, "after_ready": [6.0]}])
    (added,) = [row for row in both.rows if row.name.startswith("what 150 ms adds")]
    assert (added.value, added.baseline, added.passed) == (3.0, 3.0, False)


def test_the_latency_benchmark_runs_small(tmp_path: Path) -> None:
    # The real thing in miniature: the fake in its own process, the waits in a child, 20 ms a request.
    results = measure_latencies(tmp_path, n=20, interval=1.0, latencies=(0.0, 0.02))
    for result in results:
        assert result["statuses"] == ["success"] * 20 and result["waiting"] == 0
        assert len(result["after_ready"]) == 20 and 0 <= max(result["after_ready"]) < 5
        assert result["requests"].get("list", 0) <= 1


def test_the_download_benchmark_targets_cpu_per_gib_and_not_wall_throughput() -> None:
    # Over a real link the network sets a download's pace: its wall time is a note, not a target.
    table = Table("download")
    _rows(table, "1 MiB", MIB, {"script": [(0.5, 0.010), (0.4, 0.012)], "operator": [(0.9, 0.011)]})
    assert [(row.name, row.target, row.passed) for row in table.rows] == [("CPU s per GiB, 1 MiB", "<= 1.20x", True)]
