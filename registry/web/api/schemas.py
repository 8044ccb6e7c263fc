"""Shapes of the API's requests and responses, as pydantic models.

They are the source of the OpenAPI document (:mod:`registry.web.api.openapi`): each model's
JSON Schema becomes a component. Requests are still read by the services' own parsers
(:func:`registry.interchange.record.typed`, the filters), so the API and the forms and imports
accept exactly the same values; these models describe those values for clients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator

from registry.choices import (
    AgencyBlock,
    AgencyLevel,
    DependencyKind,
    Disposition,
    Hosting,
    JobKind,
    JobStep,
    Severity,
    SystemStatus,
)
from registry.config import PAGE_SIZES
from registry.exports.records import OUTCOMES
from registry.filters import AGENCY_ROLES, MAX_PAGE, SORTS
from registry.models.system import RECORD_COLUMNS, SystemBase
from registry.rules import RULES

SortOrder = Literal[tuple(SORTS)]  # type: ignore[valid-type]
AgencyRole = Literal[AGENCY_ROLES]  # type: ignore[valid-type]
RuleCode = Literal[tuple(rule.code for rule in RULES)]  # type: ignore[valid-type]
Outcome = Literal[tuple(OUTCOMES)]  # type: ignore[valid-type]

T = TypeVar("T")


def _listed(value: Any) -> Any:
    """A parameter given once arrives as one string, repeated as a list: both are a list."""
    return value if isinstance(value, list) else [value]


Repeated = Annotated[list[T], BeforeValidator(_listed)]
"""A query parameter that may be repeated (``status=a&status=b``)."""


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code: unauthenticated, forbidden, invalid, …")
    message: str = Field(description="Human-readable, in the caller's language when translated.")
    fields: dict[str, list[str]] | None = Field(
        None, description="Messages per field (record column), for code `invalid`."
    )
    current_version: int | None = Field(None, description="For code `conflict`: the record's version now.")
    request_id: str | None = Field(
        None, description="For code `server_error`: the request id (as in `X-Request-ID`), to quote."
    )


class Error(BaseModel):
    """Every error response has this shape."""

    error: ErrorBody


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    agency: str | None
    scope: Literal["read", "write", "session"]


_BY_CODE: dict[str, tuple[Any, Any]] = {
    "instance_of": (str | None, Field(None, description="Code of the shared platform this deploys.")),
    "owner_agency": (str | None, Field(None, description="Agency code of the managing agency.")),
    "operator_agency": (str | None, Field(None, description="Agency code of the operating agency.")),
    "user_agencies": (list[str] | None, Field(None, description="Agency codes.")),
    "capabilities": (list[str] | None, Field(None, description="Capability codes.")),
    "data_domains": (list[str] | None, Field(None, description="Data domain codes.")),
}
_CHOICES: dict[str, tuple[Any, Any]] = {
    "status": (
        SystemStatus | None,
        Field(None, description="Kept as is by an edit; change it with POST …/transitions."),
    ),
    "scope_level": (AgencyLevel | None, None),
    "hosting": (Hosting | None, None),
}
_CONSTRAINTS = {
    annotated_types.MaxLen: "max_length",
    annotated_types.Ge: "ge",
    annotated_types.Le: "le",
}


def _record_field(column: str) -> tuple[Any, Any]:
    """A writable column as the API describes it, with the limits of its declaration."""
    if column in _BY_CODE:
        return _BY_CODE[column]
    if column in _CHOICES:
        return _CHOICES[column]
    declared = SystemBase.model_fields[column]
    limits = {
        _CONSTRAINTS[type(m)]: getattr(m, _CONSTRAINTS[type(m)])
        for m in declared.metadata
        if type(m) in _CONSTRAINTS
    }
    return (declared.annotation | None, Field(None, **limits))


SystemFields = create_model(
    "SystemFields",
    __doc__="The writable columns of the interchange record; relations are given by code.",
    **{column: _record_field(column) for column in RECORD_COLUMNS},  # type: ignore[call-overload]
)


class SystemWrite(SystemFields):  # type: ignore[valid-type,misc]
    """A system to register (POST) or to save (PUT replaces, PATCH changes only what is sent).

    Read-only columns of :class:`System` (code, timestamps, editable…) may be sent back and
    are ignored, so a GET response can be PUT unchanged.
    """

    version: int | None = Field(None, description="Required by PUT and PATCH: the version you read.")


class System(SystemFields):  # type: ignore[valid-type,misc]
    """A system as the registry holds it: the interchange record."""

    model_config = ConfigDict(json_schema_extra={"required": ["code", "version", "editable"]})

    code: str
    owner_agency_name: str | None = None
    external_id: str | None = None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    editable: bool = Field(description="Whether the caller may edit this system now.")


class SystemSummary(BaseModel):
    code: str
    name: str
    status: str
    scope_level: str
    is_shared_platform: bool
    owner_agency: str | None
    version: int
    updated_at: datetime | None
    open_findings: int = Field(description="Justification rules the system fails now.")
    best_warning_score: float | None = Field(
        description="Highest score of its open or confirmed duplication warnings; null without one."
    )


class PageLinks(BaseModel):
    self: str
    first: str
    last: str
    next: str | None = None
    prev: str | None = None


class PageInfo(BaseModel):
    total: int = Field(description="Matches counted; see `more`.")
    more: bool = Field(False, description="True when more systems match than were counted.")
    page: int
    per_page: int
    pages: int
    links: PageLinks


class SystemPage(PageInfo):
    items: list[SystemSummary]


class SystemListQuery(BaseModel):
    """The list page's filters, with the same names and values."""

    q: str = Field("", max_length=200, description="Words that must all occur (accents optional).")
    status: list[SystemStatus] = Field(default_factory=list, description="Repeat to allow several.")
    agency: str = Field("", max_length=40, description="Agency code; its sub-agencies are included.")
    agency_role: AgencyRole = "any"
    level: AgencyLevel | None = None
    capability: str = Field("", max_length=40, description="Capability code.")
    shared: Literal["yes", "no"] | None = None
    block: AgencyBlock | None = Field(None, description="Block of the managing agency.")
    severity: Severity | None = Field(None, description="Systems with an open finding of this severity.")
    warnings: Literal["confirmed", "suspected"] | None = Field(
        None,
        description="In a confirmed duplicate pair, or only in open duplication warnings (suspected).",
    )
    sort: SortOrder | None = Field(
        None,
        description=(
            "Order of the list: a column, `-` before it for descending (`-score`: highest warning "
            "score first; `findings`: open findings; `status` and `level` in lifecycle and scope "
            "order). Without it, the best matches first when `q` is given (`relevance`), else "
            "`name`. Ties are broken by name."
        ),
    )
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Past the last page, the last page is returned.")
    per_page: int = Field(25, json_schema_extra={"enum": list(PAGE_SIZES)})


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(25, json_schema_extra={"enum": list(PAGE_SIZES)})

    @field_validator("per_page")
    @classmethod
    def _a_page_size(cls, value: int) -> int:
        if value not in PAGE_SIZES:
            raise ValueError("must be 25, 50 or 100")
        return value


