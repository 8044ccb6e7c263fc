"""A small server-side chart of a system's usage: active users and cost per period, as SVG.

Only geometry is computed here; the template draws it and shows the same figures in a table,
so screen readers and printouts lose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l

from registry.models import UsageReport

WIDTH, HEIGHT, PADDING_TOP, AXIS = 320, 120, 14, 18
MAX_PERIODS = 8


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    period: str
    value: str


@dataclass
class Series:
    key: str
    title: object
    bars: list[Bar]
    peak: str
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return HEIGHT - AXIS


def _short_period(report: UsageReport) -> str:
    return f"{format_date(report.period_start, 'MM/yy')}–{format_date(report.period_end, 'MM/yy')}"


def usage_chart(reports: Sequence[UsageReport]) -> list[Series]:
    """Bars of active users and of cost for the latest periods, oldest on the left; a series
    with no figure at all is left out, and so is the chart when no report has any."""
    latest = sorted(reports, key=lambda r: (r.period_end, r.period_start))[-MAX_PERIODS:]
    charts = []
    for key, title in (("active_users", _l("Active users")), ("cost_vnd", _l("Operating cost (VND)"))):
        values = [getattr(r, key) for r in latest]
        known = [v for v in values if v is not None]
        if not known:
            continue
        peak = max(known) or 1
        slot = WIDTH / len(latest)
        width = min(36.0, slot * 0.6)
        usable = HEIGHT - AXIS - PADDING_TOP
        bars = []
        for index, (report, value) in enumerate(zip(latest, values, strict=True)):
            height = 0.0 if value is None else max(1.0, usable * value / peak)
            bars.append(
                Bar(
                    x=round(index * slot + (slot - width) / 2, 1),
                    y=round(HEIGHT - AXIS - height, 1),
                    width=round(width, 1),
                    height=round(height, 1),
                    period=_short_period(report),
                    value="—" if value is None else format_decimal(value),
                )
            )
        charts.append(Series(key, title, bars, format_decimal(max(known))))
    return charts
