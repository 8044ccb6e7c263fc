"""The whole portfolio's findings, decision log and duplicate clusters: what auditors and the
standing office read across systems, where ``/systems/<code>/findings`` and ``…/decisions``
show one system's."""

from __future__ import annotations

from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.services import api_lists, clusters
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import bp, page_response, read_query
from registry.web.api import schemas as s
from registry.web.api.openapi import operation
from registry.web.templating import current_locale


@bp.get("/findings")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List findings", tag="review", query=s.FindingListQuery, responses={200: s.FindingPage})
def findings_list() -> Response:
    """Every justification rule (R1–R10) a system currently fails, most severe first, then by
    system code; title and message in the reader's language."""
    query = read_query(s.FindingListQuery)
    found = api_lists.list_findings(
        get_session(),
        rule=query.rule,
        severity=query.severity.value if query.severity else None,
        agency=query.agency,
        statuses=[status.value for status in query.status],
        locale=current_locale(),
        page=query.page,
        per_page=query.per_page,
    )
    return page_response("api.findings_list", query, found.items, found.total)


@bp.get("/decisions")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List decisions", tag="review", query=s.DecisionListQuery, responses={200: s.DecisionPage})
def decisions_list() -> Response:
    """The standing office's decision log, latest first, filtered as its export is; a submitter
    sees the decisions on their own agency's systems, as in the export."""
    query = read_query(s.DecisionListQuery)
    found = api_lists.list_decisions(
        get_session(),
        current_actor(),
        since=query.since,
        until=query.until,
        outcomes=query.status,
        agency=query.agency,
        page=query.page,
        per_page=query.per_page,
    )
    return page_response("api.decisions_list", query, found.items, found.total)


@bp.get("/clusters")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List duplicate clusters", tag="review", query=s.ClusterListQuery, responses={200: s.ClusterPage})
def clusters_list() -> Response:
    """Groups of systems that all do the same job — every two members linked by a standing
    duplication warning (open at or above the warning threshold, or confirmed) — largest
    first. Shared platforms and their deployments are reuse and are never members."""
    query = read_query(s.ClusterListQuery)
    found = clusters.find_clusters(
        get_session(),
        capability=query.capability,
        province=query.province,
        min_size=query.min_size,
        page=query.page,
        per_page=query.per_page,
    )
    locale = current_locale()
    items = [clusters.cluster_item(found.clusters, cluster, locale) for cluster in found.items]
    return page_response("api.clusters_list", query, items, found.total)
