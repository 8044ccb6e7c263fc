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
    "messages": _l("Messages sent"),
    "without_accounts": _l("Agencies without an account to remind"),
    "completed": _l("Agencies done"),
    "not_completed": _l("Agencies not done"),
    "no_systems": _l("No system in operation"),
}


def field_label(name: str) -> str:
    return str(SYSTEM_FIELD_LABELS.get(name) or AUDIT_KEY_LABELS.get(name, name))