class WarningListQuery(PageQuery):
    disposition: Disposition | None = None
    min_score: float | None = Field(None, ge=0, le=1)


class FindingListQuery(PageQuery):
    rule: RuleCode | None = None
    severity: Severity | None = None
    agency: str = Field("", max_length=40, description="Owner agency code; its sub-agencies are included.")
    status: Repeated[SystemStatus] = Field(
        default_factory=list, description="The system's status; repeat to allow several."
    )


class DecisionListQuery(PageQuery):
    """The decision log export's filters, with the same names."""

    since: date | None = Field(None, description="Decided on or after this day (UTC).")
    until: date | None = Field(None, description="Decided on or before this day (UTC).")
    status: Repeated[Outcome] = Field(
        default_factory=list, description="The decision (its `outcome`); repeat to allow several."
    )
    agency: str = Field("", max_length=40, description="Owner agency code; its sub-agencies are included.")


class AgencyListQuery(PageQuery):
    level: AgencyLevel | None = None
    parent: str | None = Field(None, max_length=40, description="Only the children of this agency code.")


class Transition(BaseModel):
    action: str = Field(
        description="submit, withdraw, start_review, approve, request_changes, reject, deploy, retire…",
        examples=["submit"],
    )
    reason: str | None = Field(None, description="Required for decisions.")
    reuse_code: str | None = Field(None, description="For decisions: the system to reuse instead.")
    version: int | None = Field(None, description="The version you read; refused if it changed.")


