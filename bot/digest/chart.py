"""The digest's trend chart: outcome rate and median time to decision, week by week, as a PNG.

A pure function from numbers to bytes. It draws on its own Figure through the Agg canvas and
never touches pyplot's global figure registry, so it is safe to run in a worker thread, and it
writes no metadata (matplotlib would stamp its version), so equal numbers give equal bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import matplotlib

# Before anything can import pyplot: a server has no display, and Agg needs none.
matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH_INCHES = 8.0
HEIGHT_INCHES = 5.0
DPI = 100
RATE_COLOUR = "#2e7d32"
MEDIAN_COLOUR = "#1565c0"
EMPTY_COLOUR = "#9e9e9e"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One week of the chart; None where the week had nothing to measure."""

    label: str
    #: Whole percent, rounded half up as everywhere else it is read.
    outcome_percent: int | None
    median_time_to_decision: timedelta | None


def trend_chart(points: Sequence[TrendPoint], *, title: str) -> bytes:
    """A PNG with outcome rate (bars, %) over median time to decision (line, days)."""
    if not points:
        raise ValueError("a trend chart needs at least one week")
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    rate_axes, median_axes = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(points)))

    rates = [float(p.outcome_percent or 0) for p in points]
    bars = rate_axes.bar(positions, rates, color=RATE_COLOUR, width=0.6)
    for bar, point in zip(bars, points, strict=True):
        if point.outcome_percent is None:
            # No meeting was judged that week: say so rather than draw a misleading 0 %.
            rate_axes.text(
                bar.get_x() + bar.get_width() / 2,
                2,
                "n/a",
                ha="center",
                va="bottom",
                color=EMPTY_COLOUR,
                fontsize=8,
            )
        else:
            rate_axes.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height() + 2,
                f"{point.outcome_percent}%",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    rate_axes.set_ylim(0, 115)
    rate_axes.set_yticks([0, 25, 50, 75, 100])
    rate_axes.set_ylabel("Outcome rate (%)", fontsize=9)
    rate_axes.set_title(title, fontsize=11)

    medians = [
        p.median_time_to_decision.total_seconds() / 86400
        if p.median_time_to_decision is not None
        else math.nan
        for p in points
    ]
    # NaN breaks the line, so a week without decisions shows as a gap, not as zero days.
    median_axes.plot(positions, medians, color=MEDIAN_COLOUR, marker="o", linewidth=2)
    finite = [m for m in medians if not math.isnan(m)]
    median_axes.set_ylim(0, max([*finite, 1.0]) * 1.25)
    median_axes.set_ylabel("Median days to decide", fontsize=9)
    median_axes.set_xticks(positions, [p.label for p in points], fontsize=8)

    for axes in (rate_axes, median_axes):
        axes.grid(axis="y", color="#e0e0e0", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(labelsize=8)
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
