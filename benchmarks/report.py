"""Result tables: one row per measured value, with its baseline, ratio, target and verdict.

Rows hold numbers (``benchmarks/results.json`` keeps them as they are) and render as text. A
table also carries the series its plot needs (``Table.series``), keyed by what they measure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MB = 1_000_000
MIB = 1024 * 1024
KIB = 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Row:
    """One measurement.

    :param name: what was measured.
    :param value: the measured value, in ``unit``.
    :param unit: its unit, e.g. ``"ms"``, ``"requests"``, ``"KiB"``.
    :param baseline: what it is compared with, in the same unit (None when the target is absolute).
    :param baseline_of: what the baseline is, e.g. ``"HttpSensorTrigger"``.
    :param ratio: value / baseline, or value / bound for an absolute target (None: no ratio).
    :param target: the target in words, e.g. ``"<= 0.10x"`` or ``"<= 3 requests"`` ("" for context).
    :param passed: the verdict; None for a row shown as context, with no target.
    :param note: a short remark shown after the verdict.
    """

    name: str
    value: float
    unit: str = ""
    baseline: float | None = None
    baseline_of: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def cells(self) -> tuple[str, ...]:
        baseline = "" if self.baseline is None else f"{self.baseline_of} {number(self.baseline)} {self.unit}".strip()
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        value = f"{number(self.value)} {self.unit}".strip()
        return (self.name, value, baseline, ratio, self.target, self.verdict, self.note)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_of": self.baseline_of,
            "ratio": self.ratio,
            "target": self.target,
            "pass": self.passed,
        }


def number(value: float) -> str:
    """A value with about three significant digits, without trailing noise."""
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


@dataclass
class Table:
    """The rows of one benchmark, the command that reproduces it, notes, and the series to plot."""

    title: str
    command: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    @property
    def failed(self) -> bool:
        return any(row.passed is False for row in self.rows)

    def render(self) -> str:
        header = ("measure", "value", "baseline", "ratio", "target", "result", "")
        cells = [header] + [row.cells() for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        lines = [f"== {self.title}", f"   command: {self.command}"]
        for count, line in enumerate(cells):
            lines.append("   " + "  ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)).rstrip())
            if count == 0:
                lines.append("   " + "  ".join("-" * w for w in widths[:-1]))
        lines.extend(f"   note: {note}" for note in self.notes)
        return "\n".join(lines)


def at_most(name: str, value: float, bound: float, unit: str, target: str, note: str = "") -> Row:
    """A row for an absolute bound: PASS when ``value <= bound``; the ratio is value / bound."""
    ratio = value / bound if bound else None
    return Row(name, value, unit, ratio=ratio, target=target, passed=value <= bound, note=note)


def compared(
    name: str,
    value: float,
    baseline: float,
    baseline_of: str,
    unit: str,
    *,
    at_most_ratio: float | None = None,
    note: str = "",
) -> Row:
    """A row compared with a baseline measured in the same run: value / baseline against a ratio target."""
    ratio = value / baseline if baseline else float("inf")
    passed: bool | None = None
    target = ""
    if at_most_ratio is not None:
        passed, target = ratio <= at_most_ratio, f"<= {at_most_ratio:.2f}x"
    return Row(name, value, unit, baseline, baseline_of, ratio, target, passed, note)


def write_results(tables: list[Table], path: Path) -> None:
    """``results.json``: every row with a target (and the context rows), benchmark by benchmark."""
    rows = [{"benchmark": table.title, **row.as_json()} for table in tables for row in table.rows]
    path.write_text(json.dumps(rows, indent=2) + "\n")


def write_series(tables: list[Table], path: Path) -> None:
    """The plotted series, so a plot can be redrawn without running the benchmarks again."""
    series = {key: value for table in tables for key, value in table.series.items()}
    path.write_text(json.dumps(series, indent=2) + "\n")