class DependencyWrite(BaseModel):
    target_code: str
    kind: DependencyKind
    note: str | None = None


class DependencyCreated(BaseModel):
    id: int
    source: str
    target: str | None
    kind: str


class DependencyEdge(BaseModel):
    id: int
    kind: str
    note: str | None
    system: str = Field(description="Code of the system at the other end.")
    name: str


class Neighbourhood(BaseModel):
    outgoing: list[DependencyEdge] = Field(description="What this system depends on.")
    incoming: list[DependencyEdge] = Field(description="The first dependants (see incoming_count).")
    incoming_count: int
    deployments: list[str] = Field(description="Codes of the first deployments of this platform.")
    deployment_count: int


class DuplicateWarning(BaseModel):
    id: int
    system_a: str | None
    system_b: str | None
    score: float
    relation: str
    components: dict[str, Any]
    reasons: list[dict[str, Any]]
    detector_version: str
    disposition: str
    disposition_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    version: int


class WarningSeen(DuplicateWarning):
    """A warning seen from one of its systems, its reasons in the reader's language."""

    other: str
    explanations: list[str]


class WarningList(BaseModel):
    items: list[WarningSeen]


class WarningPage(PageInfo):
    items: list[DuplicateWarning]


class Disposal(BaseModel):
    disposition: Literal["confirmed", "justified", "dismissed"]
    reason: str
    version: int = Field(description="The warning's version you read.")


class Finding(BaseModel):
    rule: str = Field(examples=["R1"])
    severity: str
    title: str
    message: str
    details: dict[str, Any]


class FindingList(BaseModel):
    items: list[Finding]


class PortfolioItem(BaseModel):
    """Which system an item of a portfolio-wide list is about."""

    system: str = Field(description="The system's code.")
    system_name: str
    owner_agency: str | None = Field(description="The owner agency's code.")


class PortfolioFinding(Finding, PortfolioItem):
    """A finding in the portfolio's list: the system it is about, and when it was found."""

    detected_at: datetime | None


class FindingPage(PageInfo):
    items: list[PortfolioFinding]


class Decision(BaseModel):
    outcome: str
    outcome_label: str
    reason: str
    reviewer: str
    reuse_system: str | None
    decided_at: datetime | None


class DecisionList(BaseModel):
    items: list[Decision]


class PortfolioDecision(Decision, PortfolioItem):
    """A decision in the portfolio's log, with the system it decided."""


class DecisionPage(PageInfo):
    items: list[PortfolioDecision]


class Agency(BaseModel):
    code: str
    name: str
    name_en: str | None
    level: str
    block: str
    parent: str | None


class AgencyPage(PageInfo):
    items: list[Agency]


class ClusterListQuery(PageQuery):
    capability: str = Field("", max_length=40, description="Only clusters named by this capability code.")
    province: str = Field(
        "", max_length=40, description="Only clusters with a member in this province (its agency code)."
    )
    min_size: int = Field(3, ge=2, le=100_000, description="Only clusters of at least this many systems.")


class ClusterPlace(BaseModel):
    code: str
    name: str


class ClusterMember(BaseModel):
    code: str
    name: str
    status: str
    agency: ClusterPlace = Field(description="The managing agency.")
    province: ClusterPlace | None = Field(
        description="The province of the managing agency; null for central ones."
    )
    cost_vnd: int | None = Field(description="Estimated cost in đồng, if recorded.")


