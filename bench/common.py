"""Shared pieces of the benchmarks: percentiles, medians, the result table, plan builders.

Why one table: these machines are noisy (2 shared cores), so every figure is printed next to
its baseline measured in the same run, as a ratio, and with its goal.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass(frozen=True)
class Latency:
    """p50, p99 and max of a list of seconds, in milliseconds."""

    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(
            percentile(seconds, 50) * 1000,
            percentile(seconds, 99) * 1000,
            (max(seconds) if seconds else math.nan) * 1000,
        )

    def __str__(self) -> str:
        return f"{self.p50:.1f} / {self.p99:.1f} / {self.max:.0f}"


@dataclass
class Row:
    """One line of the table: what was measured, against what, and whether the goal holds."""

    bench: str
    figure: str
    result: str
    baseline: str = ""
    ratio: str = ""
    goal: str = ""
    met: bool | None = None


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, *rows: Row) -> None:
        self.rows.extend(rows)

    def render(self) -> str:
        head = ("benchmark", "figure", "result", "baseline", "ratio", "goal", "met")
        body = [
            (
                r.bench,
                r.figure,
                r.result,
                r.baseline,
                r.ratio,
                r.goal,
                "" if r.met is None else ("yes" if r.met else "NO"),
            )
            for r in self.rows
        ]
        widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

        def fmt(line: Sequence[str]) -> str:
            return "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.inf


def thousands(value: float) -> str:
    return f"{value:,.0f}"
