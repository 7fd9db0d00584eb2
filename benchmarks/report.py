"""Result tables: one row per measured value, with its baseline, ratio, target and verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

MB = 1_000_000
MIB = 1024 * 1024


class Verdict(str, Enum):
    """The outcome of one row; only FAIL makes ``python -m benchmarks`` exit 1."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    INFO = "info"


def verdict(ok: bool) -> Verdict:
    return Verdict.PASS if ok else Verdict.FAIL


@dataclass(frozen=True)
class Row:
    """One measurement.

    :param measure: what was measured.
    :param value: the measured value, formatted with its unit.
    :param baseline: what it is compared with (or "" when the target is absolute).
    :param ratio: value / baseline as the target states it (or "").
    :param target: the target in words, e.g. ">= 1.10x".
    :param verdict: PASS, FAIL, SKIP or INFO (context, no target).
    """

    measure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: Verdict = Verdict.INFO


@dataclass
class Table:
    """The rows of one benchmark, the command that reproduces it, and notes on what was run."""

    title: str
    command: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    @property
    def failed(self) -> bool:
        return any(row.verdict is Verdict.FAIL for row in self.rows)

    def render(self) -> str:
        header = ("measure", "value", "baseline", "ratio", "target", "result")
        cells = [header] + [(r.measure, r.value, r.baseline, r.ratio, r.target, r.verdict.value) for r in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        lines = [f"== {self.title}", f"   command: {self.command}"]
        for number, line in enumerate(cells):
            lines.append(
                "   " + "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
            )
            if number == 0:
                lines.append("   " + "  ".join("-" * width for width in widths))
        lines.extend(f"   note: {note}" for note in self.notes)
        return "\n".join(lines)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f} MB"


def rate(n_bytes: float, seconds: float) -> str:
    return f"{n_bytes / MB / seconds:.0f} MB/s"