class ClusterPair(BaseModel):
    warning_id: int
    a: str = Field(description="A member's code.")
    b: str = Field(description="Another member's code.")
    score: float
    confirmed: bool = Field(description="Confirmed as a duplicate by the standing office (else open).")


class ClusterPlatform(ClusterPlace):
    basis: Literal["warning", "capability"] = Field(
        description="`warning`: the members' warnings point at this shared platform; `capability`: "
        "it provides the cluster's capability."
    )


class Cluster(BaseModel):
    """Systems that all do the same job: every two members are linked by a standing warning."""

    id: str = Field(description="Stable for the same members.", examples=["C-0a4cf4c186e6"])
    name: str = Field(description="The shared capability (or function, or terms), in the reader's language.")
    capability: str | None = Field(description="The capability code naming the cluster, if one does.")
    named_by: Literal["capability", "function", "terms", "none"]
    size: int
    members: list[ClusterMember]
    agencies: list[ClusterPlace]
    provinces: list[ClusterPlace]
    total_cost_vnd: int = Field(description="Sum of the members' recorded estimated costs.")
    cost_unknown: int = Field(description="Members whose cost is not recorded.")
    best_score: float
    min_score: float = Field(description="The weakest link: every pair scores at least this.")
    platform: ClusterPlatform | None = Field(description="A shared platform that could replace the cluster.")
    confirmed_pairs: int
    pairs: list[ClusterPair]


class ClusterPage(PageInfo):
    items: list[Cluster]


class SimilarQuery(BaseModel):
    name: str | None = None
    description: str | None = None
    purpose: str | None = None
    capability_ids: list[int] | None = None
    scope_level: str | None = None
    owner_agency_id: int | None = None
    system_id: int | None = Field(None, description="A system being edited, left out of its own matches.")
    k: int | None = Field(None, ge=1, le=50)


class SimilarResult(BaseModel):
    matches: list[dict[str, Any]]
    too_short: bool


# --- usage reports and reporting rounds ------------------------------------------------------------


class UsageWrite(BaseModel):
    """A usage report for one period; sending the same period again corrects it."""

    period_start: date
    period_end: date
    active_users: int | None = Field(None, ge=0, description="People who used the system in the period.")
    transactions: int | None = Field(None, ge=0, description="Documents, requests or records handled.")
    cost_vnd: int | None = Field(None, ge=0, description="Operating cost for the period, in VND.")
    note: str | None = Field(None, max_length=500)


class UsageReport(BaseModel):
    period_start: date
    period_end: date
    active_users: int | None
    transactions: int | None
    cost_vnd: int | None
    note: str | None
    round_id: int | None = Field(description="The reporting round it was filed in, if any.")
    filed_by: str | None
    filed_at: datetime | None


class UsageReportList(BaseModel):
    items: list[UsageReport] = Field(description="Latest period first.")


class RoundListQuery(PageQuery):
    status: Literal["open", "closed"] | None = None


class RoundSummary(BaseModel):
    id: int
    title: str
    status: Literal["open", "closed"]
    period_start: date
    period_end: date
    deadline: date
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    agencies: int = Field(description="Agencies the round covers.")
    completed: int
    in_progress: int
    late: int
    not_started: int
    not_reported: int = Field(description="Agencies that attested and reported nothing at all (late or not).")


class RoundPage(PageInfo):
    items: list[RoundSummary]


class AgencyProgress(BaseModel):
    agency: str = Field(description="Agency code.")
    name: str
    level: AgencyLevel
    systems: int = Field(description="Systems in operation it manages.")
    attested: int = Field(description="Of them, attested in this round.")
    with_usage: int = Field(description="Of them, with a usage report for the round's period.")
    state: Literal["not_started", "in_progress", "completed", "late"]
    deadline: date = Field(description="The round's deadline, or the extension granted to this agency.")
    days_late: int = Field(description="Past the deadline (as of today, or when it completed).")
    completed_at: datetime | None
    last_reminded_at: datetime | None


