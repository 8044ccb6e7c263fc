"""What each role may do, in one place, as plain functions that views and services both call.

Views use them to hide menus and refuse requests early; services call :func:`ensure` again, so
an API call or a future entry point cannot skip a check a view happened to make.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from registry.auth.actor import Actor
from registry.choices import Role, SystemStatus, TokenScope
from registry.errors import PermissionDeniedError


class Permission(StrEnum):
    VIEW_PORTFOLIO = "view_portfolio"
    CREATE_SYSTEM = "create_system"
    EDIT_SYSTEM = "edit_system"
    REVIEW = "review"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_OWN_TOKENS = "manage_own_tokens"
    EXPORT = "export"
    """Taking the inventory out; submitters only their own agency's systems (see services.exports)."""
    IMPORT = "import"
    """Bringing an existing list in; submitters only into their own agency (see services.imports)."""
    REPORT_USAGE = "report_usage"
    """Filing usage reports and attesting the inventory; submitters only for their own agency."""
    MANAGE_ROUNDS = "manage_rounds"
    """Opening, reminding and closing reporting rounds: the standing office and administrators."""
    RUN_SCAN = "run_scan"
    """Scanning the whole portfolio from the web (what ``flask scan`` does on the server) and
    following every background job: the standing office, whose review queue the scan refills,
    and administrators. A scan rewrites every stored warning, so it is not a submitter's call."""


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.SUBMITTER: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.CREATE_SYSTEM,
            Permission.EDIT_SYSTEM,
            Permission.MANAGE_OWN_TOKENS,
            Permission.EXPORT,
            Permission.IMPORT,
            Permission.REPORT_USAGE,
        }
    ),
    Role.REVIEWER: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.REVIEW,
            Permission.MANAGE_OWN_TOKENS,
            Permission.EXPORT,
            Permission.MANAGE_ROUNDS,
            Permission.RUN_SCAN,
        }
    ),
    Role.AUDITOR: frozenset(
        {Permission.VIEW_PORTFOLIO, Permission.READ_AUDIT, Permission.MANAGE_OWN_TOKENS, Permission.EXPORT}
    ),
    # Admins run the registry (users, and later agencies, taxonomies, thresholds). They may
    # correct content too, but through the same services, so it is audited like anyone's.
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.CREATE_SYSTEM,
            Permission.EDIT_SYSTEM,
            Permission.READ_AUDIT,
            Permission.MANAGE_USERS,
            Permission.MANAGE_OWN_TOKENS,
            Permission.EXPORT,
            Permission.IMPORT,
            Permission.REPORT_USAGE,
            Permission.MANAGE_ROUNDS,
            Permission.RUN_SCAN,
        }
    ),
}

WRITE_PERMISSIONS = frozenset(
    {
        Permission.CREATE_SYSTEM,
        Permission.EDIT_SYSTEM,
        Permission.REVIEW,
        Permission.MANAGE_USERS,
        Permission.IMPORT,
        Permission.REPORT_USAGE,
        Permission.MANAGE_ROUNDS,
        Permission.RUN_SCAN,
    }
)
"""Permissions a read-only API token never carries, whatever its owner's role."""

SUBMITTER_EDITABLE = frozenset({SystemStatus.DRAFT, SystemStatus.SUBMITTED, SystemStatus.CHANGES_REQUESTED})
"""A submitter edits drafts and proposals still in their hands; once the standing office has
taken a proposal into review, or it is decided or deployed, its content is no longer theirs."""

RECORDING_STATUSES = frozenset({SystemStatus.DRAFT, SystemStatus.IN_OPERATION, SystemStatus.RETIRED})
"""Statuses an administrator may register a system with: a new draft, or an existing system
recorded as it is (in operation or retired). Every proposal starts as a draft."""


def allows(actor: Actor, permission: Permission) -> bool:
    if actor.is_operator:
        return True
    if actor.scope == TokenScope.READ and permission in WRITE_PERMISSIONS:
        return False
    return permission in ROLE_PERMISSIONS.get(actor.role or "", frozenset())


def can_edit_system(
    actor: Actor, owner_agency_id: int | None, status: str, *, attesting: bool = False
) -> bool:
    """Whether ``actor`` may change the content of a system owned by that agency, in that status.

    ``attesting``: the edit corrects the record while attesting the agency's inventory (see
    :func:`can_report_for`); then a submitter may also correct their agency's deployed systems,
    which are otherwise no longer in their hands.
    """
    if not allows(actor, Permission.EDIT_SYSTEM):
        return False
    if actor.role == Role.SUBMITTER:
        editable = SUBMITTER_EDITABLE | (ATTESTED_STATUSES if attesting else frozenset())
        return of_agency(actor, owner_agency_id) and status in editable
    return True


ATTESTED_STATUSES = frozenset({SystemStatus.IN_OPERATION})
"""Statuses of the systems an agency attests and reports usage for: deployed ones. Proposals are
still being decided, retired systems have no use left to measure."""


def can_report_for(actor: Actor, agency_id: int | None) -> bool:
    """Whether ``actor`` may attest and file usage for the systems that agency manages."""
    if not allows(actor, Permission.REPORT_USAGE):
        return False
    if actor.role == Role.SUBMITTER:
        return of_agency(actor, agency_id)
    return True


def may_read_review_outcomes(actor: Actor) -> bool:
    """Whether ``actor`` reads the standing office's decisions, the duplication warnings and the
    rule findings: every one of them, whichever agency's system they concern.

    One rule for every door (system page, review comparison, API, the decision-log and warnings
    exports): review outcomes are transparent inside the registry. The directives stop
    duplicate and unjustified systems by letting every agency see what was refused, what was
    found to duplicate what, and why; hiding another agency's decisions from a submitter would
    hide exactly what they must not build again. Only the inventory export keeps a submitter
    to their own agency's systems (:func:`registry.services.exports.restricted_agency`).
    """
    return allows(actor, Permission.VIEW_PORTFOLIO)


def of_agency(actor: Actor, agency_id: int | None) -> bool:
    return actor.agency_id is not None and agency_id == actor.agency_id


def settable_statuses(actor: Actor, current: str | None = None) -> frozenset[str]:
    """Statuses a save may carry. After creation, status changes only through the workflow
    (:mod:`registry.services.workflow`), except for the server's own operators (seed, imports)."""
    if actor.is_operator:
        return frozenset(SystemStatus)
    if current is not None:
        return frozenset({current})
    if actor.role == Role.ADMIN:
        return RECORDING_STATUSES
    return frozenset({SystemStatus.DRAFT})


def owner_agencies(actor: Actor) -> frozenset[int] | None:
    """The agencies the actor may register systems for; ``None`` means any agency."""
    if actor.role == Role.SUBMITTER:
        return frozenset({actor.agency_id}) if actor.agency_id is not None else frozenset()
    return None


def may_create_agencies(actor: Actor) -> bool:
    """Agencies named by an imported file but unknown here (another registry's bodies) may be
    added by administrators and the server's operators; a submitter's file must use known ones."""
    return actor.is_operator or (actor.role == Role.ADMIN and allows(actor, Permission.IMPORT))


def ensure(allowed: bool, message: object | None = None) -> None:
    if not allowed:
        raise PermissionDeniedError(message or _l("You are not allowed to do this."))
