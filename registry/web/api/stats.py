"""``GET /api/v1/stats``: the dashboard's figures, for tools that chart the portfolio themselves."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.filters import agency_subtree
from registry.services.stats import PortfolioStats, is_current, portfolio_stats
from registry.web import access
from registry.web.api import bp, fail, read_query
from registry.web.api.openapi import operation
from registry.web.dashboard import refreshing_app


class StatsQuery(BaseModel):
    agency: str = Field(
        "",
        max_length=40,
        description="Agency code: only systems it or an agency below it manages. Empty: all.",
    )


class StatsBar(BaseModel):
    key: str = Field(description="The stored value or band, stable across languages.")
    label: str = Field(description="The category in the reader's language.")
    value: int
    amount_vnd: int | None = Field(
        None, description="Estimated cost of the systems counted, where it applies."
    )
    filter: dict[str, str] = Field(
        description="Query parameters of GET /api/v1/systems listing them; empty if none."
    )


class StatsBreakdown(BaseModel):
    key: str
    title: str
    total: int
    bars: list[StatsBar]


class StatsWaiting(BaseModel):
    code: str
    name: str
    agency: str
    status: str
    since: datetime
    days: int


class StatsTrend(BaseModel):
    months: list[str] = Field(description="First day of each month, oldest first.")
    series: dict[str, list[int]]
    labels: dict[str, str]


class StatsLateAgency(BaseModel):
    code: str
    name: str
    days_late: int
    systems: int
    attested: int


class StatsRound(BaseModel):
    id: int
    title: str
    deadline: str
    agencies: int
    not_reported: int = Field(description="Agencies that have done nothing at all in the round.")
    states: dict[str, int] = Field(
        description="Agencies by state: completed, in_progress, late, not_started."
    )
    late: list[StatsLateAgency] = Field(
        description="The latest agencies, longest overdue first (at most ten)."
    )


class Stats(BaseModel):
    agency: str | None
    computed_at: datetime
    current: bool = Field(
        description="False when a write happened since computed_at: newer figures are being computed."
    )
    systems: int
    breakdowns: dict[str, StatsBreakdown]
    median_wait_days: int | None
    oldest_waiting: list[StatsWaiting]
    trend: StatsTrend
    rounds: list[StatsRound] = Field(description="Open reporting rounds, limited to the agencies in scope.")


@bp.get("/stats")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Portfolio figures", tag="portfolio", query=StatsQuery, responses={200: Stats}, errors=(404,))
def stats() -> Response:
    """The dashboard's figures: systems by status, scope level and block; open findings by
    severity; open warnings by score; systems and money in confirmed or suspected duplicates;
    proposals waiting by age; twelve months of activity from the audit trail; and each open
    reporting round's agencies by state, with the latest ones. The same
    numbers as the home page, in the reader's language, recomputed after any write."""
    query = read_query(StatsQuery)
    session = get_session()
    if query.agency and not agency_subtree(session, query.agency):
        fail(404, "not_found", f"No agency has the code {query.agency!r}.")
    figures = portfolio_stats(session, agency=query.agency or None, app=refreshing_app())
    return jsonify({**as_json(figures), "current": is_current(session, figures)})


def as_json(stats: PortfolioStats) -> dict[str, object]:
    return {
        "agency": stats.scope,
        "computed_at": stats.computed_at.isoformat(timespec="seconds"),
        "systems": stats.systems,
        "breakdowns": {
            chart.key: {
                "key": chart.key,
                "title": str(chart.title),
                "total": chart.total,
                "bars": [
                    {
                        "key": bar.key,
                        "label": str(bar.label),
                        "value": bar.value,
                        "amount_vnd": bar.amount_vnd,
                        "filter": bar.filter,
                    }
                    for bar in chart.bars
                ],
            }
            for chart in stats.breakdowns
        },
        "median_wait_days": stats.median_wait_days,
        "oldest_waiting": [
            {
                "code": p.code,
                "name": p.name,
                "agency": p.agency,
                "status": p.status,
                "since": p.since.isoformat(timespec="seconds"),
                "days": p.days,
            }
            for p in stats.oldest_waiting
        ],
        "trend": {
            "months": [month.isoformat() for month in stats.trend.months],
            "series": stats.trend.series,
            "labels": {key: str(label) for key, label in stats.trend.labels.items()},
        },
        "rounds": [
            {
                "id": standing.id,
                "title": standing.title,
                "deadline": standing.deadline.isoformat(),
                "agencies": standing.agencies,
                "not_reported": standing.not_reported,
                "states": {bar.key: bar.value for bar in standing.states.bars},
                "late": [
                    {
                        "code": p.code,
                        "name": p.name,
                        "days_late": p.days_late,
                        "systems": p.systems,
                        "attested": p.attested,
                    }
                    for p in standing.late
                ],
            }
            for standing in stats.rounds
        ],
    }