class Round(RoundSummary):
    progress: list[AgencyProgress] = Field(description="Late agencies first, most late first.")


class AttestationWrite(BaseModel):
    system: str = Field(description="The system's public code.")
    outcome: Literal["confirmed", "corrected"]
    note: str | None = Field(None, max_length=500)
    changes: dict[str, Any] | None = Field(
        None, description="For `corrected`: the columns to change, as in PATCH /systems/{code}."
    )
    version: int | None = Field(None, description="For `corrected`: the system's version you read.")


class Attestation(BaseModel):
    id: int
    round_id: int
    system: str
    agency: str
    outcome: Literal["confirmed", "corrected"]
    note: str | None
    attested_by: str
    attested_at: datetime
    agency_completed: bool = Field(description="True once the agency's part of the round is complete.")


RelationKind = Literal[(*(kind.value for kind in DependencyKind), "instance_of", "various")]  # type: ignore[valid-type]


class GraphQuery(BaseModel):
    focus: str = Field(description="Public code of the system at the centre, e.g. HTTT-2026-000123.")
    hops: int = Field(2, ge=1, le=3, description="How many connections out to follow (1 to 3).")


class GraphGroup(BaseModel):
    by: Literal["agency", "province", "level", "all"] = Field(
        description="What the collapsed systems share: their owner agency, its province (or, for "
        "central agencies, the branch), their agency level, or nothing more."
    )
    agency: str | None = Field(None, description="Agency code, when grouped by agency or province.")
    name: str | None = Field(None, description="The agency's or level's name in the caller's language.")
    level: str | None = None


class GraphNode(BaseModel):
    """A system, or a group of systems collapsed into one node (``type`` says which)."""

    id: str = Field(description="The system's code, or `g<n>` for a group.")
    type: Literal["system", "group"]
    label: str = Field(
        description="Short label: the name, cut at a word boundary; a group's count and owner."
    )
    name: str
    hops: int = Field(description="Connections between this node and the focus.")
    degree: int = Field(description="The system's connections in the whole portfolio; a group's size.")
    code: str | None = None
    status: SystemStatus | None = None
    scope_level: str | None = None
    agency: str | None = Field(None, description="Owner agency code.")
    agency_name: str | None = None
    agency_level: str | None = None
    is_shared_platform: bool = False
    focus: bool = False
    isolated: bool = Field(False, description="Rule R7: connected to no shared platform.")
    duplicates_central: bool = Field(
        False, description="Rule R6: a local system doing what a central shared platform does."
    )
    duplicates_platform: str | None = Field(None, description="For R6: the central platform's code.")
    count: int | None = Field(None, description="For a group: how many connections it stands for.")
    via: str | None = Field(None, description="For a group: the system whose connections it collapses.")
    group: GraphGroup | None = None


class GraphEdge(BaseModel):
    """``source`` depends on ``target`` (or, for ``instance_of``, deploys it); ``various`` joins a
    group whose relations were counted without reading their kinds."""

    id: str
    source: str
    target: str
    kind: RelationKind
    count: int = Field(description="1 for a single relation; for a group, the relations it stands for.")
    kinds: dict[str, int] | None = Field(None, description="For a group: relations by kind.")


class GraphCollapsed(GraphGroup):
    node: str = Field(description="The group node's id.")
    via: str
    count: int


class Graph(BaseModel):
    """A system's neighbourhood: at most `cap` nodes, busy neighbourhoods collapsed into groups."""

    focus: str
    hops: int
    cap: int
    truncated: bool = Field(description="True when something was collapsed or left unexpanded.")
    collapsed: list[GraphCollapsed]
    unexpanded: list[str] = Field(description="Systems whose further connections did not fit.")
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class ScorecardListQuery(PageQuery):
    """Which scorecards: one level (every agency of it has a row), optionally one block."""

    level: AgencyLevel = AgencyLevel.PROVINCE
    block: AgencyBlock | None = None
    parent: str | None = Field(None, max_length=40, description="Only the children of this agency code.")


