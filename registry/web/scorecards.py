"""Agency scorecards: the ranking of a level, one agency's scorecard, its printable page, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import format_decimal, format_percent

from registry.auth.policy import Permission
from registry.choices import AgencyBlock, AgencyLevel, SystemStatus
from registry.config import PAGE_SIZES
from registry.db import get_session
from registry.errors import NotFoundError
from registry.exports.formats import safe_cell
from registry.services import scorecards as sc
from registry.web import access
from registry.web.templating import current_locale, label_of

bp = Blueprint("scorecards", __name__)

NO_VALUE = "—"


@dataclass
class ScorecardQuery:
    level: str = AgencyLevel.PROVINCE.value
    block: str = ""
    parent: str = ""
    sort: str = "rank"
    descending: bool = False
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "level": self.level,
            "block": self.block,
            "parent": self.parent,
            "sort": "" if self.sort == "rank" else self.sort,
            "dir": "desc" if self.descending else "",
            "page": "" if self.page == 1 else self.page,
            "per_page": "" if self.per_page == PAGE_SIZES[0] else self.per_page,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}


def parse_query(args: Mapping[str, Any]) -> ScorecardQuery:
    """The ranking's query string; unknown values fall back to the defaults."""

    def positive(name: str, default: int) -> int:
        try:
            value = int(args.get(name) or default)
        except ValueError:
            return default
        return value if value > 0 else default

    level = args.get("level") or AgencyLevel.PROVINCE.value
    block = args.get("block") or ""
    sort = args.get("sort") or "rank"
    per_page = positive("per_page", PAGE_SIZES[0])
    return ScorecardQuery(
        level=level if level in AgencyLevel._value2member_map_ else AgencyLevel.PROVINCE.value,
        block=block if block in AgencyBlock._value2member_map_ else "",
        parent=(args.get("parent") or "").strip()[:40],
        sort=sort if sort in sc.SORTS else "rank",
        descending=args.get("dir") == "desc",
        page=min(positive("page", 1), 100_000),
        per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0],
    )


def fmt_indicator(value: float | int | None, unit: str) -> str:
    """An indicator in the reader's language; no result (nothing to measure) is a dash, not 0."""
    if value is None:
        return NO_VALUE
    if unit == "share":
        return str(format_percent(value, "#,##0.0%"))
    if unit == "vnd":
        return f"{format_decimal(round(value), '#,##0')} ₫"
    return str(format_decimal(value))


def systems_link(code: str, statuses: tuple[str, ...] | list[str]) -> str:
    """The systems list behind a count: the agency's (and its sub-agencies') managed systems."""
    return url_for("systems.index", agency=code, agency_role="owner", status=list(statuses))


@bp.app_template_global("scorecard_helpers")
def scorecard_helpers() -> dict[str, Any]:
    return {
        "indicators": sc.INDICATORS,
        "fmt": fmt_indicator,
        "systems_link": systems_link,
        "portfolio_statuses": sc.PORTFOLIO_STATUSES,
        "in_operation": (SystemStatus.IN_OPERATION.value,),
        "score_definition": sc.SCORE_DEFINITION,
        "scope_definition": sc.SCOPE_DEFINITION,
    }


@bp.get("/scorecards")
@access.allow(Permission.VIEW_PORTFOLIO)
def index() -> str:
    query = parse_query(request.args)
    session = get_session()
    cards = sc.scorecards(session)
    rows = sc.select_rows(
        cards,
        level=query.level,
        block=query.block or None,
        parent=query.parent or None,
        sort=query.sort,
        descending=query.descending,
        locale=current_locale(),
    )
    query.page = min(query.page, max(1, -(-len(rows) // query.per_page)))  # past the end: the last page
    start = (query.page - 1) * query.per_page
    found = sc.ScorecardPage(rows[start : start + query.per_page], len(rows), query.page, query.per_page)
    parents = sorted(
        (cards.rows[i] for ids in cards.ranked.values() for i in ids if cards.rows[i].child_ids),
        key=lambda r: (list(AgencyLevel).index(AgencyLevel(r.level)), r.name),
    )
    return render_template(
        "scorecards/index.html",
        query=query,
        found=found,
        cards=cards,
        levels=list(AgencyLevel),
        blocks=list(AgencyBlock),
        parents=[r for r in parents if r.level != AgencyLevel.COMMUNE.value],
        parent_row=cards.rows.get(cards.by_code.get(query.parent, -1)),
        page_sizes=PAGE_SIZES,
    )


@bp.get("/scorecards.csv")
@access.allow(Permission.VIEW_PORTFOLIO)
def download() -> Response:
    """Every row of the ranking as filtered (all pages), figures as the API gives them."""
    query = parse_query(request.args)
    rows = sc.select_rows(
        sc.scorecards(get_session()),
        level=query.level,
        block=query.block or None,
        parent=query.parent or None,
        sort=query.sort,
        descending=query.descending,
        locale=current_locale(),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["rank", "agency", "name", "level", "block", "parent", "score", "no_systems"]
    header += ["registered", "portfolio", "in_operation", *sc.INDICATOR_KEYS]
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    row.rank,
                    row.code,
                    row.name_in(current_locale()),
                    row.level,
                    row.block,
                    row.parent_code,
                    row.score,
                    "yes" if row.no_systems else "no",
                    row.total.registered,
                    row.total.portfolio,
                    row.total.in_operation,
                    *(row.values[key] for key in sc.INDICATOR_KEYS),
                )
            ]
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="scorecards-{query.level}-{stamp}.csv"'},
    )


def _detail(code: str) -> sc.ScorecardDetail:
    try:
        return sc.get_scorecard(get_session(), code)
    except NotFoundError:
        abort(404)


@bp.get("/scorecards/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
def detail(code: str) -> str:
    return render_template("scorecards/detail.html", card=_detail(code), printing=False)


@bp.get("/scorecards/<code>/print")
@access.allow(Permission.VIEW_PORTFOLIO)
def printable(code: str) -> str:
    """One A4 page: the figures, the level's medians and every definition, without the menus."""
    card = _detail(code)
    return render_template(
        "scorecards/print.html",
        card=card,
        printed_at=datetime.now(UTC),
        level_label=label_of("level", card.row.level),
    )
