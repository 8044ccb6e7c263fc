"""Human labels of system fields, shared by forms, the detail page and loader messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SYSTEM_FIELD_LABELS: dict[str, object] = {
    "code": _l("Public code"),
    "name": _l("Name"),
    "description": _l("Description"),
    "purpose": _l("Purpose"),
    "status": _l("Status"),
    "scope_level": _l("Scope level"),
    "is_shared_platform": _l("Shared platform"),
    "instance_of_id": _l("Deployment of shared platform"),
    "owner_agency_id": _l("Managing agency"),
    "operator_agency_id": _l("Operating agency"),
    "user_agency_ids": _l("User agencies"),
    "legal_basis": _l("Legal basis"),
    "mandate": _l("Task or requirement served"),
    "operating_rules_ref": _l("Operating rules (document reference)"),
    "operating_rules_date": _l("Operating rules issued on"),
    "usage_orientation": _l("Usage orientation"),
    "capability_ids": _l("Capabilities"),
    "data_domain_ids": _l("Data domains"),
    "hosting": _l("Hosting"),
    "security_level": _l("Security level"),
    "estimated_cost_vnd": _l("Estimated cost (VND)"),
    "funding_source": _l("Funding source"),
    "target_users": _l("Target users"),
    "active_users": _l("Active users"),
    "overlap_justification": _l("Justification of overlap"),
    "website_url": _l("Website"),
    "version": _l("Version"),
    "registered_year": _l("Year registered"),
}


AUDIT_KEY_LABELS: dict[str, object] = {
    # Audit snapshots name relations by code rather than by id.
    "owner_agency": SYSTEM_FIELD_LABELS["owner_agency_id"],
    "operator_agency": SYSTEM_FIELD_LABELS["operator_agency_id"],
    "user_agencies": SYSTEM_FIELD_LABELS["user_agency_ids"],
    "capabilities": SYSTEM_FIELD_LABELS["capability_ids"],
    "data_domains": SYSTEM_FIELD_LABELS["data_domain_ids"],
    "instance_of": SYSTEM_FIELD_LABELS["instance_of_id"],
    "external_id": _l("External id"),
    "source": _l("System"),
    "target": _l("Depends on"),
    "kind": _l("Kind"),
    "note": _l("Note"),
    "username": _l("Username"),
    "full_name": _l("Full name"),
    "role": _l("Role"),
    "agency": _l("Agency"),
    "is_active": _l("Active"),
    "password": _l("Password"),
    "scope": _l("Scope"),
    "prefix": _l("Starts with"),
    "expires_at": _l("Expires"),
    "user": _l("Account"),
    "period_start": _l("Period from"),
    "period_end": _l("Period to"),
    "transactions": _l("Transactions"),
    "cost_vnd": _l("Operating cost (VND)"),
    "round": _l("Reporting round"),
    "round_status": _l("Round status"),
    "outcome": _l("Outcome"),
    "title": _l("Title"),
    "deadline": _l("Deadline"),
    "agencies": _l("Agencies"),
    "reviewer": _l("Reviewer"),
    # Background jobs.
    "state": _l("Job state"),
    "error": _l("Why it failed"),
    "heartbeat_at": _l("Last sign of the worker"),
    "messages": _l("Messages sent"),
    "without_accounts": _l("Agencies without an account to remind"),
    "completed": _l("Agencies done"),
    "not_completed": _l("Agencies not done"),
    "no_systems": _l("No system in operation"),
    # Reviews and decisions.
    "reason": _l("Reason"),
    "reuse": _l("System to reuse instead"),
    "disposition": _l("Disposition"),
    "score": _l("Similarity score"),
    # Exports, imports, scans and the demo data: what was taken out or brought in.
    "format": _l("Format"),
    "filters": _l("Filters"),
    "filename": _l("File name"),
    "sha256": _l("File fingerprint (SHA-256)"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    "unchanged": _l("Unchanged"),
    "removed": _l("Removed"),
    "default_owner": _l("Default managing agency"),
    "defaulted": _l("Rows given the default agency"),
    "systems": _l("Systems"),
    "decisions": _l("Decisions"),
    "warnings": _l("Duplication warnings"),
    "events": _l("Events"),
    "pairs": _l("Pairs compared"),
    "min_score": _l("Lowest score kept"),
    "without_meaning": _l("Systems without a meaning vector"),
    "detector_version": _l("Detector version"),
    "megabytes": _l("Size (MB)"),
    "seconds": _l("Duration (seconds)"),
    "watermark": _l("Saves included up to"),
    "dependencies": _l("Dependencies"),
    "rounds": _l("Reporting rounds"),
    "usage_reports": _l("Usage reports"),
    "users": _l("Accounts"),
    "demo": _l("Demo account"),
    # The filters an export was taken with (the list page's query).
    "q": _l("Search"),
    "agency_role": _l("Agency's role"),
    "level": _l("Level"),
    "block": _l("Block"),
    "capability": _l("Capability"),
    "shared": _l("Shared platforms"),
    "severity": _l("Severity"),
    "sort": _l("Order"),
    "as_of": _l("As of"),
    "since": _l("From"),
    "until": _l("To"),
    "owner_agency_ids": _l("Managing agencies"),
}


EXPORT_COLUMN_LABELS: dict[str, object] = {
    # Columns of the exported tables that are not fields of a system (times are UTC there).
    "owner_agency_name": _l("Managing agency (name)"),
    "created_at": _l("Added to the registry (UTC)"),
    "updated_at": _l("Last updated (UTC)"),
    "decided_at": _l("Decided at (UTC)"),
    "flagged_at": _l("Raised at (UTC)"),
    "detected_at": _l("Detected at (UTC)"),
    "system": _l("System"),
    "system_code": _l("System"),
    "system_name": _l("System name"),
    "depends_on": _l("Depends on"),
    "action": _l("Decision"),
    "reuse_code": _l("System to reuse instead"),
    "reuse_instead": _l("System to reuse instead"),
    "decided_by": _l("Decided by"),
    "reviewer": _l("Decided by"),
    "system_a": _l("System A"),
    "system_a_name": _l("System A name"),
    "system_a_owner": _l("System A managing agency"),
    "system_b": _l("System B"),
    "system_b_name": _l("System B name"),
    "system_b_owner": _l("System B managing agency"),
    "relation": _l("Relation"),
    "components": _l("Score by signal"),
    "detector": _l("Detector version"),
    "rule": _l("Rule"),
}


def column_label(name: str) -> str:
    """The label of an exported column: a field's, an audit key's, or the column's own."""
    return str(
        EXPORT_COLUMN_LABELS.get(name) or SYSTEM_FIELD_LABELS.get(name) or AUDIT_KEY_LABELS.get(name, name)
    )


def has_label(name: str) -> bool:
    """Whether a field or audit key has a label: the audit trail refuses keys that lack one."""
    return name in SYSTEM_FIELD_LABELS or name in AUDIT_KEY_LABELS


def field_label(name: str) -> str:
    return str(SYSTEM_FIELD_LABELS.get(name) or AUDIT_KEY_LABELS.get(name, name))