class ScorecardAgency(BaseModel):
    code: str
    name: str
    level: str
    block: str
    parent: str | None = Field(description="The parent agency's code.")


class ScorecardSystems(BaseModel):
    registered: int = Field(description="Systems managed by the agency and those below it, any status.")
    portfolio: int = Field(description="Of those, submitted, in review, approved or in operation.")
    in_operation: int
    own_registered: int = Field(description="Systems the agency itself manages, any status.")


class ScorecardIndicators(BaseModel):
    """Shares are fractions from 0 to 1; ``null`` means nothing to measure (no division by zero)."""

    governance: float | None
    connected: float | None
    findings_high: int | None
    findings_medium: int | None
    findings_low: int | None
    duplicates: float | None
    fresh: float | None
    usage_reporting: float | None
    active_user_rate: float | None
    cost_per_active_user: float | None = Field(description="Đồng per active user.")


class Scorecard(BaseModel):
    """One agency's figures: its own managed systems together with those of every agency below."""

    agency: ScorecardAgency
    rank: int | None = Field(description="Within the level by composite score; null without a score.")
    score: float | None = Field(description="Composite score 0–100; null when nothing can be measured.")
    no_systems: bool = Field(description="No system registered for the agency or below it: itself a finding.")
    systems: ScorecardSystems
    indicators: ScorecardIndicators
    counts: dict[str, int] = Field(description="The numerators and denominators behind the indicators.")


class ScorecardPage(PageInfo):
    items: list[Scorecard]


class IndicatorDefinition(BaseModel):
    key: str
    name: str
    definition: str
    unit: Literal["share", "count", "vnd"]
    better: Literal["higher", "lower"]
    in_score: bool


class ScorecardDetail(Scorecard):
    """An agency's scorecard with its own systems alone, its level's medians and its children."""

    own_indicators: ScorecardIndicators = Field(description="The agency's own systems only.")
    level_median: dict[str, float | None] = Field(
        description="Median per indicator (and `score`) of the level."
    )
    level_size: int
    children: list[Scorecard]
    definitions: list[IndicatorDefinition]
    score_definition: str
    scope_definition: str


JobKindName = Literal[tuple(kind.value for kind in JobKind)]  # type: ignore[valid-type]
JobStepName = Literal[tuple(step.value for step in JobStep)]  # type: ignore[valid-type]


class Job(BaseModel):
    """A background job and how far it has got; poll ``url`` until ``active`` is false."""

    id: int
    kind: JobKindName = Field(
        description="scan, embed (meaning analysis), import, export, remind (reporting reminders) "
        "or index (overlap index build)."
    )
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    step: JobStepName | None = Field(
        description="The phase under way: a scan compares systems (compare), then checks the rules "
        "R1–R10 (rules); the meaning analysis embeds texts (embed), then compares (compare)."
    )
    done: int = Field(description="Units done in the current step (rows compared, texts embedded).")
    total: int = Field(description="Units in the current step; 0 until the step knows.")
    percent: int = Field(ge=0, le=100)
    counts: dict[str, int | float | str | bool | None] = Field(
        description="When succeeded, for a scan: systems, pairs, created, updated, removed, findings; "
        "for the meaning analysis: texts, embedded, then pairs, created, updated, removed if it compared."
    )
    error: str | None = Field(
        description="Why it failed: `worker_lost` when the worker stopped while running it, "
        "`encoder_missing` when the meaning analysis has no sentence encoder, `import_refused`."
    )
    cancel_requested: bool
    started_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: int
    active: bool = Field(description="Queued or running.")
    url: str = Field(description="This job in the API.")
    page: str = Field(description="This job's page, with a progress bar and a cancel button.")
    created: bool | None = Field(
        None, description="On start: false when the same job was already under way and is returned instead."
    )
